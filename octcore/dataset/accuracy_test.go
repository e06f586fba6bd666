package dataset

import (
	"testing"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// AccuracyOf against a plain loop over the images, for any worker count.
func TestAccuracyOf(t *testing.T) {
	s, err := Load("mnist", "test")
	if err != nil {
		t.Skip(err)
	}
	idx := make([]int, 40)
	for i := range idx {
		idx[i] = i
	}
	s = s.Subset(idx)
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: .5})
	if err != nil {
		t.Fatal(err)
	}
	m := &weights.Model{Graph: g, Params: octcore.RandomParams(g, 3), Meta: weights.Metadata{
		Input: weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.1}, Std: []float32{0.3}}}}
	net, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	x := octcore.NewTensor(1, 28, 28)
	for i := 0; i < s.Len(); i++ {
		for j, p := range s.Image(i) {
			x.Data[j] = (float32(p)/255 - 0.1) / 0.3
		}
		out, err := net.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		if octcore.TopK(octcore.Probabilities(g, out), 1)[0] == int(s.Labels[i]) {
			correct++
		}
	}
	want := 100 * float64(correct) / float64(s.Len())
	for _, w := range []int{0, 1, 3, 100} {
		got, err := AccuracyOf(m, s, w)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%d workers: %v%%, plain loop %v%%", w, got, want)
		}
	}
}
