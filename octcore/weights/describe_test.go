package weights

import (
	"reflect"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// TestDescribe checks Describe against independent counts: the cost of the
// stored graph (what octave info and the server report), the cost of the
// graph FoldBN really produces and the cost of the built network (what the
// wasm module reported before it used Describe).
func TestDescribe(t *testing.T) {
	m := miniModel(t, 1)
	m.Meta.Input = DefaultInput(m.Graph)
	d, err := Describe(m)
	if err != nil {
		t.Fatal(err)
	}
	if d.FixedSize || d.CostSize != [2]int{DefaultCostSide, DefaultCostSide} {
		t.Errorf("free-size model: CostSize %v fixed %v, want %dx%d not fixed", d.CostSize, d.FixedSize, DefaultCostSide, DefaultCostSide)
	}
	h, w := d.CostSize[0], d.CostSize[1]
	want, err := octcore.CostOf(m.Graph, h, w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Cost, want) {
		t.Errorf("Cost differs from CostOf of the stored graph")
	}
	fg, _, err := FoldBN(m.Graph, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := octcore.CostOf(fg, h, w)
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Cost(h, w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Cost, nc) {
		t.Errorf("Cost differs from the built network's Cost: params %d, net %d", d.Cost.Params, nc.Params)
	}
	if d.ParamsFolded != fc.Params {
		t.Errorf("ParamsFolded %d, FoldBN graph %d", d.ParamsFolded, fc.Params)
	}
	if d.ParamsFolded >= d.Cost.Params {
		t.Errorf("miniModel has BatchNorm: folded %d should be below %d", d.ParamsFolded, d.Cost.Params)
	}
	if d.Outputs != int(want.Layers[len(want.Layers)-1].Activations) || d.Labels == nil || d.Provenance == nil {
		t.Errorf("Outputs %d, labels %v, provenance %v", d.Outputs, d.Labels, d.Provenance)
	}

	// A fixed-size model is counted at its own size.
	m.Meta.Input.Height, m.Meta.Input.Width = 12, 10
	if d, err = Describe(m); err != nil || !d.FixedSize || d.CostSize != [2]int{12, 10} {
		t.Errorf("fixed 12x10: %v, %v", d, err)
	}
}
