package octcore

import (
	"math"
	"math/rand"
	"testing"
)

func TestProbabilitiesAndTopK(t *testing.T) {
	out := Feature{H: &Tensor{C: 4, H: 1, W: 1, Data: []float32{1, 3, 3, -2}}}
	p := Probabilities(Graph{{Name: "fc", Kind: "linear"}}, out)
	var sum float64
	for i, v := range p {
		want := math.Exp(float64(out.H.Data[i])) / (math.E + 2*math.Exp(3) + math.Exp(-2))
		if math.Abs(v-want) > 1e-12 {
			t.Fatalf("p[%d] = %v, want %v", i, v, want)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("sum %v", sum)
	}
	if got := TopK(p, 3); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 0 {
		t.Fatalf("TopK = %v, want [1 2 0] (ties by index)", got)
	}
	if got := TopK(p, 9); len(got) != 4 {
		t.Fatalf("TopK(9) has %d entries", len(got))
	}
	// After a softmax layer the values are passed through.
	if p := Probabilities(Graph{{Name: "s", Kind: "softmax"}}, out); p[1] != 3 {
		t.Fatalf("softmax graph: %v", p)
	}
}

// Run on the tensor from InputTensor (no copy) gives what Run on a separate
// copy of the same values gives.
func TestInputTensor(t *testing.T) {
	g, _ := Arch("oct-resnet-mini", ArchOptions{Alpha: .5})
	net, err := Build(g, RandomParams(g, 3))
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rand.New(rand.NewSource(4)), net.InputChannels(), 13, 11)
	want, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	wantH := append([]float32(nil), want.H.Data...)
	in, err := net.InputTensor(13, 11)
	if err != nil {
		t.Fatal(err)
	}
	if in.C != x.C || in.H != 13 || in.W != 11 || len(in.Data) != len(x.Data) {
		t.Fatalf("InputTensor is %dx%dx%d with %d values, want %dx13x11", in.C, in.H, in.W, len(in.Data), x.C)
	}
	copy(in.Data, x.Data)
	got, err := net.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got.H.Data {
		if v != wantH[i] {
			t.Fatalf("output %d = %v from InputTensor, %v from a copy", i, v, wantH[i])
		}
	}
}

func TestTopPredictions(t *testing.T) {
	p := []float64{0.1, 0.5, 0.15, 0.25}
	got := TopPredictions(p, []string{"a", "b", "c"}, 3)
	want := []Prediction{{"b", 1, 0.5}, {"class 3", 3, 0.25}, {"c", 2, 0.15}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("top %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
