//go:build !(goexperiment.simd && wasm)

package octcore

import (
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
