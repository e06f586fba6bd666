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
// for every tile, and nothing past the slack of V.
func TestWinogradAsmInputMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, s := range winoGrids() {
		oh, ow := s[0], s[1]
		for _, extra := range []int{0, 3} { // padded rows wider than the output needs
			name := fmt.Sprintf("%dx%d+%d", oh, ow, extra)
			ty, tx := (oh+1)/2, (ow+1)/2
			hp, wp := oh+2, ow+2+extra
			src := make([]float32, hp*wp+wp+1)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			P := ty * tx
			ldx := P + winoVecSlack() + 1
			n := winoN * ldx
			const guard = 64
			sentinel := float32(math.NaN())
			want, have := make([]float32, n+guard), make([]float32, n+guard)
			for i := range want {
				want[i], have[i] = sentinel, sentinel
			}
			tmpLen := winoTmpLen(ty, tx)
			tmp := make([]float32, tmpLen+guard)
			for i := range tmp {
				tmp[i] = sentinel
			}
			winoInputVec(want, ldx, src, wp, ty, tx, make([]float32, winoTmpLenVec(ty, tx)))
			winoInput(have, ldx, src, wp, ty, tx, tmp[:tmpLen])
			for x := 0; x < winoN; x++ {
				for tt := 0; tt < P; tt++ {
					w, h := want[x*ldx+tt], have[x*ldx+tt]
					if math.Float32bits(w) != math.Float32bits(h) {
						t.Fatalf("%s: position %d tile %d: assembly %v, Go %v", name, x, tt, h, w)
					}
				}
			}
			for i := n; i < n+guard; i++ {
				if !math.IsNaN(float64(have[i])) {
					t.Fatalf("%s: the assembly wrote v[%d], past its %d values", name, i, n)
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
