package octcore

// plane is a run of channels of a channel-major map, used as one source of
// an im2col matrix: channels c0 .. c0+n-1 of data, each h x w.
type plane struct {
	data  []float32
	c0, n int
	h, w  int
}

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

// colRows returns K, the rows of the im2col matrix of srcs.
func colRows(srcs []plane, g *geom) int {
	k := 0
	for _, s := range srcs {
		k += s.n * g.kh * g.kw
	}
	return k
}

// colSize returns the number of floats packB writes for srcs.
func colSize(srcs []plane, g *geom) int {
	N := g.outH * g.outW
	return (N + nr - 1) / nr * nr * colRows(srcs, g)
}

// packB writes the im2col matrix of the channel-concatenated sources into dst
// as panels of nr output pixels: panel p holds, for each row k (source,
// channel, ky, kx in that order), the nr input values that output pixels
// p*nr .. p*nr+nr-1 read (zero outside the input and past the last pixel).
func packB(dst []float32, srcs []plane, g *geom) {
	K := colRows(srcs, g)
	N := g.outH * g.outW
	panels := (N + nr - 1) / nr
	pointwise := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 &&
		g.outH == g.inH && g.outW == g.inW
	var iy0, ix0 [64]int
	for p := 0; p < panels; p++ {
		panel := dst[p*K*nr : (p+1)*K*nr]
		n0 := p * nr
		nn := min(nr, N-n0)
		if pointwise {
			k := 0
			for _, s := range srcs {
				hw := s.h * s.w
				for c := 0; c < s.n; c++ {
					row := panel[k*nr : (k+1)*nr]
					copy(row, s.data[(s.c0+c)*hw+n0:(s.c0+c)*hw+n0+nn])
					clear(row[nn:])
					k++
				}
			}
			continue
		}
		oy, ox := n0/g.outW, n0%g.outW
		for j := 0; j < nn; j++ {
			iy0[j] = oy*g.sh - g.ph
			ix0[j] = ox*g.sw - g.pw
			ox++
			if ox == g.outW {
				ox = 0
				oy++
			}
		}
		k := 0
		for _, s := range srcs {
			hw := s.h * s.w
			for c := 0; c < s.n; c++ {
				ch := s.data[(s.c0+c)*hw : (s.c0+c+1)*hw]
				for ky := 0; ky < g.kh; ky++ {
					dy := ky * g.dh
					for kx := 0; kx < g.kw; kx++ {
						dx := kx * g.dw
						row := panel[k*nr : (k+1)*nr]
						for j := 0; j < nn; j++ {
							iy, ix := iy0[j]+dy, ix0[j]+dx
							if uint(iy) < uint(s.h) && uint(ix) < uint(s.w) {
								row[j] = ch[iy*s.w+ix]
							} else {
								row[j] = 0
							}
						}
						clear(row[nn:])
						k++
					}
				}
			}
		}
	}
}
