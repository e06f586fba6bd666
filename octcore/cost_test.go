package octcore

import (
	"math"
	"testing"
)

// The published reference figures (the paper and the octconv.pytorch
// README), each to the precision it is printed with.
func TestCostReferenceTable(t *testing.T) {
	rows := []struct {
		arch   string
		width  float64
		alpha  float64
		params int64   // exact, or 0 when printed rounded
		paramM float64 // millions, when printed rounded
		macs   float64 // printed value
		unit   float64 // 1e9 or 1e6
		digits int     // decimals printed
	}{
		{"oct-resnet50", 1, 0, 25557032, 0, 4.089, 1e9, 3},
		{"oct-resnet50", 1, .125, 25557032, 0, 3.6, 1e9, 1},
		{"oct-resnet50", 1, .25, 25557032, 0, 3.1, 1e9, 1},
		{"oct-resnet50", 1, .5, 25557032, 0, 2.367, 1e9, 3},
		{"oct-resnet50", 1, .75, 25557032, 0, 1.9, 1e9, 1},
		{"oct-resnet101", 1, 0, 44549160, 0, 7.801, 1e9, 3},
		{"oct-resnet101", 1, .5, 44549160, 0, 3.991, 1e9, 3},
		{"oct-resnet152", 1, 0, 60192808, 0, 11.514, 1e9, 3},
		{"oct-resnet152", 1, .5, 60192808, 0, 5.615, 1e9, 3},
		{"oct-mobilenetv1", 1, 0, 4231976, 0, 568.7, 1e6, 1},
		{"oct-mobilenetv1", 1, .5, 4231976, 0, 318.2, 1e6, 1},
		// Figures the paper prints as approximations (digits -1): within 1%.
		{"oct-mobilenetv1", .75, 0, 0, 2.6, 325, 1e6, -1},
		{"oct-mobilenetv1", .75, .375, 0, 2.6, 213, 1e6, -1},
		{"oct-mobilenetv2", 1, 0, 0, 3.5, 300, 1e6, -1},
	}
	for _, r := range rows {
		g, err := Arch(r.arch, ArchOptions{Alpha: r.alpha, Width: r.width})
		if err != nil {
			t.Fatal(err)
		}
		c, err := CostOf(g, 224, 224)
		if err != nil {
			t.Fatalf("%s: %v", r.arch, err)
		}
		if r.params != 0 && c.Params != r.params {
			t.Errorf("%s x%v alpha %v: %d params, want %d", r.arch, r.width, r.alpha, c.Params, r.params)
		}
		if r.paramM != 0 && math.Round(float64(c.Params)/1e5)/10 != r.paramM {
			t.Errorf("%s x%v alpha %v: %d params, want %.1fM", r.arch, r.width, r.alpha, c.Params, r.paramM)
		}
		if r.digits < 0 {
			if got := float64(c.MACs) / r.unit; math.Abs(got-r.macs) > 0.01*r.macs {
				t.Errorf("%s x%v alpha %v: %d MACs, want %v within 1%%", r.arch, r.width, r.alpha, c.MACs, r.macs)
			}
			continue
		}
		p := math.Pow(10, float64(r.digits))
		if got := math.Round(float64(c.MACs)/r.unit*p) / p; got != r.macs {
			t.Errorf("%s x%v alpha %v: %d MACs rounds to %v, want %v", r.arch, r.width, r.alpha, c.MACs, got, r.macs)
		}
	}
}

// The paper's per-layer ratios: 82%/67%/44%/30% of the MACs and 91%/81%/63%/44%
// of the memory at alpha .125/.25/.5/.75, measured on a real layer.
func TestPerLayerRatios(t *testing.T) {
	want := map[float64][2]float64{.125: {82, 91}, .25: {67, 81}, .5: {44, 63}, .75: {30, 44}}
	for a, w := range want {
		if got := math.Round(OctRatio(a, a) * 100); got != w[0] {
			t.Errorf("alpha %v: MAC ratio %v%%, want %v%%", a, got, w[0])
		}
		if got := math.Round(OctMemory(a) * 100); got != w[1] {
			t.Errorf("alpha %v: memory %v%%, want %v%%", a, got, w[1])
		}
		// A 256-channel 3x3 layer at 56x56 counts exactly the formula.
		g := Graph{{Name: "input", Kind: "input", Out: 256, AlphaOut: a},
			{Name: "c", Kind: "octconv", In: 256, Out: 256, Kernel: 3, Pad: 1, AlphaIn: a, AlphaOut: a}}
		c, err := CostOf(g, 56, 56)
		if err != nil {
			t.Fatal(err)
		}
		vanilla := 256.0 * 256 * 9 * 56 * 56
		if r := float64(c.Layers[1].MACs) / vanilla; math.Abs(r-OctRatio(a, a)) > 1e-9 {
			t.Errorf("alpha %v: layer ratio %v, formula %v", a, r, OctRatio(a, a))
		}
		mem := float64(c.Layers[1].Activations) / (256 * 56 * 56)
		if math.Abs(mem-OctMemory(a)) > 1e-9 {
			t.Errorf("alpha %v: memory ratio %v, formula %v", a, mem, OctMemory(a))
		}
		if p := c.Layers[1].Params; p != 256*256*9 {
			t.Errorf("alpha %v: %d params, want the vanilla %d", a, p, 256*256*9)
		}
	}
}

// Every architecture runs end to end on odd input sizes.
func TestArchitecturesRunOddSizes(t *testing.T) {
	for _, name := range []string{"oct-resnet-mini", "oct-mobilenetv1", "oct-mobilenetv2", "oct-resnet26"} {
		for _, a := range []float64{0, .25, .5} {
			g, err := Arch(name, ArchOptions{Alpha: a, Width: .25, Classes: 7})
			if err != nil {
				t.Fatal(err)
			}
			size := 57
			if name == "oct-resnet-mini" {
				size = 27
			}
			if name == "oct-resnet26" && testing.Short() {
				continue
			}
			ps := RandomParams(g, 1)
			net, err := Build(g, ps)
			if err != nil {
				t.Fatalf("%s alpha %v: %v", name, a, err)
			}
			x := NewTensor(net.InputChannels(), size, size+2)
			for i := range x.Data {
				x.Data[i] = float32(i%13) / 13
			}
			y, err := net.Run(x)
			if err != nil {
				t.Fatalf("%s alpha %v: %v", name, a, err)
			}
			if y.H.C != 7 {
				t.Fatalf("%s: %d outputs", name, y.H.C)
			}
			for _, v := range y.H.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s alpha %v: output %v", name, a, y.H.Data)
				}
			}
		}
	}
}
