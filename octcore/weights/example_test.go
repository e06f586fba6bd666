package weights_test

import (
	"fmt"
	"os"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// Load reads a model file, Build makes it runnable and Run classifies one
// input. The input here is drawn, not read: a bright 28x28 silhouette of a
// pair of trousers (two legs joined at the waist) on black, normalized as the
// model's metadata says.
func Example() {
	data, err := os.ReadFile("../../models/weights/fashion-oct-a500.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := weights.Load(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	net, err := m.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	in := m.Meta.Input
	x := octcore.NewTensor(in.Channels, in.Height, in.Width)
	for y := 0; y < in.Height; y++ {
		for c := 0; c < in.Width; c++ {
			v := float32(0)
			waist := y >= 2 && y < 8 && c >= 8 && c < 20
			legs := y >= 8 && y < 26 && ((c >= 8 && c < 13) || (c >= 15 && c < 20))
			if waist || legs {
				v = 1
			}
			x.Set(0, y, c, (v-in.Mean[0])/in.Std[0])
		}
	}
	out, err := net.Run(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := octcore.Probabilities(net.Graph(), out)
	best := octcore.TopK(p, 1)[0]
	fmt.Println(in.Channels, in.Height, in.Width, len(p), "classes")
	fmt.Println("best:", m.Meta.Labels[best])
	// Output:
	// 1 28 28 10 classes
	// best: Trouser
}
