package octcore

import (
	"slices"
	"testing"
)

// TestSpecLayers checks each compiled conv and octconv layer of every
// architecture against its layer entry: the octave split is Split of its
// channels, its paths' weight names are exactly the weight tensors
// ParamSpecs lists for that layer, and Inputs resolve to the named layers.
// Changing the returned layers does not change the spec.
func TestSpecLayers(t *testing.T) {
	for _, name := range ArchNames() {
		for _, a := range []float64{0, 0.5} {
			g, err := Arch(name, ArchOptions{Alpha: a})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Compile(g)
			if err != nil {
				t.Fatal(err)
			}
			weightsOf := map[int][]string{}
			for _, p := range s.Params {
				if p.Role == "weight" && len(p.Shape) == 4 {
					weightsOf[p.Layer] = append(weightsOf[p.Layer], p.Name)
				}
			}
			ls := s.Layers()
			if len(ls) != len(g) {
				t.Fatalf("%s: %d layers, graph has %d", name, len(ls), len(g))
			}
			for i, l := range ls {
				if l.Name != g[i].Name || l.Kind != g[i].Kind {
					t.Fatalf("%s layer %d: %s %s, want %s %s", name, i, l.Name, l.Kind, g[i].Name, g[i].Kind)
				}
				want := g[i].Inputs
				if len(want) == 0 && i > 0 {
					want = []string{g[i-1].Name}
				}
				for k, j := range l.InputIndex {
					if g[j].Name != want[k] {
						t.Errorf("%s layer %q: input %d is layer %q, want %q", name, l.Name, k, g[j].Name, want[k])
					}
				}
				if l.Kind != "conv" && l.Kind != "octconv" {
					continue
				}
				hi, lo := Split(l.In, l.AlphaIn)
				ho, lo2 := Split(l.Out, l.AlphaOut)
				if [4]int{l.InHigh, l.InLow, l.OutHigh, l.OutLow} != [4]int{hi, lo, ho, lo2} {
					t.Errorf("%s layer %q: split %d+%d -> %d+%d, want %d+%d -> %d+%d", name, l.Name,
						l.InHigh, l.InLow, l.OutHigh, l.OutLow, hi, lo, ho, lo2)
				}
				var names []string
				for _, p := range l.Paths {
					if l.Kind == "conv" {
						names = append(names, l.Name+".weight")
					} else {
						names = append(names, p.Weight(l.Name))
					}
				}
				if !slices.Equal(names, weightsOf[i]) {
					t.Errorf("%s layer %q: paths %v, ParamSpecs lists %v", name, l.Name, names, weightsOf[i])
				}
			}
			ls[1].Name, ls[1].InputIndex[0] = "changed", 99
			if again := s.Layers(); again[1].Name != g[1].Name || again[1].InputIndex[0] != 0 {
				t.Errorf("%s: changing Layers() changed the spec", name)
			}
		}
	}
}
