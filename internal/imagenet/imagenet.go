// Package imagenet holds the names of the 1000 ImageNet (ILSVRC-2012)
// classes in the order of the usual class indices 0..999, as PyTorch models
// trained on ImageNet output them.
//
// classes.txt was extracted from Debian's python3-torchvision 0.14.1-2
// (torchvision/models/_meta.py, the list _IMAGENET_CATEGORIES), one name a
// line: `apt-get download python3-torchvision`, `dpkg-deb -x`, and the list
// read with Python's ast.literal_eval.
package imagenet

import (
	_ "embed"
	"strings"
)

//go:embed classes.txt
var classes string

// Classes returns the 1000 class names, index i being class i.
func Classes() []string {
	return strings.Split(strings.TrimSuffix(classes, "\n"), "\n")
}
