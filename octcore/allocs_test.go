package octcore

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestRunAllocs guards "no allocation per inference": once a network has run
// at an input size, Run at that size allocates nothing (every build: the
// scalar and SIMD kernels, native and js/wasm). Oct-ResNet-50 runs once to
// warm up and twice measured, so the test stays short. The last case checks
// that the measurement sees allocations: alternating input sizes re-plans
// the buffers on every call.
func TestRunAllocs(t *testing.T) {
	cases := []struct {
		arch  string
		alpha float64
		size  int
		runs  int
	}{
		{"oct-resnet-mini", 0, 28, 20},
		{"oct-resnet-mini", .5, 28, 20},
		// 64x64 rather than 224x224 keeps the test short: every layer
		// and kernel path runs all the same (the last stage at 2x2, its
		// low part at 1x1).
		{"oct-resnet50", 0, 64, 2},
		{"oct-resnet50", .5, 64, 2},
		{"oct-resnet-mini", .5, 28, -4}, // sizes 28 and 30 in turn: allocates
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s/alpha=%v", c.arch, c.alpha)
		if c.runs < 0 {
			name += "/alternating-sizes"
		}
		t.Run(name, func(t *testing.T) {
			if testing.Short() && c.arch == "oct-resnet50" {
				t.Skip("-short: Oct-ResNet-50 takes seconds per run")
			}
			g, err := Arch(c.arch, ArchOptions{Alpha: c.alpha})
			if err != nil {
				t.Fatal(err)
			}
			net, err := Build(g, RandomParams(g, 1))
			if err != nil {
				t.Fatal(err)
			}
			x := randTensor(rand.New(rand.NewSource(1)), net.InputChannels(), c.size, c.size)
			runs, y := c.runs, x
			if runs < 0 { // alternate between two sizes
				runs = -runs
				y = randTensor(rand.New(rand.NewSource(2)), net.InputChannels(), c.size+2, c.size+2)
			}
			var runErr error
			// AllocsPerRun calls the function once before measuring: that
			// first Run plans the buffers for this size.
			allocs := testing.AllocsPerRun(runs, func() {
				if _, err := net.Run(x); err != nil {
					runErr = err
				}
				x, y = y, x
			})
			if runErr != nil {
				t.Fatal(runErr)
			}
			if c.runs < 0 {
				if allocs == 0 {
					t.Error("Run at alternating sizes: AllocsPerRun saw no allocation")
				}
				return
			}
			if allocs != 0 {
				t.Errorf("Run allocates %v times per call after the first, want 0", allocs)
			}
		})
	}
}
