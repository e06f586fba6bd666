package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
	"github.com/octave-project/octave/octcore/weights"
)

func init() {
	register("classify", "print the top classes of images under a model", runClassify)
}

// maxImageBytes bounds the image files the commands read.
const maxImageBytes = 256 << 20

// readImageTensor reads the image at path and turns it into the model's
// input (imageio.Input: the model's resize and crop). A model that takes any
// size and states no resize gets the image scaled so that its longer side is
// anySize.
func readImageTensor(path string, in weights.InputSpec, anySize int) (*octcore.Tensor, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxImageBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d an image file may have", path, fi.Size(), maxImageBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, _, err := imageio.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	x, err := imageio.Input(img, in, imageio.Options{Longer: anySize})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return x, nil
}

// prediction is one class of a classification.
type prediction = octcore.Prediction

// classification is the result for one image.
type classification struct {
	Image string       `json:"image"`
	Top   []prediction `json:"top"`
}

// topK returns the k most probable classes, ties broken by index.

func runClassify(args []string, stdout io.Writer) error {
	fs := newFlags("classify", "--model FILE [--top K] [--size N] [--json] IMAGE...")
	model := fs.String("model", "", "model file (.safetensors)")
	top := fs.Int("top", 5, "number of classes to print per image")
	size := fs.Int("size", 224, "longer side to scale images to, for models that take any size")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return usagef("--model is required")
	}
	if fs.NArg() == 0 {
		return usagef("no images given")
	}
	if *top < 1 {
		return usagef("--top %d: want at least 1", *top)
	}
	if *size < 1 || *size > imageio.MaxSide {
		return usagef("--size %d outside 1..%d", *size, imageio.MaxSide)
	}
	m, net, err := loadNet(*model)
	if err != nil {
		return err
	}
	var results []classification
	for _, path := range fs.Args() {
		x, err := readImageTensor(path, m.Meta.Input, *size)
		if err != nil {
			return err
		}
		out, err := net.Run(x)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		r := classification{Image: path, Top: octcore.TopPredictions(octcore.Probabilities(m.Graph, out), m.Meta.Labels, *top)}
		if *asJSON {
			results = append(results, r)
			continue
		}
		fmt.Fprintln(stdout, path)
		for _, p := range r.Top {
			fmt.Fprintf(stdout, "  %6.2f%%  %s\n", 100*p.Probability, p.Label)
		}
	}
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", " ")
		return e.Encode(results)
	}
	return nil
}
