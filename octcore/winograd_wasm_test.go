//go:build goexperiment.simd && wasm

package octcore

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// winoGrids are the tile grids of the assembly transforms' tests: every
// tail of a vector of four tiles (tx mod 4), one tile row or one tile, odd
// and even output sizes, and Oct-ResNet-50's maps.
func winoGrids() [][2]int { // output height, width
	var g [][2]int
	for _, w := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18} {
		g = append(g, [2]int{1, w}, [2]int{2, w}, [2]int{3, w}, [2]int{w, 5})
	}
	return append(g, [2]int{7, 7}, [2]int{14, 14}, [2]int{28, 28}, [2]int{56, 56}, [2]int{27, 29})
}

// The assembly input transform writes the same values as the Go vector
// transform (winoInputVec, whose operations it repeats in the same order)
// for every tile, in packed panels of nr tiles (channels c0 and c0+1 of C),
// one channel at a time (winoInput) or two (winoInput2), and nothing outside
// those channels' rows of the panels.
func TestWinogradAsmInputMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, s := range winoGrids() {
		oh, ow := s[0], s[1]
		for _, extra := range []int{0, 3} { // padded rows wider than the output needs
			for n := 1; n <= 2; n++ {
				const C = 4
				c0 := 3 - n // the first channel of C written: 2, or 1 and 2
				name := fmt.Sprintf("%dx%d+%d, %d channels", oh, ow, extra, n)
				ty, tx := (oh+1)/2, (ow+1)/2
				tr := winoTileRow(tx)
				hp, wp := oh+2, ow+2+extra
				cs := hp*wp + 5 // the channels' planes, with a gap
				src := make([]float32, cs+hp*wp+wp+1)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				// The Go transform writes rows of tiles; the assembly panels.
				P := ty * tx
				ldx := P + winoVecSlack()
				want := make([][]float32, n)
				for k := range want {
					want[k] = make([]float32, winoN*ldx)
					winoInputVec(want[k], ldx, src[k*cs:], wp, ty, tx, make([]float32, winoTmpLenVec(ty, tx)))
				}
				Pn := (ty*tr + nr - 1) / nr * nr
				vx := C * Pn
				const guard = 64
				sentinel := float32(math.NaN())
				have := make([]float32, winoN*vx+guard)
				for i := range have {
					have[i] = sentinel
				}
				tmpLen := winoTmpLen(ty, tx)
				tmp := make([]float32, tmpLen+guard)
				for i := range tmp {
					tmp[i] = sentinel
				}
				if n == 1 {
					winoInput(have[c0*nr:winoN*vx], vx, src, wp, ty, tx, tmp[:tmpLen], C*nr)
				} else {
					winoInput2(have[c0*nr:winoN*vx], vx, src, cs, wp, ty, tx, tmp[:tmpLen], C*nr)
				}
				for k := 0; k < n; k++ {
					for x := 0; x < winoN; x++ {
						for i := 0; i < ty; i++ {
							for j := 0; j < tx; j++ {
								tp := i*tr + j
								w, h := want[k][x*ldx+i*tx+j], have[x*vx+tp/nr*C*nr+(c0+k)*nr+tp%nr]
								if math.Float32bits(w) != math.Float32bits(h) {
									t.Fatalf("%s: channel %d position %d tile (%d, %d): assembly %v, Go %v", name, k, x, i, j, h, w)
								}
							}
						}
					}
				}
				for i, h := range have {
					if row := i % vx % (C * nr) / nr; (row < c0 || row >= c0+n || i >= winoN*vx) && !math.IsNaN(float64(h)) {
						t.Fatalf("%s: the assembly wrote v[%d], outside channels %d..%d's rows", name, i, c0, c0+n-1)
					}
				}
				for i := tmpLen; i < tmpLen+guard; i++ {
					if !math.IsNaN(float64(tmp[i])) {
						t.Fatalf("%s: the assembly wrote tmp[%d], past winoTmpLen %d", name, i, tmpLen)
					}
				}
			}
		}
	}
}

// The assembly output transform writes the same outputs as the Go vector
// transform (winoOutputVec) with each epilogue (none, ReLU with a bias,
// ReLU6), and nothing past the output.
func TestWinogradAsmOutputMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	inf := float32(math.Inf(1))
	eps := []struct{ b, lo, hi float32 }{{0, -inf, inf}, {0.3, 0, inf}, {-0.2, 0, 6}}
	for _, s := range winoGrids() {
		oh, ow := s[0], s[1]
		ty, tx := (oh+1)/2, (ow+1)/2
		tr := winoTileRow(tx) + oh%2 // a tile row stride wider than tx, too
		P := ty * tr
		ldx := P + winoVecSlack() + 3
		m := make([]float32, winoN*ldx)
		for i := range m {
			m[i] = float32(4 * rng.NormFloat64())
		}
		for _, ep := range eps {
			name := fmt.Sprintf("%dx%d b=%v [%v, %v]", oh, ow, ep.b, ep.lo, ep.hi)
			const guard = 16
			want, have := make([]float32, oh*ow), make([]float32, oh*ow+guard)
			for i := range have {
				have[i] = float32(math.NaN())
			}
			tmp := make([]float32, winoTmpLen(ty, tx))
			winoOutputVec(want, ow, oh, m, ldx, ty, tx, tr, make([]float32, winoTmpLenVec(ty, tx)), ep.b, ep.lo, ep.hi)
			winoOutput(have[:oh*ow], ow, oh, m, ldx, ty, tx, tr, tmp, ep.b, ep.lo, ep.hi)
			for i, w := range want {
				if math.Float32bits(w) != math.Float32bits(have[i]) {
					t.Fatalf("%s: output (%d, %d): assembly %v, Go %v", name, i/ow, i%ow, have[i], w)
				}
			}
			for i := oh * ow; i < len(have); i++ {
				if !math.IsNaN(float64(have[i])) {
					t.Fatalf("%s: the assembly wrote y[%d], past its %d outputs", name, i, oh*ow)
				}
			}
		}
	}
}
