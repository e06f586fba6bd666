package octcore

// Independent references for the engine's operations, written as plainly as
// possible: a 7-loop convolution, explicit pooling and upsampling, and the
// octave convolution of docs/FORMAT.md §3.1 as the sum of its paths. They share no
// code with the engine.

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

type refMap struct {
	c, h, w int
	v       []float64
}

func newRef(c, h, w int) *refMap { return &refMap{c, h, w, make([]float64, c*h*w)} }

func (m *refMap) at(c, y, x int) float64 { return m.v[(c*m.h+y)*m.w+x] }

func (m *refMap) add(c, y, x int, v float64) { m.v[(c*m.h+y)*m.w+x] += v }

func refFrom(t *Tensor) *refMap {
	m := newRef(t.C, t.H, t.W)
	for i, v := range t.Data {
		m.v[i] = float64(v)
	}
	return m
}

// refConv is the textbook grouped, strided, padded, dilated convolution:
// w is [out][in/groups][k][k].
func refConv(x *refMap, w []float32, out, k, stride, pad, dil, groups int) *refMap {
	oh := (x.h+2*pad-dil*(k-1)-1)/stride + 1
	ow := (x.w+2*pad-dil*(k-1)-1)/stride + 1
	y := newRef(out, oh, ow)
	inG, outG := x.c/groups, out/groups
	for o := 0; o < out; o++ { // 1
		g := o / outG
		for ci := 0; ci < inG; ci++ { // 2
			c := g*inG + ci
			for oy := 0; oy < oh; oy++ { // 3
				for ox := 0; ox < ow; ox++ { // 4
					for ky := 0; ky < k; ky++ { // 5
						for kx := 0; kx < k; kx++ { // 6
							iy := oy*stride - pad + ky*dil
							ix := ox*stride - pad + kx*dil
							if iy < 0 || iy >= x.h || ix < 0 || ix >= x.w {
								continue
							}
							wv := float64(w[((o*inG+ci)*k+ky)*k+kx])
							y.add(o, oy, ox, wv*x.at(c, iy, ix)) // 7: the sum itself
						}
					}
				}
			}
		}
	}
	return y
}

// refPool2 averages each 2x2 block that exists (ceil mode, padding excluded).
func refPool2(x *refMap) *refMap {
	oh, ow := (x.h+1)/2, (x.w+1)/2
	y := newRef(x.c, oh, ow)
	for c := 0; c < x.c; c++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				sum, n := 0.0, 0
				for _, p := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
					iy, ix := 2*oy+p[0], 2*ox+p[1]
					if iy < x.h && ix < x.w {
						sum += x.at(c, iy, ix)
						n++
					}
				}
				y.v[(c*oh+oy)*ow+ox] = sum / float64(n)
			}
		}
	}
	return y
}

// refUp2 repeats every pixel into a 2x2 block and crops to h x w.
func refUp2(x *refMap, h, w int) *refMap {
	y := newRef(x.c, h, w)
	for c := 0; c < x.c; c++ {
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				y.v[(c*h+yy)*w+xx] = x.at(c, yy/2, xx/2)
			}
		}
	}
	return y
}

func refSum(a, b *refMap) *refMap {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if a.c != b.c || a.h != b.h || a.w != b.w {
		panic(fmt.Sprintf("refSum: %dx%dx%d + %dx%dx%d", a.c, a.h, a.w, b.c, b.h, b.w))
	}
	y := newRef(a.c, a.h, a.w)
	for i := range y.v {
		y.v[i] = a.v[i] + b.v[i]
	}
	return y
}

// refOct computes an octconv per docs/FORMAT.md §3.1 as the sum of its paths.
// ws holds the path weights (nil where the path does not exist); depthwise
// layers pass groups = channels of each part.
func refOct(xh, xl *refMap, ws map[string][]float32, cHo, cLo, k, stride, pad, dil, groups int, depthwise bool) (yh, yl *refMap) {
	conv := func(x *refMap, w []float32, out int) *refMap {
		if x == nil || w == nil || out == 0 || x.c == 0 {
			return nil
		}
		g := groups
		if depthwise {
			g = x.c
		}
		return refConv(x, w, out, k, 1, pad, dil, g)
	}
	if stride == 1 {
		var ph *refMap
		if xh != nil {
			ph = refPool2(xh)
		}
		yh = conv(xh, ws["hh"], cHo)
		if lh := conv(xl, ws["lh"], cHo); lh != nil {
			h, w := 0, 0
			if yh != nil {
				h, w = yh.h, yh.w
			} else {
				h, w = 2*xl.h, 2*xl.w // alpha_in = 1: high size from the low one
			}
			yh = refSum(yh, refUp2(lh, h, w))
		}
		yl = refSum(conv(xl, ws["ll"], cLo), conv(ph, ws["hl"], cLo))
		return
	}
	var ph, phh, pl *refMap
	if xh != nil {
		ph = refPool2(xh)
		phh = refPool2(ph)
	}
	if xl != nil {
		pl = refPool2(xl)
	}
	yh = refSum(conv(ph, ws["hh"], cHo), conv(xl, ws["lh"], cHo))
	yl = refSum(conv(pl, ws["ll"], cLo), conv(phh, ws["hl"], cLo))
	return
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func randTensor(rng *rand.Rand, c, h, w int) *Tensor {
	t, _ := TensorFrom(c, h, w, randSlice(rng, c*h*w))
	return t
}

// compare checks got against want to a relative tolerance of the map's scale.
func compare(t *testing.T, what string, got *Tensor, want *refMap, tol float64) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("%s: got a %dx%dx%d map, want none", what, got.C, got.H, got.W)
		}
		return
	}
	if got == nil {
		t.Fatalf("%s: got no map, want %dx%dx%d", what, want.c, want.h, want.w)
	}
	if got.C != want.c || got.H != want.h || got.W != want.w {
		t.Fatalf("%s: shape %dx%dx%d, want %dx%dx%d", what, got.C, got.H, got.W, want.c, want.h, want.w)
	}
	scale := 1e-6
	for _, v := range want.v {
		scale = math.Max(scale, math.Abs(v))
	}
	for i, v := range want.v {
		if d := math.Abs(float64(got.Data[i]) - v); d > tol*scale || math.IsNaN(float64(got.Data[i])) {
			c := i / (want.h * want.w)
			y := i / want.w % want.h
			x := i % want.w
			t.Fatalf("%s: element (%d,%d,%d) = %v, want %v (|diff| %g > %g)", what, c, y, x, got.Data[i], v, d, tol*scale)
		}
	}
}
