// Package testmodel writes untrained model files: an Oct-ResNet-mini with
// random (He-initialized) weights and Fashion-MNIST's labels and input. The
// tests use them, and so does the worker build before trained models exist;
// their predictions mean nothing, only their shapes do.
package testmodel

import (
	"bytes"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/weights"
)

// File returns the bytes of an int8 model file of oct-resnet-mini at alpha
// with random weights drawn from seed.
func File(alpha float64, seed int64) ([]byte, error) {
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: alpha})
	if err != nil {
		return nil, err
	}
	m := &weights.Model{Graph: g, Params: octcore.RandomParams(g, seed), Meta: weights.Metadata{
		Name:   "oct-resnet-mini with random weights (untrained)",
		Labels: dataset.FashionClasses,
		Input:  weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.2860}, Std: []float32{0.3530}},
		Provenance: map[string]string{
			"architecture": "oct-resnet-mini",
			"dataset":      "none: random weights for tests",
		},
	}}
	var b bytes.Buffer
	if err := weights.Write(&b, m, weights.WriteOptions{DType: "int8"}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
