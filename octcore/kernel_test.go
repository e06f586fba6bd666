package octcore

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// The micro kernel against the plain triple loop, for every K from 0 to 40,
// storing with a row stride wider than a tile.
func TestMicroKernel(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for K := 0; K <= 40; K++ {
		a := randSlice(rng, K*MR)
		ldb := nr + K%3*7 // packed panels, and rows read in place
		b := randSlice(rng, K*ldb+nr)
		ldc := nr + 5
		c := randSlice(rng, 3*ldc+nr) // garbage that must be overwritten
		microKernel(K, a, b, c, ldc, ldb)
		for i := 0; i < MR; i++ {
			for j := 0; j < nr; j++ {
				var want float64
				for k := 0; k < K; k++ {
					want += float64(a[k*MR+i]) * float64(b[k*ldb+j])
				}
				if got := float64(c[i*ldc+j]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("K=%d: c[%d][%d] = %v, want %v", K, i, j, got, want)
				}
			}
		}
	}
}

// TileKernelAdd against TileKernel into a scratch tile added by hand: the
// same sums, so equal bit for bit, and the values between rows untouched.
func TestTileKernelAdd(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for K := 0; K <= 20; K++ {
		a := randSlice(rng, K*MR)
		ldb := nr + K%2*5
		b := randSlice(rng, K*ldb+nr)
		ldc := nr + 3
		c := randSlice(rng, 3*ldc+nr)
		want := append([]float32(nil), c...)
		tile := make([]float32, MR*nr)
		TileKernel(K, a, b, tile, nr, ldb)
		for i := 0; i < MR; i++ {
			for j := 0; j < nr; j++ {
				want[i*ldc+j] += tile[i*nr+j]
			}
		}
		TileKernelAdd(K, a, b, c, ldc, ldb, make([]float32, MR*nr))
		for i, w := range want {
			if c[i] != w {
				t.Fatalf("K=%d: c[%d] = %v, want %v", K, i, c[i], w)
			}
		}
	}
}

// microKernelN over several row blocks, for odd and even K, against the
// one-block kernel.
func TestMicroKernelBlocks(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	for _, K := range []int{1, 2, 3, 8, 9} {
		const nblk = 3
		a := randSlice(rng, nblk*K*MR)
		ldb := nr + 3
		b := randSlice(rng, K*ldb+nr)
		ldc := nr + 2
		got := make([]float32, nblk*MR*ldc)
		microKernelN(nblk, K, a, b, got, ldc, ldb)
		want := make([]float32, MR*ldc)
		for blk := 0; blk < nblk; blk++ {
			microKernel(K, a[blk*MR*K:(blk+1)*MR*K], b, want, ldc, ldb)
			for i := 0; i < MR; i++ {
				for j := 0; j < nr; j++ {
					if g, w := got[(blk*MR+i)*ldc+j], want[i*ldc+j]; g != w {
						t.Fatalf("K=%d block %d: c[%d][%d] = %v, one block at a time %v", K, blk, i, j, g, w)
					}
				}
			}
		}
	}
}

// gatherPanel against direct indexing, with offsets and pixel indices in any
// order.
func TestGatherPanel(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	for _, K := range []int{0, 1, 5, 40} {
		src := randSlice(rng, 500)
		offs, maxOff := randOffsets(rng, K, 400)
		idx := make([]int32, 64)
		for j := range idx {
			idx[j] = int32(rng.Intn(100))
		}
		dst := make([]float32, K*nr+3)
		gatherPanel(dst[:K*nr], src, offs, idx, maxOff)
		checkPanel(t, K, dst, func(k, j int) float32 { return src[offs[k]+idx[j]] })
	}
}

// randOffsets returns K row offsets in [0, n), in any order and possibly
// repeated, and the largest of them (0 for none).
func randOffsets(rng *rand.Rand, K, n int) ([]int32, int) {
	offs := make([]int32, K)
	maxOff := 0
	for k := range offs {
		offs[k] = int32(rng.Intn(n))
		maxOff = max(maxOff, int(offs[k]))
	}
	return offs, maxOff
}

// checkPanel checks that dst starts with K rows of nr values want(k, j) and
// is zero past them.
func checkPanel(t *testing.T, K int, dst []float32, want func(k, j int) float32) {
	t.Helper()
	for k := 0; k < K; k++ {
		for j := 0; j < nr; j++ {
			if got, w := dst[k*nr+j], want(k, j); got != w {
				t.Fatalf("K=%d: row %d pixel %d = %v, want %v", K, k, j, got, w)
			}
		}
	}
	for _, v := range dst[K*nr:] {
		if v != 0 {
			t.Fatalf("K=%d: wrote past the panel", K)
		}
	}
}

// pool2Map against the mean of the pixels of each window, for every size up
// to 21x21 (vector steps, tails, odd edges), writing only its outputs.
func TestPool2Map(t *testing.T) {
	rng := rand.New(rand.NewSource(15))
	for h := 1; h <= 21; h++ {
		for w := 1; w <= 21; w++ {
			src := randSlice(rng, h*w)
			oh, ow := half(h), half(w)
			ldd := ow + h%3
			dst := make([]float32, oh*ldd+3)
			for i := range dst {
				dst[i] = -7
			}
			pool2Map(dst, ldd, src, h, w)
			for y := 0; y < oh; y++ {
				for x := 0; x < ldd; x++ {
					got := dst[y*ldd+x]
					if x >= ow {
						if got != -7 {
							t.Fatalf("%dx%d: wrote (%d,%d) past the row", h, w, y, x)
						}
						continue
					}
					var sum float64
					n := 0
					for dy := 0; dy < 2; dy++ {
						for dx := 0; dx < 2; dx++ {
							if 2*y+dy < h && 2*x+dx < w {
								sum += float64(src[(2*y+dy)*w+2*x+dx])
								n++
							}
						}
					}
					if want := sum / float64(n); math.Abs(float64(got)-want) > 1e-6 {
						t.Fatalf("%dx%d: (%d,%d) = %v, want %v", h, w, y, x, got, want)
					}
				}
			}
		}
	}
}

// packPanel against direct indexing.
func TestPackPanel(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	for _, K := range []int{0, 1, 7, 40} {
		src := randSlice(rng, 600)
		offs, maxOff := randOffsets(rng, K, 500)
		dst := make([]float32, K*nr+3)
		packPanel(dst[:K*nr], src, offs, maxOff)
		checkPanel(t, K, dst, func(k, j int) float32 { return src[int(offs[k])+j] })
	}
}

// gemvBlocks against the plain sum, for group and single-block passes.
func TestGemvBlocks(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	for _, K := range []int{0, 1, 5, 33} {
		for _, nblk := range []int{1, 3, 4, 6, 9} {
			a := randSlice(rng, nblk*K*MR)
			ldb := 7
			b := randSlice(rng, K*ldb+1)
			c := randSlice(rng, nblk*MR+2)
			tail := append([]float32(nil), c[nblk*MR:]...)
			gemvBlocks(nblk, K, a, b, c, ldb)
			for i := 0; i < nblk*MR; i++ {
				var want float64
				for k := 0; k < K; k++ {
					want += float64(a[(i/MR)*MR*K+k*MR+i%MR]) * float64(b[k*ldb])
				}
				if got := float64(c[i]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("K=%d nblk=%d: row %d = %v, want %v", K, nblk, i, got, want)
				}
			}
			if c[nblk*MR] != tail[0] || c[nblk*MR+1] != tail[1] {
				t.Fatalf("K=%d nblk=%d: wrote past the column", K, nblk)
			}
		}
	}
}

// epilogueRows against its definition, element by element in the same order
// of additions: row widths with and without a partial last vector, one and
// several rows per channel, wide source rows, with and without a bias and a
// residual, and in place.
func TestEpilogueRows(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	const lo, hi = -0.25, 0.5
	for _, n := range []int{1, 3, 4, 7, 16, 17, 49} {
		for _, h := range []int{1, 3} {
			for _, withR := range []bool{false, true} {
				for _, withB := range []bool{false, true} {
					const ch = 4
					rows, ldd, lds := ch*h, n+1, n+3
					s := randSlice(rng, rows*lds)
					var r, bias []float32
					if withR {
						r = randSlice(rng, rows*ldd)
					}
					if withB {
						bias = randSlice(rng, ch)
					}
					want := make([]float32, rows*ldd)
					got := make([]float32, rows*ldd+3)
					for i := range got {
						got[i] = -7
					}
					for i := range want {
						want[i] = -7
					}
					// ref is the value of row i from source value sv and
					// residual r[ri].
					ref := func(i int, sv float32, ri int) float32 {
						if withB {
							sv += bias[i/h]
						}
						if withR {
							sv += r[ri]
						}
						return min(max(sv, lo), hi)
					}
					for i := 0; i < rows; i++ {
						for x := 0; x < n; x++ {
							want[i*ldd+x] = ref(i, s[i*lds+x], i*ldd+x)
						}
					}
					what := fmt.Sprintf("n=%d h=%d residual=%v bias=%v", n, h, withR, withB)
					epilogueRows(got, s, r, bias, ch, h, n, ldd, lds, lo, hi)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s: value %d = %v, want %v", what, i, got[i], want[i])
						}
					}
					for i := len(want); i < len(got); i++ {
						if got[i] != -7 {
							t.Fatalf("%s: wrote past the rows at %d", what, i)
						}
					}
					// In place: d and s the same, rows of n.
					inPlace := append([]float32(nil), s[:rows*n]...)
					var rn []float32
					if withR {
						rn = r[:rows*n]
					}
					epilogueRows(inPlace, inPlace, rn, bias, ch, h, n, n, n, lo, hi)
					for i := 0; i < rows; i++ {
						for x := 0; x < n; x++ {
							if w := ref(i, s[i*n+x], i*n+x); inPlace[i*n+x] != w {
								t.Fatalf("%s in place: value %d = %v, want %v", what, i*n+x, inPlace[i*n+x], w)
							}
						}
					}
				}
			}
		}
	}
}

// epilogueLow against its definition, element by element in the same order
// of additions, for every size up to 19x19 (odd sizes leave a half-used low
// column and row) over three channels, with wide source rows, low rows and
// maps larger than needed, with and without a bias and a residual; in place
// as well (d and s the same, as finish does when alpha_in is 1).
func TestEpilogueLow(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	const lo, hi = -0.5, 0.75
	const ch = 3
	for h := 1; h <= 19; h++ {
		for w := 1; w <= 19; w++ {
			for _, withR := range []bool{false, true} {
				withB := (h+w)%2 == 0
				lds := w + (h+w)%3
				lowW := (w+1)/2 + w%2
				lowN := ((h+1)/2 + h%3) * lowW
				s := randSlice(rng, ch*h*lds)
				low := randSlice(rng, ch*lowN)
				var r, bias []float32
				if withR {
					r = randSlice(rng, ch*h*w)
				}
				if withB {
					bias = randSlice(rng, ch)
				}
				want := make([]float32, ch*h*w)
				for c := 0; c < ch; c++ {
					for y := 0; y < h; y++ {
						for x := 0; x < w; x++ {
							v := s[c*h*lds+y*lds+x]
							if withB {
								v += bias[c]
							}
							v += low[c*lowN+(y/2)*lowW+x/2]
							if withR {
								v += r[c*h*w+y*w+x]
							}
							want[c*h*w+y*w+x] = min(max(v, lo), hi)
						}
					}
				}
				what := fmt.Sprintf("%dx%d lds %d bias=%v residual=%v", h, w, lds, withB, withR)
				got := make([]float32, ch*h*w+4)
				for i := range got {
					got[i] = -7
				}
				epilogueLow(got[:ch*h*w], s, low, r, bias, make([]float32, h*w), ch, h, w, lds, lowW, lowN, lo, hi)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s: value %d = %v, want %v", what, i, got[i], want[i])
					}
				}
				for i := ch * h * w; i < len(got); i++ {
					if got[i] != -7 {
						t.Fatalf("%s: wrote past the channels at %d", what, i)
					}
				}
				if lds == w {
					inPlace := append([]float32(nil), s...)
					epilogueLow(inPlace, inPlace, low, r, bias, make([]float32, h*w), ch, h, w, w, lowW, lowN, lo, hi)
					for i := range want {
						if inPlace[i] != want[i] {
							t.Fatalf("%s in place: value %d = %v, want %v", what, i, inPlace[i], want[i])
						}
					}
				}
			}
		}
	}
}
