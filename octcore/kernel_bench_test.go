package octcore

import (
	"math/rand"
	"testing"
)

// The parts of BenchmarkConv3x3, timed apart: padding the input, packing all
// panels, the full product (packing included) and the epilogue.
func BenchmarkConv3x3Parts(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	x := randTensor(rng, 64, 56, 56)
	var ws workspace
	ws.tile = make([]float32, MR*nr)
	srcs, counts := []*Tensor{x}, []int{64}
	w := randSlice(rng, 64*576)
	a := packA(w, 64, 576, 576)
	const wp = 58
	geo3 := newGeom(3, 1, 1, 1, 56, 56)
	out := make([]float32, 64*56*wp)
	r := rhs{K: 576, N: 56 * wp, srcW: wp}
	r.padded = padInto(&ws, srcs, counts, -1, &geo3, 2*wp+nr+3)
	r.offs = make([]int32, 576)
	for c := 0; c < 64; c++ {
		for t := 0; t < 9; t++ {
			r.offs[c*9+t] = int32(c*58*58 + t/3*wp + t%3)
		}
	}
	r.maxOff = int(r.offs[575])
	panel := make([]float32, 576*nr)
	b.Run("pad", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			padInto(&ws, srcs, counts, -1, &geo3, 2*wp+nr+3)
		}
	})
	b.Run("pack", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for p := 0; p < (r.N+nr-1)/nr; p++ {
				r.pack(panel, p)
			}
		}
	})
	b.Run("gemm", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			gemmPanels(&r, []packedA{a}, [][]float32{out}, panel, ws.tile)
		}
		b.ReportMetric(2*64*576*3136*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("finish", func(b *testing.B) {
		ep := &epilogue{bias: make([]float32, 64), act: ActReLU}
		dst := make([]float32, 64*56*56)
		for i := 0; i < b.N; i++ {
			finish(dst, out, 64, 56, 56, wp, ep, nil)
		}
	})
}

// BenchmarkPool2 is OctConv's 2x2 average pool of a 128-channel 56x56 map.
func BenchmarkPool2(b *testing.B) {
	src := randSlice(rand.New(rand.NewSource(1)), 128*56*56)
	dst := make([]float32, 128*28*28)
	runBench(b, 0, func() { Pool2(dst, src, 128, 56, 56) })
}

// BenchmarkMaxPool is the ResNet stem's 3x3/2 max pool of 64 channels at
// 112x112.
func BenchmarkMaxPool(b *testing.B) {
	src := randSlice(rand.New(rand.NewSource(1)), 64*112*112)
	dst := make([]float32, 64*56*56)
	runBench(b, 0, func() { poolGeneric(dst, src, 64, 112, 112, 3, 2, 1, 56, 56, true) })
}
