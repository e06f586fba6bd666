package weights

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// TestArchGraphs checks that the graph of every architecture, at several
// alphas, survives the metadata's JSON unchanged: a file rebuilds any of them
// with no code change.
func TestArchGraphs(t *testing.T) {
	for _, name := range octcore.ArchNames() {
		for _, a := range []float64{0, 0.125, 0.25, 0.375, 0.5, 0.75} {
			g, err := octcore.Arch(name, octcore.ArchOptions{Alpha: a})
			if err != nil {
				t.Fatal(err)
			}
			s, err := jsonString(g)
			if err != nil {
				t.Fatal(err)
			}
			var back octcore.Graph
			if err := strictJSON(s, &back); err != nil {
				t.Fatalf("%s alpha %v: %v", name, a, err)
			}
			if !reflect.DeepEqual(back, g) {
				t.Errorf("%s alpha %v: graph changed through JSON", name, a)
			}
		}
	}
}

// TestFoldBNDepthwise folds a MobileNet v2 (depthwise octconvs, whose high
// and low filters are separate tensors) and compares it with the original,
// whose BatchNorm the engine applies itself; then writes it as int8 and
// loads it back into a network that runs.
func TestFoldBNDepthwise(t *testing.T) {
	g, err := octcore.Arch("oct-mobilenetv2", octcore.ArchOptions{Alpha: 0.5, Width: 0.35, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Graph: g, Params: octcore.RandomParams(g, 9)}
	specs, _ := octcore.ParamSpecs(g)
	for k, s := range specs {
		for i, d := 0, m.Params[s.Name].Data; i < len(d); i++ {
			switch s.Role {
			case "bn.weight", "bn.running_var":
				d[i] = float32(0.6 + 0.05*float64((i+k)%7))
			case "bn.bias", "bn.running_mean":
				d[i] = float32(0.01 * float64((i*3+k)%11-5))
			}
		}
	}
	fg, fp, err := FoldBN(g, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(10, 3, 32, 32)
	a := run(t, m, x)
	b := run(t, &Model{Graph: fg, Params: fp}, x)
	scale := 0.0
	for _, v := range a {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > 1e-4*(1+scale) {
			t.Errorf("output %d: folded %v, original %v", i, b[i], a[i])
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, m, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	y := run(t, got, x)
	for i, v := range y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("int8 output %d is %v", i, v)
		}
	}
}

// ExampleWrite writes a one-layer model as int8 and loads it back.
func ExampleWrite() {
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 1},
		{Name: "c", Kind: "conv", In: 1, Out: 2, Bias: true},
	}
	m := &Model{Graph: g, Params: octcore.Params{
		"c.weight": {Shape: []int{2, 1, 1, 1}, Data: []float32{0.5, -2}},
		"c.bias":   {Shape: []int{2}, Data: []float32{0, 1}},
	}, Meta: Metadata{Name: "example", Provenance: map[string]string{"dataset": "none"}}}
	var buf bytes.Buffer
	if err := Write(&buf, m, WriteOptions{DType: "int8"}); err != nil {
		panic(err)
	}
	back, err := Load(buf.Bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Meta.Name, back.Meta.Format, back.Meta.Provenance["dataset"])
	fmt.Println(back.Params["c.weight"].Data, back.Params["c.bias"].Data)
	// Output:
	// example octave/1 none
	// [0.5 -2] [0 1]
}
