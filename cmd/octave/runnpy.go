package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/octave-project/octave/internal/npy"
	"github.com/octave-project/octave/octcore"
)

func init() {
	register("run", "run a model on a tensor (.npy) and save its outputs (.npz)", runRun)
}

// readNPY reads a float32 .npy file of shape NCHW (or CHW, a batch of one).
func readNPY(path, flag string) (shape [4]int, data []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return shape, nil, err
	}
	defer f.Close()
	s, data, err := npy.Read(bufio.NewReader(f))
	if err != nil {
		return shape, nil, fmt.Errorf("%s %s: %v", flag, path, err)
	}
	switch len(s) {
	case 3:
		shape = [4]int{1, s[0], s[1], s[2]}
	case 4:
		shape = [4]int{s[0], s[1], s[2], s[3]}
	default:
		return shape, nil, fmt.Errorf("%s %s: shape %v, want N x C x H x W (or C x H x W)", flag, path, s)
	}
	if shape[0] == 0 || shape[1] == 0 || shape[2] == 0 || shape[3] == 0 {
		return shape, nil, fmt.Errorf("%s %s: shape %v is empty", flag, path, s)
	}
	return shape, data, nil
}

func runRun(args []string, stdout io.Writer) error {
	fs := newFlags("run", "--model MODEL --input x.npy [--input-low low.npy] [--layers a,b] -o out.npz")
	model := fs.String("model", "", "model file (.safetensors)")
	input := fs.String("input", "", "input tensor: float32 .npy, N x C x H x W, already normalized (the high part for a model taking both octaves)")
	inputLow := fs.String("input-low", "", "low-frequency input part: float32 .npy, N x CL x ceil(H/2) x ceil(W/2), for a model whose input layer has alpha_out > 0")
	layers := fs.String("layers", "", "comma-separated layer names whose outputs to save as NAME.high and NAME.low")
	out := fs.String("o", "", "output .npz: output (the final layer's, before any softmax) and the requested layers")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected arguments %v", pos)
	}
	if *model == "" || *input == "" || *out == "" {
		return usagef("--model, --input and -o are required")
	}
	m, net, err := loadNet(*model)
	if err != nil {
		return err
	}
	g := m.Graph
	cH, cL := octcore.Split(g[0].Out, g[0].AlphaOut)
	shape, data, err := readNPY(*input, "--input")
	if err != nil {
		return err
	}
	if shape[1] != cH {
		what := fmt.Sprintf("%d input channels", cH)
		if cL > 0 {
			what = fmt.Sprintf("a high input part of %d channels (%s)", cH, octcore.SplitNote(g[0].Out, g[0].AlphaOut))
		}
		return fmt.Errorf("--input %s has %d channels, %s expects %s", *input, shape[1], *model, what)
	}
	var lowShape [4]int
	var low []float32
	switch {
	case cL > 0 && *inputLow == "":
		return fmt.Errorf("%s takes both octaves: give --input-low with %d channels (%s)", *model, cL, octcore.SplitNote(g[0].Out, g[0].AlphaOut))
	case cL == 0 && *inputLow != "":
		return fmt.Errorf("--input-low: %s takes no low input part (its input layer has alpha_out 0)", *model)
	case cL > 0:
		if lowShape, low, err = readNPY(*inputLow, "--input-low"); err != nil {
			return err
		}
		want := [4]int{shape[0], cL, (shape[2] + 1) / 2, (shape[3] + 1) / 2}
		if lowShape != want {
			return fmt.Errorf("--input-low %s has shape %v, a %v high part needs %v", *inputLow, lowShape, shape, want)
		}
	}
	// The output: the last layer's, or the one before a final softmax.
	outName := g[len(g)-1].Name
	if g[len(g)-1].Kind == "softmax" && len(g) > 1 {
		outName = g[len(g)-2].Name
	}
	var names []string
	if *layers != "" {
		known := map[string]bool{}
		for _, l := range g {
			known[l.Name] = true
		}
		for _, n := range strings.Split(*layers, ",") {
			n = strings.TrimSpace(n)
			if !known[n] {
				return fmt.Errorf("--layers: %s has no layer %q", *model, n)
			}
			names = append(names, n)
		}
	}
	batch := shape[0]
	per := shape[1] * shape[2] * shape[3]
	lowPer := lowShape[1] * lowShape[2] * lowShape[3]
	arrays := map[string]*npy.Array{}
	order := []string{"output"}
	add := func(name string, t *octcore.Tensor, b int) {
		a, ok := arrays[name]
		if !ok {
			a = &npy.Array{Name: name, Shape: []int{batch, t.C, t.H, t.W}}
			arrays[name] = a
			if name != "output" {
				order = append(order, name)
			}
		}
		a.Data = append(a.Data, t.Data...)
	}
	for b := 0; b < batch; b++ {
		x := octcore.Feature{H: &octcore.Tensor{C: shape[1], H: shape[2], W: shape[3], Data: data[b*per : (b+1)*per]}}
		if cL > 0 {
			x.L = &octcore.Tensor{C: lowShape[1], H: lowShape[2], W: lowShape[3], Data: low[b*lowPer : (b+1)*lowPer]}
		}
		if _, err := net.RunFeature(x); err != nil {
			return fmt.Errorf("--input %s item %d: %v", *input, b, err)
		}
		o, err := net.Output(outName)
		if err != nil {
			return err
		}
		// The output flattened as linear does: the high part, then the low part.
		var vals []float32
		for _, t := range []*octcore.Tensor{o.H, o.L} {
			if t != nil {
				vals = append(vals, t.Data...)
			}
		}
		add("output", &octcore.Tensor{C: len(vals), H: 1, W: 1, Data: vals}, b)
		for _, n := range names {
			f, err := net.Output(n)
			if err != nil {
				return err
			}
			if f.H != nil {
				add(n+".high", f.H, b)
			}
			if f.L != nil {
				add(n+".low", f.L, b)
			}
		}
	}
	list := make([]npy.Array, 0, len(order))
	for _, n := range order {
		a := *arrays[n]
		if n == "output" {
			a.Shape = []int{batch, a.Shape[1]}
		}
		list = append(list, a)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := npy.WriteNPZ(w, list); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d input(s) %dx%dx%d -> %s (%s)\n", *model, batch, shape[1], shape[2], shape[3], *out, strings.Join(order, ", "))
	return nil
}
