package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

func init() {
	register("info", "print a model file's graph, cost and provenance", runInfo)
}

// maxModelBytes bounds the model files the commands read.
const maxModelBytes = 2 << 30

// loadModel reads and checks the model file at path.
func loadModel(path string) (*weights.Model, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a model file", path)
	}
	if fi.Size() > maxModelBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a model file may have", path, fi.Size(), maxModelBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := weights.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// loadNet reads the model file at path and builds its network.
func loadNet(path string) (*weights.Model, *octcore.Net, error) {
	m, err := loadModel(path)
	if err != nil {
		return nil, nil, err
	}
	net, err := m.Build()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, net, nil
}

// costSize returns the input size at which to count a model's cost: its own,
// or 224x224 for a model that takes any size.
func costSize(m *weights.Model) (h, w int, fixed bool) {
	if m.Meta.Input.Height > 0 {
		return m.Meta.Input.Height, m.Meta.Input.Width, true
	}
	return 224, 224, false
}

func runInfo(args []string, stdout io.Writer) error {
	fs := newFlags("info", "[--json] FILE")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one model file, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	m, err := loadModel(path)
	if err != nil {
		return err
	}
	// weights.Describe is what the server and the wasm module report too.
	d, costErr := weights.Describe(m)
	if d == nil {
		return fmt.Errorf("%s: %v", path, costErr)
	}
	h, w, fixed := d.CostSize[0], d.CostSize[1], d.FixedSize
	if costErr != nil && fixed {
		return fmt.Errorf("%s: the graph does not run at its input size %dx%d: %v", path, h, w, costErr)
	}
	cost := d.Cost
	if *asJSON {
		out := struct {
			File       string            `json:"file"`
			Name       string            `json:"name"`
			Format     string            `json:"format"`
			Input      weights.InputSpec `json:"input"`
			Labels     []string          `json:"labels"`
			Provenance map[string]string `json:"provenance"`
			DataSHA256 string            `json:"data_sha256"`
			Graph      octcore.Graph     `json:"graph"`
			CostSize   [2]int            `json:"cost_size"`
			Cost       octcore.Cost      `json:"cost"`
			// ParamsFolded counts the parameters with BatchNorm folded.
			ParamsFolded int64 `json:"params_folded"`
		}{path, m.Meta.Name, m.Meta.Format, m.Meta.Input, m.Meta.Labels, m.Meta.Provenance, m.Meta.DataSHA256, m.Graph, [2]int{h, w}, cost, d.ParamsFolded}
		e := json.NewEncoder(stdout)
		e.SetIndent("", " ")
		return e.Encode(out)
	}
	name := m.Meta.Name
	if name == "" {
		name = "(unnamed)"
	}
	in := m.Meta.Input
	fmt.Fprintf(stdout, "model:   %s\n", name)
	fmt.Fprintf(stdout, "file:    %s (%s)\n", path, m.Meta.Format)
	if m.Meta.DataSHA256 != "" {
		fmt.Fprintf(stdout, "data:    sha256 %s (verified)\n", m.Meta.DataSHA256)
	} else {
		fmt.Fprintln(stdout, "data:    no data_sha256 recorded (integrity not checked)")
	}
	size := "any size"
	if fixed {
		size = fmt.Sprintf("%dx%d", in.Height, in.Width)
	}
	fmt.Fprintf(stdout, "input:   %d channel(s), %s, mean %v, std %v\n", in.Channels, size, in.Mean, in.Std)
	if len(m.Meta.Labels) > 0 {
		fmt.Fprintf(stdout, "labels:  %d: %s\n", len(m.Meta.Labels), strings.Join(m.Meta.Labels, ", "))
	}
	fmt.Fprintln(stdout, "\nprovenance:")
	if len(m.Meta.Provenance) == 0 {
		fmt.Fprintln(stdout, "  (none recorded)")
	}
	keys := make([]string, 0, len(m.Meta.Provenance))
	for k := range m.Meta.Provenance {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k, m.Meta.Provenance[k])
	}
	tw.Flush()

	fmt.Fprintf(stdout, "\ngraph: %d layers\n", len(m.Graph))
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tname\tkind\tinputs\tin→out\tkernel/stride/pad\tgroups\talpha in→out\tbias/bn\tact\tadd")
	for i, l := range m.Graph {
		inputs := "prev"
		if len(l.Inputs) > 0 {
			inputs = strings.Join(l.Inputs, ",")
		}
		if i == 0 {
			inputs = "-"
		}
		inout, ksp, groups, alpha, bb := "-", "-", "-", "-", "-"
		switch l.Kind {
		case "conv", "octconv", "linear", "input":
			inout = fmt.Sprintf("%d→%d", l.In, l.Out)
			if l.Kind == "input" {
				inout = fmt.Sprint(l.Out)
			}
		}
		switch l.Kind {
		case "conv", "octconv", "maxpool", "avgpool":
			ksp = fmt.Sprintf("%d/%d/%d", orOne(l.Kernel), orOne(l.Stride), l.Pad)
		}
		if l.Kind == "conv" || l.Kind == "octconv" {
			groups = fmt.Sprint(orOne(l.Groups))
			var parts []string
			if l.Bias {
				parts = append(parts, "bias")
			}
			if l.BN {
				parts = append(parts, "bn")
			}
			if len(parts) > 0 {
				bb = strings.Join(parts, "+")
			}
		}
		if l.Kind == "octconv" || (l.Kind == "input" && l.AlphaOut > 0) {
			alpha = fmt.Sprintf("%g→%g", l.AlphaIn, l.AlphaOut)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i, l.Name, l.Kind, inputs, inout, ksp, groups, alpha, bb,
			dash(l.Act), dash(l.Add))
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	title := fmt.Sprintf("cost at %dx%d", h, w)
	if !fixed {
		title += " (the model takes any size; 224x224 shown)"
	}
	if costErr != nil {
		fmt.Fprintf(stdout, "cost: the graph does not run at %dx%d: %v\n", h, w, costErr)
		return nil
	}
	printCost(stdout, title, cost)
	return nil
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
