//go:build !goexperiment.simd

package octcore

// nr is the number of output pixels in one register tile of the scalar build.
var nr = 4

// lanes is 1: the scalar build has no vectors.
var lanes = 1

// SIMD reports whether the kernels of this build use vector instructions.
const SIMD = false

// microKernel computes the MR x nr tile
//
//	c[i*ldc+j] = sum_k a[k*MR+i] * b[k*ldb+j]
//
// in sixteen scalar accumulators.
func microKernel(K int, a, b, c []float32, ldc, ldb int) {
	a = a[:K*MR]
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
	t := c[:4]
	t[0], t[1], t[2], t[3] = c00, c01, c02, c03
	t = c[ldc : ldc+4]
	t[0], t[1], t[2], t[3] = c10, c11, c12, c13
	t = c[2*ldc : 2*ldc+4]
	t[0], t[1], t[2], t[3] = c20, c21, c22, c23
	t = c[3*ldc : 3*ldc+4]
	t[0], t[1], t[2], t[3] = c30, c31, c32, c33
}

// copyPanelRow copies the nr values of src into dst.
func copyPanelRow(dst, src []float32) {
	d, s := dst[:4], src[:4]
	d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
}

// rowEpilogue writes d[x] = clamp(s[x] + b + r[x], lo, hi); r may be nil.
func rowEpilogue(d, s, r []float32, b, lo, hi float32) {
	s = s[:len(d)]
	if r != nil {
		r = r[:len(d)]
		for x := range d {
			d[x] = min(max(s[x]+b+r[x], lo), hi)
		}
		return
	}
	for x := range d {
		d[x] = min(max(s[x]+b, lo), hi)
	}
}

// rowEpilogue2 writes d[x] = clamp(s[x] + b + u[x] + r[x], lo, hi), summed in
// that order.
func rowEpilogue2(d, s, u, r []float32, b, lo, hi float32) {
	s, u, r = s[:len(d)], u[:len(d)], r[:len(d)]
	for x := range d {
		d[x] = min(max(s[x]+b+u[x]+r[x], lo), hi)
	}
}

// dot returns the inner product of a and b (len(b) >= len(a)).
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	k := 0
	for ; k+4 <= len(a); k += 4 {
		s0 += a[k] * b[k]
		s1 += a[k+1] * b[k+1]
		s2 += a[k+2] * b[k+2]
		s3 += a[k+3] * b[k+3]
	}
	for ; k < len(a); k++ {
		s0 += a[k] * b[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// addRows writes d[x] = a[x] + b[x].
func addRows(d, a, b []float32) {
	a, b = a[:len(d)], b[:len(d)]
	for x := range d {
		d[x] = a[x] + b[x]
	}
}

// maxRows writes d[x] = max(a[x], b[x]).
func maxRows(d, a, b []float32) {
	a, b = a[:len(d)], b[:len(d)]
	for x := range d {
		d[x] = max(a[x], b[x])
	}
}

// dwConv3 is the 3x3 depthwise kernel of depthwise3x3 (see dwConv3Generic).
func dwConv3(d, p, w []float32, oh, ow, ldp, step, c1, c2 int, b, lo, hi float32) {
	dwConv3Generic(d, p, w, oh, ow, ldp, step, c1, c2, b, lo, hi)
}
