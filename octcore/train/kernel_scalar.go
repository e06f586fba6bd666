//go:build !goexperiment.simd

package train

// nr is the number of columns of one register tile in the scalar build.
var nr = 4

// microKernel computes the mr x nr tile tile[i*nr+j] = sum_k a[k*mr+i] * b[k*ldb+j]:
// a is a packed panel of A, b is either a packed panel of B (ldb = nr) or B
// read in place. The sums run in sixteen scalar accumulators.
func microKernel(K int, a, b []float32, ldb int, tile []float32) {
	a = a[:K*mr]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for k := 0; k < K; k++ {
		bk := b[k*ldb : k*ldb+4]
		ak := a[k*4 : k*4+4]
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		a0, a1, a2, a3 := ak[0], ak[1], ak[2], ak[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	t := tile[:16]
	t[0], t[1], t[2], t[3] = c00, c01, c02, c03
	t[4], t[5], t[6], t[7] = c10, c11, c12, c13
	t[8], t[9], t[10], t[11] = c20, c21, c22, c23
	t[12], t[13], t[14], t[15] = c30, c31, c32, c33
}
