package octcore

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// withWinograd runs f with the Winograd mode set to mode and checks that
// Winograd ran (on) or did not (off).
func withWinograd(t *testing.T, mode string, f func(t *testing.T)) {
	t.Helper()
	prev, err := SetWinograd(mode)
	if err != nil {
		t.Fatal(err)
	}
	defer SetWinograd(prev)
	n0 := winoCalls.Load()
	f(t)
	ran := winoCalls.Load() - n0
	switch {
	case mode == "on" && ran == 0:
		t.Fatal("Winograd forced on, but no convolution ran as Winograd")
	case mode == "off" && ran != 0:
		t.Fatalf("Winograd off, but %d convolutions ran as Winograd", ran)
	}
}

// The reference tests of the convolutions, with every eligible product run
// as Winograd F(2x2, 3x3), against the float64 references at the same
// tolerance as the direct kernel (2e-5 of each map's scale).
func TestWinogradMatchesReference(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"ConvMatchesNaive", TestConvMatchesNaive},
		{"OctConvMatchesReference", TestOctConvMatchesReference},
		{"OctConvRunsAtChangingSizes", TestOctConvRunsAtChangingSizes},
		{"OctConvCompactLayout", TestOctConvCompactLayout},
		{"OctConvAlphaGrid", TestOctConvAlphaGrid},
		{"FoldedBNResidualReLU", TestFoldedBNResidualReLU},
	} {
		t.Run(c.name, func(t *testing.T) { withWinograd(t, "on", c.f) })
	}
}

// The golden outputs of the small Oct-ResNet (every layer's maps), with
// Winograd on, agree with the golden file to 1e-5 of each map's scale.
func TestWinogradGolden(t *testing.T) {
	withWinograd(t, "on", TestGoldenAcrossBuilds)
}

// Winograd against the direct kernel on the 3x3 layers of Oct-ResNet-50
// (channels and map sizes of its stages, alpha 0 and .5), float32 both:
// the largest difference relative to the largest output stays below 1e-4.
func TestWinogradMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	sizes := []struct{ c, hw int }{{64, 56}, {128, 28}, {256, 14}, {512, 7}}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, s := range sizes {
		for _, a := range []float64{0, .5} {
			g := Graph{{Name: "input", Kind: "input", Out: s.c, AlphaOut: a},
				{Name: "conv", Kind: "octconv", In: s.c, Out: s.c, Kernel: 3, Pad: 1, AlphaIn: a, AlphaOut: a, BN: true, Act: "relu"}}
			net, err := Build(g, RandomParams(g, 3))
			if err != nil {
				t.Fatal(err)
			}
			cH, cL := Split(s.c, a)
			x := Feature{H: randTensor(rng, cH, s.hw, s.hw)}
			if cL > 0 {
				x.L = randTensor(rng, cL, half(s.hw), half(s.hw))
			}
			run := func(mode string) Feature {
				var y Feature
				withWinograd(t, mode, func(t *testing.T) {
					out, err := net.RunFeature(x)
					if err != nil {
						t.Fatal(err)
					}
					y = Feature{H: out.H.Clone()}
					if out.L != nil {
						y.L = out.L.Clone()
					}
				})
				return y
			}
			direct, wino := run("off"), run("on")
			for _, p := range [][2]*Tensor{{direct.H, wino.H}, {direct.L, wino.L}} {
				if p[0] == nil {
					continue
				}
				rel := maxRelDiff(p[0].Data, p[1].Data)
				name := fmt.Sprintf("%d channels %dx%d alpha %v", s.c, s.hw, s.hw, a)
				t.Logf("%s: max |winograd - direct| / max |direct| = %.2g", name, rel)
				if rel > 1e-4 {
					t.Errorf("%s: relative difference %g > 1e-4", name, rel)
				}
			}
		}
	}
}

// maxRelDiff returns max |a-b| / max |a|.
func maxRelDiff(a, b []float32) float64 {
	scale, d := 1e-30, 0.0
	for i := range a {
		scale = math.Max(scale, math.Abs(float64(a[i])))
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d / scale
}

// The transformed kernel G g G^T of a delta at the centre, computed by hand.
func TestWinogradKernelTransform(t *testing.T) {
	var g [3][3]float64
	g[1][1] = 1
	u := winoKernel(g)
	want := [4][4]float64{{0, 0, 0, 0}, {0, .25, -.25, 0}, {0, -.25, .25, 0}, {0, 0, 0, 0}}
	if u != want {
		t.Fatalf("G g G^T of the centre delta = %v, want %v", u, want)
	}
}

func TestSetWinogradRejectsUnknown(t *testing.T) {
	if _, err := SetWinograd("fast"); err == nil {
		t.Fatal(`SetWinograd("fast") accepted`)
	}
}

// Run allocates nothing with Winograd on either: its buffers are planned on
// the first run at a size, like the direct kernel's.
func TestWinogradRunAllocs(t *testing.T) {
	withWinograd(t, "on", TestRunAllocs)
}

// The rule of winoAuto picks Winograd for the wide layers of the builds
// where it was measured to win, and the direct kernel for the rest.
func TestWinogradAutoRule(t *testing.T) {
	if winoMinChannels < 0 {
		if winoWins(512, 512, 7, 7) {
			t.Fatal("winoWins chose Winograd in a build with no measured crossover")
		}
		return
	}
	if !winoWins(winoMinChannels, 64, 14, 14) || winoWins(winoMinChannels-1, 64, 14, 14) {
		t.Fatalf("winoWins does not switch at %d channels", winoMinChannels)
	}
}
