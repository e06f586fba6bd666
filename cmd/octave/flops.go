package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/octave-project/octave/octcore"
)

func init() {
	register("flops", "count parameters, multiply-adds and activations of an architecture", runFlops)
}

func runFlops(args []string, stdout io.Writer) error {
	fs := newFlags("flops", "--arch ARCH [--alpha A] [--size S] [--width W] [--classes N] [--json]")
	arch := fs.String("arch", "", fmt.Sprintf("architecture: one of %v", octcore.ArchNames()))
	alpha := fs.Float64("alpha", 0, "ratio of low-frequency channels, in [0, 1]")
	size := fs.Int("size", 0, "input height and width (default: 224, 28 for oct-resnet-mini)")
	width := fs.Float64("width", 1, "width multiplier")
	classes := fs.Int("classes", 0, "classifier outputs (default: the architecture's)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *arch == "" {
		return usagef("--arch is required (one of %v)", octcore.ArchNames())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %v", fs.Args())
	}
	g, err := octcore.Arch(*arch, octcore.ArchOptions{Alpha: *alpha, Width: *width, Classes: *classes})
	if err != nil {
		return usageError{err.Error()}
	}
	if *size == 0 {
		*size = 224
		if *arch == "oct-resnet-mini" {
			*size = 28
		}
	}
	if *size < 1 || *size > 8192 {
		return usagef("--size %d outside 1..8192", *size)
	}
	c, err := octcore.CostOf(g, *size, *size)
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			Arch  string  `json:"arch"`
			Alpha float64 `json:"alpha"`
			Width float64 `json:"width"`
			Size  int     `json:"size"`
			octcore.Cost
		}{*arch, *alpha, *width, *size, c}
		e := json.NewEncoder(stdout)
		e.SetIndent("", " ")
		return e.Encode(out)
	}
	printCost(stdout, fmt.Sprintf("%s alpha %g width %g at %dx%d", *arch, *alpha, *width, *size, *size), c)
	return nil
}

// printCost prints a per-layer cost table and the totals.
func printCost(w io.Writer, title string, c octcore.Cost) {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tkind\talpha in\talpha out\thigh\tlow\tparams\tMACs\tH→H\tH→L\tL→H\tL→L\t")
	for _, l := range c.Layers {
		low := "-"
		if l.OutLow != nil {
			low = fmt.Sprintf("%dx%dx%d", l.OutLow[0], l.OutLow[1], l.OutLow[2])
		}
		fmt.Fprintf(tw, "%s\t%s\t%g\t%g\t%dx%dx%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", l.Name, l.Kind, l.AlphaIn, l.AlphaOut,
			l.OutHigh[0], l.OutHigh[1], l.OutHigh[2], low, l.Params, human(l.MACs), human(l.HH), human(l.HL), human(l.LH), human(l.LL))
	}
	tw.Flush()
	fmt.Fprintf(w, "total: %d params (%.3fM), %d MACs (%s), %d activations\n", c.Params, float64(c.Params)/1e6, c.MACs, human(c.MACs), c.Activations)
}

// human prints a count with a G/M/K suffix.
func human(n int64) string {
	switch {
	case n == 0:
		return "-"
	case n >= 1e9:
		return fmt.Sprintf("%.3fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.3fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
