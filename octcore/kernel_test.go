package octcore

import (
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
