package octcore_test

import (
	"fmt"

	"github.com/octave-project/octave/octcore"
)

// Compile checks a graph once and lists the parameter tensors it needs; its
// Cost gives shapes, parameters and multiply-adds for one input size.
func ExampleCompile() {
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 3},
		{Name: "stem", Kind: "conv", In: 3, Out: 8, Kernel: 3, Pad: 1, Bias: true, Act: "relu"},
		{Name: "oct", Kind: "octconv", In: 8, Out: 8, Kernel: 3, Pad: 1, AlphaOut: 0.5},
	}
	s, err := octcore.Compile(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range s.Params {
		fmt.Println(p.Name, p.Shape)
	}
	c, err := s.Cost(8, 8)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Layers[2].Out, c.Params, "params")
	// Output:
	// stem.weight [8 3 3 3]
	// stem.bias [8]
	// oct.hh.weight [4 8 3 3]
	// oct.hl.weight [4 8 3 3]
	// H 4x8x8 + L 4x4x4 800 params
}
