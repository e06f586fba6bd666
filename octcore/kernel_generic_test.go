//go:build !(goexperiment.simd && wasm)

package octcore

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// widenMap against nearest-neighbour indexing, for every size up to 19x19
// (vector steps, odd tails and odd bottom rows), leaving the values past the
// map untouched.
func TestWidenMap(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	for h := 1; h <= 19; h++ {
		for w := 1; w <= 19; w++ {
			lowW := (w+1)/2 + h%3 // rows of the low map may be wider
			low := randSlice(rng, ((h+1)/2)*lowW)
			u := make([]float32, h*w+4)
			for i := range u {
				u[i] = -1
			}
			widenMap(u[:h*w], low, h, w, lowW)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					if got, want := u[y*w+x], low[(y/2)*lowW+x/2]; got != want {
						t.Fatalf("%dx%d: u[%d][%d] = %v, want %v", h, w, y, x, got, want)
					}
				}
			}
			for i := h * w; i < len(u); i++ {
				if u[i] != -1 {
					t.Fatalf("%dx%d: wrote past the map at %d", h, w, i)
				}
			}
		}
	}
}

// The build's pool2Map, epilogueRows and epilogueLow (AVX2 on amd64 SIMD
// builds) against the portable Go code, bit for bit, on the sizes where the
// vector paths run: rows of 8 to 70 values (four- and eight-output steps,
// the overlapping last step, odd last columns and bottom rows), and nothing
// written past the outputs. TestPool2Map and TestEpilogue* check the
// definitions themselves.
func TestHelpersMatchPortable(t *testing.T) {
	if !helpersVectorized() {
		t.Skip("this build runs the portable code itself")
	}
	rng := rand.New(rand.NewSource(21))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = -7
		}
		return s
	}
	same := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: value %d = %v, want %v", what, i, got[i], want[i])
			}
		}
	}
	for _, h := range []int{1, 2, 3, 5, 8} {
		for w := 1; w <= 70; w++ {
			src := randSlice(rng, h*w)
			ldd := half(w) + w%3
			got, want := fill(half(h)*ldd+3), fill(half(h)*ldd+3)
			pool2Map(got, ldd, src, h, w)
			pool2MapGo(want, ldd, src, h, w)
			same(fmt.Sprintf("pool2Map %dx%d", h, w), got, want)
		}
	}
	const lo, hi = -0.5, 0.75
	for n := 1; n <= 70; n++ {
		for _, withR := range []bool{false, true} {
			const ch, h = 3, 2
			ldd, lds := n+n%3, n+1
			s := randSlice(rng, ch*h*lds)
			bias := randSlice(rng, ch)
			var r []float32
			if withR {
				r = randSlice(rng, ch*h*ldd)
			}
			got, want := fill(ch*h*ldd+3), fill(ch*h*ldd+3)
			epilogueRows(got, s, r, bias, ch, h, n, ldd, lds, lo, hi)
			epilogueRowsGo(want, s, r, bias, ch, h, n, ldd, lds, lo, hi)
			same(fmt.Sprintf("epilogueRows n=%d residual=%v", n, withR), got, want)
		}
	}
	for _, h := range []int{1, 4, 7} {
		for w := 1; w <= 70; w++ {
			for _, withR := range []bool{false, true} {
				const ch = 2
				lds, lowW := w+w%2, (w+1)/2+1
				lowN := ((h+1)/2 + 1) * lowW
				s := randSlice(rng, ch*h*lds)
				low := randSlice(rng, ch*lowN)
				bias := randSlice(rng, ch)
				var r []float32
				if withR {
					r = randSlice(rng, ch*h*w)
				}
				got, want := fill(ch*h*w+3), fill(ch*h*w+3)
				epilogueLow(got[:ch*h*w], s, low, r, bias, make([]float32, h*w), ch, h, w, lds, lowW, lowN, lo, hi)
				epilogueLowGo(want[:ch*h*w], s, low, r, bias, make([]float32, h*w), ch, h, w, lds, lowW, lowN, lo, hi)
				same(fmt.Sprintf("epilogueLow %dx%d residual=%v", h, w, withR), got, want)
			}
		}
	}
}

// The build's gemvBlocks against the portable Go code on long sums (its
// vector version sums even and odd k apart, so within rounding).
func TestGemvMatchesPortable(t *testing.T) {
	if !helpersVectorized() {
		t.Skip("this build runs the portable code itself")
	}
	rng := rand.New(rand.NewSource(22))
	for _, K := range []int{1, 2, 3, 64, 301, 2048} {
		for _, nblk := range []int{1, 2, 5, 8, 11} {
			a := randSlice(rng, nblk*K*MR)
			b := randSlice(rng, K*3)
			got, want := randSlice(rng, nblk*MR+2), make([]float32, nblk*MR+2)
			copy(want, got)
			gemvBlocks(nblk, K, a, b, got, 3)
			gemvBlocksGo(nblk, K, a, b, want, 3)
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Sqrt(float64(K)) {
					t.Fatalf("K=%d nblk=%d: value %d = %v, want %v", K, nblk, i, got[i], want[i])
				}
			}
		}
	}
}

// The stem's 3x3 stride-2 max pool (AVX2 on amd64 SIMD builds) against the
// maximum over each explicit window, bit for bit, at the widths and heights where
// the vector path runs (its overlapped last step, odd and even sizes).
func TestMaxPoolMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	for _, h := range []int{2, 3, 4, 7, 20} {
		for w := 16; w <= 60; w++ {
			const c = 2
			oh, ow := (h-1)/2+1, (w-1)/2+1
			src := randSlice(rng, c*h*w)
			got := make([]float32, c*oh*ow+3)
			want := make([]float32, c*oh*ow)
			poolGeneric(got[:c*oh*ow], src, c, h, w, 3, 2, 1, oh, ow, true)
			for ch := 0; ch < c; ch++ {
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						best := float32(math.Inf(-1))
						for y := max(2*oy-1, 0); y < min(2*oy+2, h); y++ {
							for x := max(2*ox-1, 0); x < min(2*ox+2, w); x++ {
								best = max(best, src[(ch*h+y)*w+x])
							}
						}
						want[(ch*oh+oy)*ow+ox] = best
					}
				}
			}
			for i, v := range want {
				if got[i] != v {
					t.Fatalf("%dx%d: value %d = %v, want %v", h, w, i, got[i], v)
				}
			}
			for _, v := range got[c*oh*ow:] {
				if v != 0 {
					t.Fatalf("%dx%d: wrote past the output", h, w)
				}
			}
		}
	}
}
