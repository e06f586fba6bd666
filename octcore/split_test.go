package octcore

import (
	"math/big"
	"strings"
	"testing"
)

// pythonInt computes Python's int(alpha * c) independently of Split: the
// exact product of the float64 alpha and c, rounded once to the nearest
// float64 (what IEEE multiplication does), then truncated with big.Float.
func pythonInt(alpha float64, c int) int {
	exact := new(big.Rat).Mul(new(big.Rat).SetFloat64(alpha), new(big.Rat).SetInt64(int64(c)))
	f, _ := new(big.Float).SetPrec(53).SetMode(big.ToNearestEven).SetRat(exact).Float64()
	i, _ := new(big.Float).SetFloat64(f).Int(nil) // truncates toward zero
	return int(i.Int64())
}

func TestSplitIsPythonInt(t *testing.T) {
	alphas := []float64{0, 0.125, 0.25, 0.5, 0.75, 1, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9,
		0.15, 0.35, 0.45, 0.55, 0.65, 0.85, 0.95, 1.0 / 3}
	changed := 0
	for _, a := range alphas {
		for c := 1; c <= 2048; c++ {
			cH, cL := Split(c, a)
			if want := pythonInt(a, c); cL != want || cH != c-want {
				t.Fatalf("Split(%d, %v) = %d high + %d low, Python's int(alpha*c) gives %d low", c, a, cH, cL, want)
			}
			if int(a*float64(c)+1e-9) != cL {
				changed++
			}
		}
	}
	// The old rule, floor(alpha*c + 1e-9), differed at 50 of these pairs
	// (Python: sum(int(a*c) != int(a*c+1e-9)) over the 16 non-dyadic alphas).
	if changed != 50 {
		t.Errorf("%d pairs differ from floor(alpha*c + 1e-9), want 50", changed)
	}
	if _, cL := Split(90, 0.7); cL != 62 {
		t.Errorf("Split(90, 0.7) gives %d low channels, PyTorch's int(0.7*90) is 62", cL)
	}
}

func TestSplitMismatchExplained(t *testing.T) {
	g := Graph{
		{Name: "input", Kind: "input", Out: 90, AlphaOut: 0.7},
		{Name: "oct", Kind: "octconv", In: 90, Out: 8, Kernel: 1, AlphaIn: 0.5, AlphaOut: 0.5},
	}
	_, err := CostOf(g, 8, 8)
	if err == nil {
		t.Fatal("a 0.7 input into a 0.5 octconv checked")
	}
	for _, want := range []string{"alpha_in 0.5 of 90 channels gives 45 low channels, int(alpha*c)", "45 high"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := SplitNote(90, 0.7); got != "alpha 0.7 of 90 channels gives 62 low channels, int(alpha*c), and 28 high" {
		t.Errorf("SplitNote(90, 0.7) = %q", got)
	}
}
