package octcore

import "github.com/chewxy/math32"

// Pool2 writes the 2x2 average pool (stride 2, ceil mode, padding excluded
// from the count) of the c channels of src (h x w each) into dst, which holds
// c x ceil(h/2) x ceil(w/2) values. This is the pooling of OctConv: an odd
// edge row or column averages the pixels that exist.
func Pool2(dst, src []float32, c, h, w int) {
	oh, ow := half(h), half(w)
	for ch := 0; ch < c; ch++ {
		pool2Map(dst[ch*oh*ow:(ch+1)*oh*ow], ow, src[ch*h*w:(ch+1)*h*w], h, w)
	}
}

// Upsample2Add adds the nearest-neighbour x2 upsampling of src (c x sh x sw),
// cropped to h x w, into dst (c x h x w).
func Upsample2Add(dst, src []float32, c, h, w, sh, sw int) {
	for ch := 0; ch < c; ch++ {
		s := src[ch*sh*sw : (ch+1)*sh*sw]
		d := dst[ch*h*w : (ch+1)*h*w]
		for y := 0; y < h; y++ {
			sr := s[(y>>1)*sw : (y>>1)*sw+sw]
			dr := d[y*w : y*w+w]
			for x := range dr {
				dr[x] += sr[x>>1]
			}
		}
	}
}

// poolGeneric computes a k x k pool with stride s and padding p (padding
// never counts: max ignores it, average divides by the pixels inside). Each
// output row first reduces its input rows column-wise into a padded row, then
// reduces every window along that row with k-1 shifted vector ops, and picks
// every s-th window.
func poolGeneric(dst, src []float32, c, h, w, k, s, p, oh, ow int, isMax bool) {
	if isMax && maxPoolFast(dst, src, c, h, w, k, s, p, oh, ow) {
		return
	}
	n := (ow-1)*s + 1 // windows along a row, in padded coordinates
	var stack [2048]float32
	buf := stack[:]
	if 2*(n+k) > len(buf) {
		buf = make([]float32, 2*(n+k))
	}
	row, win := buf[:n+k-1], buf[n+k:2*n+k]
	var fill float32 // padding: never the max, adds nothing to a sum
	if isMax {
		fill = math32.Inf(-1)
	}
	for x := range row {
		row[x] = fill
	}
	cols := row[p:min(p+w, len(row))] // the columns that windows read
	nc := len(cols)
	for ch := 0; ch < c; ch++ {
		in := src[ch*h*w : (ch+1)*h*w]
		out := dst[ch*oh*ow : (ch+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1 := max(oy*s-p, 0), min(oy*s-p+k, h)
			copy(cols, in[y0*w:y0*w+nc])
			for y := y0 + 1; y < y1; y++ {
				if isMax {
					maxRows(cols, cols, in[y*w:y*w+nc])
				} else {
					addRows(cols, cols, in[y*w:y*w+nc])
				}
			}
			copy(win, row[:n])
			for j := 1; j < k; j++ {
				if isMax {
					maxRows(win, win, row[j:j+n])
				} else {
					addRows(win, win, row[j:j+n])
				}
			}
			o := out[oy*ow : (oy+1)*ow]
			if isMax {
				copyRows(o, ow, win, 0, 1, ow, s)
				continue
			}
			for ox := range o {
				x0, x1 := max(ox*s-p, 0), min(ox*s-p+k, w)
				o[ox] = win[ox*s] / float32((y1-y0)*(x1-x0))
			}
		}
	}
}

// depthwise computes a depthwise convolution: channel ch of dst is channel ch
// of src convolved with the k x k filter wt[ch*k*k:], plus bias, then act.
func depthwise(dst, src, wt, bias []float32, c int, g *geom, act Activation) {
	k := g.kh
	for ch := 0; ch < c; ch++ {
		in := src[ch*g.inH*g.inW : (ch+1)*g.inH*g.inW]
		out := dst[ch*g.outH*g.outW : (ch+1)*g.outH*g.outW]
		f := wt[ch*k*k : (ch+1)*k*k]
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		for oy := 0; oy < g.outH; oy++ {
			row := out[oy*g.outW : (oy+1)*g.outW]
			for i := range row {
				row[i] = b
			}
			for ky := 0; ky < k; ky++ {
				iy := oy*g.sh - g.ph + ky*g.dh
				if uint(iy) >= uint(g.inH) {
					continue
				}
				irow := in[iy*g.inW : (iy+1)*g.inW]
				for kx := 0; kx < k; kx++ {
					wv := f[ky*k+kx]
					off := kx*g.dw - g.pw
					// Output columns whose input column is inside the row.
					ox0 := 0
					if off < 0 {
						ox0 = (-off + g.sw - 1) / g.sw
					}
					ox1 := g.outW
					if lim := (g.inW - 1 - off); lim < 0 {
						ox1 = 0
					} else if m := lim/g.sw + 1; m < ox1 {
						ox1 = m
					}
					if ox0 >= ox1 {
						continue
					}
					if g.sw == 1 {
						src := irow[ox0+off : ox1+off]
						dst := row[ox0:ox1]
						for i := range dst {
							dst[i] += wv * src[i]
						}
					} else {
						for ox := ox0; ox < ox1; ox++ {
							row[ox] += wv * irow[ox*g.sw+off]
						}
					}
				}
			}
			applyAct(row, act)
		}
	}
}

// depthwise3x3 is depthwise for the common case of 3x3 kernels, padding 1,
// dilation 1 and stride 1 or 2, through the vector kernel dwConv3; it
// reports false, having done nothing, for any other geometry. Each channel
// is first copied with its zero border into pad ((inH+2) x (inW+2) floats),
// so that the kernel reads nine shifted rows with no edge cases. For stride
// 2 each padded row is stored as its even columns, then its odd ones:
// output x then reads even[x], odd[x] and even[x+1], three contiguous runs.
func depthwise3x3(dst, src, wt, bias []float32, c int, g *geom, act Activation, ws *workspace) bool {
	if g.kh != 3 || g.kw != 3 || g.ph != 1 || g.pw != 1 || g.dh != 1 || g.dw != 1 ||
		g.sh != g.sw || g.sh > 2 || g.outH == 0 || g.outW == 0 {
		return false
	}
	s, inH, inW := g.sh, g.inH, g.inW
	wp, hp := inW+2, inH+2
	p := ws.buf(bufPad, hp*wp)
	lo, hi := act.bounds()
	e := (wp + 1) / 2 // even columns of a padded row
	c1, c2 := 1, 2
	if s == 2 {
		c1, c2 = e, 1
	}
	oh, ow := g.outH, g.outW
	clear(p[:wp])
	clear(p[(hp-1)*wp:])
	for ch := 0; ch < c; ch++ {
		in := src[ch*inH*inW : (ch+1)*inH*inW]
		for y := 0; y < inH; y++ {
			row := p[(y+1)*wp : (y+2)*wp]
			ir := in[y*inW : (y+1)*inW]
			if s == 1 {
				row[0] = 0
				copy(row[1:], ir)
				row[wp-1] = 0
				continue
			}
			// Padded column j goes to j/2 (even j) or e+j/2 (odd j).
			row[0] = 0
			for i, v := range ir {
				if j := i + 1; j&1 == 0 {
					row[j>>1] = v
				} else {
					row[e+j>>1] = v
				}
			}
			if j := wp - 1; j&1 == 0 {
				row[j>>1] = 0
			} else {
				row[e+j>>1] = 0
			}
		}
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		dwConv3(dst[ch*oh*ow:(ch+1)*oh*ow], p, wt[ch*9:ch*9+9], oh, ow, wp, s*wp, c1, c2, b, lo, hi)
	}
	return true
}

// dwConv3Generic is dwConv3 one value at a time: d[y*ow+x] = clamp(b +
// sum over ky, kx of w[3*ky+kx] * p[y*step + ky*ldp + off[kx] + x], lo, hi)
// with off = {0, c1, c2}, each row ky summed first, the rows then in order.
func dwConv3Generic(d, p, w []float32, oh, ow, ldp, step, c1, c2 int, b, lo, hi float32) {
	w = w[:9]
	off := [3]int{0, c1, c2}
	for y := 0; y < oh; y++ {
		dr := d[y*ow : (y+1)*ow]
		for x := range dr {
			var r [3]float32
			for ky := 0; ky < 3; ky++ {
				base := y*step + ky*ldp + x
				r[ky] = w[3*ky]*p[base+off[0]] + w[3*ky+1]*p[base+off[1]] + w[3*ky+2]*p[base+off[2]]
			}
			dr[x] = min(max(b+r[0]+r[1]+r[2], lo), hi)
		}
	}
}

// Softmax replaces v by its softmax, computed stably.
func Softmax(v []float32) {
	if len(v) == 0 {
		return
	}
	m := v[0]
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	var sum float32
	for i, x := range v {
		e := math32.Exp(x - m)
		v[i] = e
		sum += e
	}
	for i := range v {
		v[i] /= sum
	}
}
