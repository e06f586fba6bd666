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

// A compiled graph builds as many networks as there are parameter sets,
// without checking the graph again. Here a 3x3 box filter (weights 1) runs on
// a 4x4 impulse: every output pixel counts the impulses within its reach.
func ExampleSpec_Build() {
	s, err := octcore.Compile(octcore.Graph{
		{Name: "input", Kind: "input", Out: 1},
		{Name: "box", Kind: "conv", In: 1, Out: 1, Kernel: 3, Pad: 1},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	w := &octcore.Param{Shape: s.Params[0].Shape, Data: make([]float32, 9)} // [1 1 3 3]
	for i := range w.Data {
		w.Data[i] = 1
	}
	net, err := s.Build(octcore.Params{"box.weight": w})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := octcore.NewTensor(1, 4, 4)
	x.Set(0, 0, 0, 1)
	x.Set(0, 2, 2, 1)
	out, err := net.Run(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	for y := 0; y < 4; y++ {
		fmt.Println(out.H.Data[y*4 : y*4+4])
	}
	_, err = s.Build(octcore.Params{})
	fmt.Println(err != nil)
	// Output:
	// [1 1 0 0]
	// [1 2 1 1]
	// [0 1 1 1]
	// [0 1 1 1]
	// true
}
