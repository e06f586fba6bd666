package train

// sumBlock is the length of the runs that sums adds in float32 (each
// lane of the SIMD build's two vectors, or each of the Go loop's four
// accumulators, then adds 1024/16 values with AVX2, 256 in Go).
const sumBlock = 1024

// sumsGo returns the sum of x and the sum of x*y (y may be nil: then of x*x),
// accumulated in float32 over short blocks with four independent
// accumulators, and across blocks in float64.
func sumsGo(x, y []float32) (s, q float64) {
	if y == nil {
		y = x
	}
	y = y[:len(x)]
	for b0 := 0; b0 < len(x); b0 += sumBlock {
		xb := x[b0:min(b0+sumBlock, len(x))]
		yb := y[b0 : b0+len(xb)]
		var s0, s1, s2, s3, q0, q1, q2, q3 float32
		i := 0
		for ; i+4 <= len(xb); i += 4 {
			x0, x1, x2, x3 := xb[i], xb[i+1], xb[i+2], xb[i+3]
			y0, y1, y2, y3 := yb[i], yb[i+1], yb[i+2], yb[i+3]
			s0 += x0
			s1 += x1
			s2 += x2
			s3 += x3
			q0 += x0 * y0
			q1 += x1 * y1
			q2 += x2 * y2
			q3 += x3 * y3
		}
		for ; i < len(xb); i++ {
			s0 += xb[i]
			q0 += xb[i] * yb[i]
		}
		s += float64(s0 + s1 + s2 + s3)
		q += float64(q0 + q1 + q2 + q3)
	}
	return s, q
}
