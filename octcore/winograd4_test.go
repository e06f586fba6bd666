package octcore

import (
	"math"
	"math/rand"
	"testing"
)

// F(4x4, 3x3), measured for accuracy only (the engine runs F(2x2, 3x3);
// F(4x4, 3x3) is not implemented in it):
// 36 multiplies per 4x4 output tile and input channel instead of 144, with
// the transforms of Lavin and Gray at the points 0, 1, -1, 2, -2 and
// infinity. wino4Conv computes a 3x3, pad 1 convolution with it in float32
// (the weights transformed in float64 and rounded, as newWinoWeights does),
// the channel sums in channel order.
var (
	wino4BT = [6][6]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	wino4G = [6][3]float64{
		{1. / 4, 0, 0},
		{-1. / 6, -1. / 6, -1. / 6},
		{-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6},
		{1. / 24, -1. / 12, 1. / 6},
		{0, 0, 1},
	}
	wino4AT = [4][6]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// wino4Conv returns the M x h x w output of the c x h x w input x and the M x
// c x 3 x 3 weights wt.
func wino4Conv(x []float32, c, h, w int, wt []float32, M int) []float32 {
	ty, tx := (h+3)/4, (w+3)/4
	// U = G g G^T per output and input channel, rounded once.
	u := make([][36]float32, M*c)
	for i := range u {
		var gg [6][3]float64
		for a := 0; a < 6; a++ {
			for k := 0; k < 3; k++ {
				for l := 0; l < 3; l++ {
					gg[a][k] += wino4G[a][l] * float64(wt[i*9+l*3+k])
				}
			}
		}
		for a := 0; a < 6; a++ {
			for b := 0; b < 6; b++ {
				var s float64
				for k := 0; k < 3; k++ {
					s += gg[a][k] * wino4G[b][k]
				}
				u[i][a*6+b] = float32(s)
			}
		}
	}
	at := func(ch, yy, xx int) float32 {
		if yy < 0 || yy >= h || xx < 0 || xx >= w {
			return 0
		}
		return x[(ch*h+yy)*w+xx]
	}
	// mul returns L (n x 6) times d (6 x 6).
	mul6 := func(l [6][6]float32, d [6][6]float32) (r [6][6]float32) {
		for i := 0; i < 6; i++ {
			for j := 0; j < 6; j++ {
				var s float32
				for k := 0; k < 6; k++ {
					if l[i][k] != 0 {
						s += l[i][k] * d[k][j]
					}
				}
				r[i][j] = s
			}
		}
		return r
	}
	transpose := func(d [6][6]float32) (r [6][6]float32) {
		for i := range d {
			for j := range d[i] {
				r[j][i] = d[i][j]
			}
		}
		return r
	}
	y := make([]float32, M*h*w)
	v := make([][36]float32, c)
	for ti := 0; ti < ty; ti++ {
		for tj := 0; tj < tx; tj++ {
			for ch := 0; ch < c; ch++ {
				var d [6][6]float32
				for a := 0; a < 6; a++ {
					for b := 0; b < 6; b++ {
						d[a][b] = at(ch, 4*ti-1+a, 4*tj-1+b)
					}
				}
				// B^T d B = B^T (B^T d^T)^T.
				t := mul6(wino4BT, d)
				t = transpose(mul6(wino4BT, transpose(t)))
				for k := 0; k < 36; k++ {
					v[ch][k] = t[k/6][k%6]
				}
			}
			for m := 0; m < M; m++ {
				var s [6][6]float32
				for ch := 0; ch < c; ch++ {
					uc := &u[m*c+ch]
					for k := 0; k < 36; k++ {
						s[k/6][k%6] += uc[k] * v[ch][k]
					}
				}
				// A^T s A.
				var r [4][6]float32
				for i := 0; i < 4; i++ {
					for j := 0; j < 6; j++ {
						for k := 0; k < 6; k++ {
							if wino4AT[i][k] != 0 {
								r[i][j] += wino4AT[i][k] * s[k][j]
							}
						}
					}
				}
				for i := 0; i < 4; i++ {
					for j := 0; j < 4; j++ {
						var o float32
						for k := 0; k < 6; k++ {
							if wino4AT[j][k] != 0 {
								o += r[i][k] * wino4AT[j][k]
							}
						}
						if yy, xx := 4*ti+i, 4*tj+j; yy < h && xx < w {
							y[(m*h+yy)*w+xx] = o
						}
					}
				}
			}
		}
	}
	return y
}

// The F(4x4, 3x3) convolution is a convolution: against a float64 direct
// sum on a small case with every tail (h, w not multiples of 4).
func TestWinograd4IsAConvolution(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	c, h, w, M := 3, 7, 10, 2
	x, wt := randSlice(rng, c*h*w), randSlice(rng, M*c*9)
	y := wino4Conv(x, c, h, w, wt, M)
	for m := 0; m < M; m++ {
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				var s float64
				for ch := 0; ch < c; ch++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							if iy, ix := yy+ky-1, xx+kx-1; iy >= 0 && iy < h && ix >= 0 && ix < w {
								s += float64(x[(ch*h+iy)*w+ix]) * float64(wt[((m*c+ch)*3+ky)*3+kx])
							}
						}
					}
				}
				if got := float64(y[(m*h+yy)*w+xx]); math.Abs(got-s) > 1e-5*(1+math.Abs(s)) {
					t.Fatalf("output (%d, %d, %d) = %v, want %v", m, yy, xx, got, s)
				}
			}
		}
	}
}

// F(4x4, 3x3) against the engine's direct kernel on Oct-ResNet-50's 3x3
// shapes (He-initialized weights, unit normal inputs, no activation), as
// TestWinogradMatchesDirect measures F(2x2, 3x3): it holds that test's
// bound of 1e-4 of the largest output too (1.3e-5 at worst, 512 channels
// at 7x7, against F(2x2, 3x3)'s 2.4e-6; docs/PERFORMANCE.md).
func TestWinograd4Accuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rng := rand.New(rand.NewSource(17))
	for _, s := range []struct{ c, hw int }{{64, 56}, {128, 28}, {256, 14}, {512, 7}} {
		g := Graph{{Name: "input", Kind: "input", Out: s.c},
			{Name: "conv", Kind: "conv", In: s.c, Out: s.c, Kernel: 3, Pad: 1}}
		ps := RandomParams(g, 3)
		net, err := Build(g, ps)
		if err != nil {
			t.Fatal(err)
		}
		var wt []float32
		for _, p := range ps {
			if len(p.Shape) == 4 {
				wt = p.Data
			}
		}
		x := randTensor(rng, s.c, s.hw, s.hw)
		var direct []float32
		withWinograd(t, "off", func(t *testing.T) {
			y, err := net.RunFeature(Feature{H: x})
			if err != nil {
				t.Fatal(err)
			}
			direct = y.H.Clone().Data
		})
		f4 := wino4Conv(x.Data, s.c, s.hw, s.hw, wt, s.c)
		rel := maxRelDiff(direct, f4)
		t.Logf("%d channels %dx%d: F(4x4, 3x3) max |winograd - direct| / max |direct| = %.2g", s.c, s.hw, s.hw, rel)
		if rel > 1e-4 {
			t.Errorf("%d channels %dx%d: F(4x4, 3x3) off by %g of the largest output", s.c, s.hw, s.hw, rel)
		}
	}
}
