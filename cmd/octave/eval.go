package main

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"slices"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/imageio"
)

func init() {
	register("eval", "measure a model's accuracy on a test set (mnist, fashion-mnist)", runEval)
}

func runEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval", "--model FILE --dataset fashion-mnist|mnist [--json]")
	model := fs.String("model", "", "model file (.safetensors)")
	set := fs.String("dataset", "", fmt.Sprintf("test set: one of %v", dataset.Names()))
	asJSON := fs.Bool("json", false, `print {"accuracy":A,"n":N}`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return usagef("--model is required")
	}
	if !slices.Contains(dataset.Names(), *set) {
		return usagef("--dataset %q: want one of %v", *set, dataset.Names())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %v", fs.Args())
	}
	m, net, err := loadNet(*model)
	if err != nil {
		return err
	}
	ds, err := dataset.Load(*set, "test")
	if err != nil {
		return err
	}
	if n, err := m.OutputSize(ds.Rows, ds.Cols); err != nil {
		return fmt.Errorf("%s: %v", *model, err)
	} else if n != len(ds.ClassNames) {
		return fmt.Errorf("%s outputs %d values, %s has %d classes", *model, n, *set, len(ds.ClassNames))
	}
	in := m.Meta.Input
	correct := 0
	for i := 0; i < ds.Len(); i++ {
		// The same path as an image file: grey pixels in [0, 1], resized to
		// the model's input when it differs, normalized.
		img := &image.Gray{Pix: ds.Image(i), Stride: ds.Cols, Rect: image.Rect(0, 0, ds.Cols, ds.Rows)}
		x, err := imageio.Input(img, in, imageio.Options{})
		if err != nil {
			return fmt.Errorf("%s image %d: %v", *set, i, err)
		}
		out, err := net.Run(x)
		if err != nil {
			return fmt.Errorf("%s image %d: %v", *set, i, err)
		}
		if best := octcore.TopK(octcore.Probabilities(m.Graph, out), 1); len(best) == 1 && best[0] == int(ds.Labels[i]) {
			correct++
		}
	}
	n := ds.Len()
	if n == 0 {
		return fmt.Errorf("the %s test set is empty", *set)
	}
	acc := float64(correct) / float64(n)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Accuracy float64 `json:"accuracy"`
			N        int     `json:"n"`
		}{acc, n})
	}
	fmt.Fprintf(stdout, "%s test set: accuracy %.4f (%d of %d)\n", *set, acc, correct, n)
	return nil
}
