package octcore

// geom is the geometry of one convolution over a source of size inH x inW.
type geom struct {
	kh, kw, sh, sw, ph, pw, dh, dw int
	inH, inW                       int
	outH, outW                     int
}

// convOut returns the output size of a convolution along one axis.
func convOut(in, k, s, p, d int) int {
	span := d*(k-1) + 1
	if in+2*p < span {
		return 0
	}
	return (in+2*p-span)/s + 1
}

func newGeom(k, s, p, d, inH, inW int) geom {
	return geom{kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d,
		inH: inH, inW: inW, outH: convOut(inH, k, s, p, d), outW: convOut(inW, k, s, p, d)}
}

// usesPhase reports whether some tap of the kernel reads phase plane (py, px)
// of a stride-(sh, sw) convolution (see convOp.conv).
func (g *geom) usesPhase(py, px int) bool {
	okY, okX := false, false
	for ky := 0; ky < g.kh; ky++ {
		okY = okY || ky*g.dh%g.sh == py
	}
	for kx := 0; kx < g.kw; kx++ {
		okX = okX || kx*g.dw%g.sw == px
	}
	return okY && okX
}
