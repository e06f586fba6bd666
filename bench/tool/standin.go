package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// standin writes a stand-in for the demo's default model
// (fashion-oct-a500.safetensors): the same architecture and file layout
// (oct-resnet-mini, alpha 0.5, int8), random weights. It lets the first-load
// measurement run before the trained models exist; the bytes are those of
// the real file up to the metadata's provenance.
func standin(args []string) error {
	fs := flag.NewFlagSet("standin", flag.ExitOnError)
	out := fs.String("out", "bench/work/standin-models", "directory to write fashion-oct-a500.safetensors into")
	fs.Parse(args)
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
	if err != nil {
		return err
	}
	m := &weights.Model{Graph: g, Params: randomParams(g, 3), Meta: weights.Metadata{
		Name:   "oct-resnet-mini alpha 0.5 (bench stand-in, random weights)",
		Labels: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
		Input: weights.InputSpec{Channels: 1, Height: 28, Width: 28,
			Mean: []float32{0.2860}, Std: []float32{0.3530}},
		Provenance: map[string]string{"dataset": "fashion-mnist", "note": "bench stand-in with random weights"},
	}}
	var b bytes.Buffer
	if err := weights.Write(&b, m, weights.WriteOptions{}); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, "fashion-oct-a500.safetensors"), b.Bytes(), 0o644)
}
