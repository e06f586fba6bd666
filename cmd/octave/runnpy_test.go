package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/octave-project/octave/internal/npy"
	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

func writeNPY(t *testing.T, dir, name string, shape []int, data []float32) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := npy.Write(f, shape, data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunNPY runs linearModel (input -> gap -> fc -> softmax) on a batch of
// two uniform inputs: output holds the logits before the softmax, [x, -x, 0.5]
// for an input of all x, and --layers gap its per-image mean.
func TestRunNPY(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "lin.safetensors", linearModel(), "float32")
	x := make([]float32, 2*1*4*5)
	for i := range x {
		x[i] = 1.5
		if i >= 20 {
			x[i] = -0.25
		}
	}
	in := writeNPY(t, dir, "x.npy", []int{2, 1, 4, 5}, x)
	out := filepath.Join(dir, "out.npz")
	if st, _, stderr := runCmd("run", "--model", model, "--input", in, "--layers", "gap", "-o", out); st != 0 {
		t.Fatalf("status %d: %s", st, stderr)
	}
	arrays, err := npy.ReadNPZ(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]npy.Array{}
	for _, a := range arrays {
		got[a.Name] = a
	}
	o := got["output"]
	want := []float32{1.5, -1.5, 0.5, -0.25, 0.25, 0.5}
	if len(o.Shape) != 2 || o.Shape[0] != 2 || o.Shape[1] != 3 || !close32(o.Data, want, 1e-6) {
		t.Errorf("output %v %v, want [2 3] %v", o.Shape, o.Data, want)
	}
	g := got["gap.high"]
	if len(g.Shape) != 4 || g.Shape[0] != 2 || !close32(g.Data, []float32{1.5, -0.25}, 1e-6) {
		t.Errorf("gap.high %v %v, want [2 1 1 1] [1.5 -0.25]", g.Shape, g.Data)
	}
	if _, ok := got["gap.low"]; ok {
		t.Errorf("gap.low saved for a layer without a low part")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--layers", "nope"}, `no layer "nope"`},
		{[]string{"--input-low", in}, "takes no low input part"},
	} {
		args := append([]string{"run", "--model", model, "--input", in, "-o", out}, c.args...)
		if st, _, stderr := runCmd(args...); st != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, %q; want 1 and %q", c.args, st, stderr, c.want)
		}
	}
	three := writeNPY(t, dir, "x3.npy", []int{1, 3, 4, 5}, make([]float32, 60))
	if st, _, stderr := runCmd("run", "--model", model, "--input", three, "-o", out); st != 1 || !strings.Contains(stderr, "has 3 channels") {
		t.Errorf("a 3-channel input into a 1-channel model: status %d, %q", st, stderr)
	}
}

// TestRunBothOctaves runs a model whose input layer takes both octaves
// (alpha_out 0.5 of 4 channels): gap averages the high channels, then the
// low ones, and fc picks high channel 0 and low channel 1.
func TestRunBothOctaves(t *testing.T) {
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 4, AlphaOut: 0.5},
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 4, Out: 2},
	}
	p := octcore.Params{
		"fc.weight": {Shape: []int{2, 4}, Data: []float32{1, 0, 0, 0, 0, 0, 0, 1}},
		"fc.bias":   {Shape: []int{2}, Data: []float32{0, 10}},
	}
	dir := t.TempDir()
	model := writeModel(t, dir, "oct.safetensors", &weights.Model{Graph: g, Params: p}, "float32")
	hi := make([]float32, 2*5*3)
	for i := range hi {
		hi[i] = float32(i / 15) // channel 0: 0, channel 1: 1
	}
	lo := make([]float32, 2*3*2)
	for i := range lo {
		lo[i] = 2 + float32(i/6) // channel 0: 2, channel 1: 3
	}
	in := writeNPY(t, dir, "h.npy", []int{1, 2, 5, 3}, hi)
	low := writeNPY(t, dir, "l.npy", []int{1, 2, 3, 2}, lo)
	out := filepath.Join(dir, "o.npz")
	if st, _, stderr := runCmd("run", "--model", model, "--input", in, "--input-low", low, "--layers", "input", "-o", out); st != 0 {
		t.Fatalf("status %d: %s", st, stderr)
	}
	arrays, err := npy.ReadNPZ(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arrays {
		switch a.Name {
		case "output":
			if !close32(a.Data, []float32{0, 13}, 1e-6) {
				t.Errorf("output %v, want [0 13]", a.Data)
			}
		case "input.low":
			if len(a.Shape) != 4 || a.Shape[1] != 2 || a.Shape[2] != 3 || a.Shape[3] != 2 {
				t.Errorf("input.low shape %v", a.Shape)
			}
		}
	}
	if st, _, stderr := runCmd("run", "--model", model, "--input", in, "-o", out); st != 1 || !strings.Contains(stderr, "--input-low with 2 channels") {
		t.Errorf("no --input-low: status %d, %q", st, stderr)
	}
	bad := writeNPY(t, dir, "bad.npy", []int{1, 2, 2, 2}, make([]float32, 8))
	if st, _, stderr := runCmd("run", "--model", model, "--input", in, "--input-low", bad, "-o", out); st != 1 || !strings.Contains(stderr, "needs [1 2 3 2]") {
		t.Errorf("a 2x2 low part for a 5x3 high part: status %d, %q", st, stderr)
	}
}

func close32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if d > tol || d < -tol {
			return false
		}
	}
	return true
}
