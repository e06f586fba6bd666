//go:build goexperiment.simd

package train

import "simd"

var lanes = simd.VectorBitSize() / 32

// nr is the number of columns of one register tile: two vectors.
var nr = 2 * lanes

// microKernel computes the mr x nr tile tile[i*nr+j] = sum_k a[k*mr+i] * b[k*ldb+j]:
// a is a packed panel of A, b is either a packed panel of B (ldb = nr) or B
// read in place. The sums run in eight vector accumulators.
func microKernel(K int, a, b []float32, ldb int, tile []float32) {
	L := lanes
	w := 2 * L
	a = a[:K*mr]
	var c00, c01, c10, c11, c20, c21, c30, c31 simd.Float32s
	for k := 0; k < K; k++ {
		bk := b[k*ldb : k*ldb+w]
		b0 := simd.LoadFloat32s(bk)
		b1 := simd.LoadFloat32s(bk[L:])
		ak := a[k*mr : k*mr+mr]
		a0 := simd.BroadcastFloat32s(ak[0])
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 := simd.BroadcastFloat32s(ak[1])
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 := simd.BroadcastFloat32s(ak[2])
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 := simd.BroadcastFloat32s(ak[3])
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
	}
	t := tile[:mr*w]
	c00.Store(t[0:])
	c01.Store(t[L:])
	c10.Store(t[w:])
	c11.Store(t[w+L:])
	c20.Store(t[2*w:])
	c21.Store(t[2*w+L:])
	c30.Store(t[3*w:])
	c31.Store(t[3*w+L:])
}
