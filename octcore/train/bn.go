package train

// The elementwise passes around the matrix products, one channel at a
// time: BatchNorm (training mode) with its residual and ReLU forward, and
// the ReLU mask, residual gradient and BatchNorm sums backward. The SIMD
// build (vec_amd64.go) has vector versions of the same loops, doing the
// same operations on each value (no fused multiply-adds), so they differ
// from these only in the order of the sums.

// bnApplyGo writes z[k] = (z[k]-mu)*inv, the normalized value, and
// o[k] = ga*z[k] + be (+ r[k] when r is not nil), clamped at 0 when relu.
func bnApplyGo(z, o, r []float32, mu, inv, ga, be float32, relu bool) {
	o = o[:len(z)]
	if r != nil {
		r = r[:len(z)]
	}
	for k, v := range z {
		xh := (v - mu) * inv
		z[k] = xh
		y := ga*xh + be
		if r != nil {
			y += r[k]
		}
		if relu && y < 0 {
			y = 0
		}
		o[k] = y
	}
}

// gradPrepGo turns g, the gradient of a layer's output, into the gradient
// of its sum before the ReLU: zero where o[k] <= 0 (o nil: no ReLU). It
// adds the result to r (the residual's gradient) when r is not nil and
// returns the sums of g and of g*xh (xh nil: none, both 0).
func gradPrepGo(g, o, r, xh []float32) (sg, sgx float64) {
	n := len(g)
	if o != nil {
		o = o[:n]
		for k := range g {
			if o[k] <= 0 {
				g[k] = 0
			}
		}
	}
	if r != nil {
		r = r[:n]
		for k, v := range g {
			r[k] += v
		}
	}
	if xh == nil {
		return 0, 0
	}
	return sums(g, xh)
}

// bnBackGo writes g[k] = a * (g[k] - mg - xh[k]*mgx): the gradient of the
// BatchNorm input from that of its output.
func bnBackGo(g, xh []float32, a, mg, mgx float32) {
	xh = xh[:len(g)]
	for k, v := range g {
		g[k] = a * (v - mg - xh[k]*mgx)
	}
}
