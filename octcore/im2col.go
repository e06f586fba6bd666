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

// segment is a run of a panel's output pixels that lie in one output row.
type segment struct {
	j, n   int // position in the panel and length
	oy, ox int // output coordinates of the first pixel
}

// packPanel packs one panel of a general convolution. The panel's pixels are
// split into runs along output rows; within a run, a stride-1 convolution
// reads a contiguous run of an input row, copied as a block, with zeros only
// where the run crosses the padding.
func packPanel(panel []float32, srcs []plane, g *geom, n0, nn int) {
	var segs [8]segment
	ns := 0
	oy, ox := n0/g.outW, n0%g.outW
	for j := 0; j < nn && ns < len(segs); {
		n := min(nn-j, g.outW-ox)
		segs[ns] = segment{j: j, n: n, oy: oy, ox: ox}
		ns++
		j += n
		ox, oy = 0, oy+1
		if ns == len(segs) && j < nn {
			ns = -1 // too many rows in one panel (a very narrow map): go element by element
			break
		}
	}
	k := 0
	for _, s := range srcs {
		hw := s.h * s.w
		for c := 0; c < s.n; c++ {
			ch := s.data[(s.c0+c)*hw : (s.c0+c+1)*hw]
			for ky := 0; ky < g.kh; ky++ {
				for kx := 0; kx < g.kw; kx++ {
					row := panel[k*nr : (k+1)*nr]
					if ns < 0 {
						packElems(row, ch, s.h, s.w, g, n0, nn, ky, kx)
					} else {
						for _, sg := range segs[:ns] {
							packRun(row[sg.j:sg.j+sg.n], ch, s.h, s.w, g, sg.oy, sg.ox, ky, kx)
						}
					}
					clear(row[nn:])
					k++
				}
			}
		}
	}
}

// packRun fills dst with the inputs that output pixels (oy, ox .. ox+len-1)
// read at kernel tap (ky, kx).
func packRun(dst, ch []float32, h, w int, g *geom, oy, ox, ky, kx int) {
	iy := oy*g.sh - g.ph + ky*g.dh
	if uint(iy) >= uint(h) {
		clear(dst)
		return
	}
	in := ch[iy*w : (iy+1)*w]
	ix := ox*g.sw - g.pw + kx*g.dw
	if g.sw != 1 {
		for j := range dst {
			if uint(ix) < uint(w) {
				dst[j] = in[ix]
			} else {
				dst[j] = 0
			}
			ix += g.sw
		}
		return
	}
	// Stride 1: zeros left of the input, a block copy, zeros right of it.
	j := 0
	for ; j < len(dst) && ix+j < 0; j++ {
		dst[j] = 0
	}
	end := min(len(dst), w-ix)
	if end > j {
		src := in[ix+j : ix+end]
		d := dst[j:end]
		for i := range d {
			d[i] = src[i]
		}
		j = end
	}
	clear(dst[max(j, 0):])
}

// packElems is the element-by-element fallback of packPanel.
func packElems(row, ch []float32, h, w int, g *geom, n0, nn, ky, kx int) {
	oy, ox := n0/g.outW, n0%g.outW
	for j := 0; j < nn; j++ {
		iy := oy*g.sh - g.ph + ky*g.dh
		ix := ox*g.sw - g.pw + kx*g.dw
		if uint(iy) < uint(h) && uint(ix) < uint(w) {
			row[j] = ch[iy*w+ix]
		} else {
			row[j] = 0
		}
		ox++
		if ox == g.outW {
			ox = 0
			oy++
		}
	}
}
