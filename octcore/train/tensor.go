package train

import (
	"math"
	"slices"

	"github.com/octave-project/octave/octcore"
)

// T is a batch of feature maps: C channels of N images of H x W pixels,
// stored channel-major with the batch inside, element (c, n, y, x) at
// D[((c*N+n)*H+y)*W+x]. With this layout the im2col matrix of a whole batch
// has one column per (image, pixel) and a convolution of the batch is one
// matrix product whose result is again in this layout.
type T struct {
	C, N, H, W int
	D          []float32
}

func newT(c, n, h, w int) *T { return &T{C: c, N: n, H: h, W: w, D: make([]float32, c*n*h*w)} }

// plane returns the H*W values of channel c of image n.
func (t *T) plane(c, n int) []float32 {
	hw := t.H * t.W
	return t.D[(c*t.N+n)*hw : (c*t.N+n+1)*hw]
}

// feat is a batched octave feature: either part may be nil.
type feat struct{ H, L *T }

func half(n int) int { return (n + 1) / 2 }

// pool2 writes the 2x2 average pool (ceil mode, padding excluded) of src into
// dst, which is src.C x src.N x half(H) x half(W).
func pool2(dst, src *T) {
	octcore.Pool2(dst.D, src.D, src.C*src.N, src.H, src.W)
}

// pool2Back adds the gradient of pool2 to dsrc: every input pixel receives
// the output gradient of its window divided by the pixels in that window.
func pool2Back(dsrc, ddst *T) {
	h, w := dsrc.H, dsrc.W
	oh, ow := ddst.H, ddst.W
	// The window sizes are 1, 2 or 4 pixels: multiplying by their
	// reciprocals is exact, the same as dividing.
	for p := 0; p < dsrc.C*dsrc.N; p++ {
		s := dsrc.D[p*h*w : (p+1)*h*w]
		d := ddst.D[p*oh*ow : (p+1)*oh*ow]
		for y := 0; y < h; y++ {
			ny := float32(2)
			if y|1 >= h {
				ny = 1
			}
			inv2, inv1 := 1/(2*ny), 1/ny
			row := s[y*w : (y+1)*w]
			drow := d[(y>>1)*ow : (y>>1+1)*ow]
			pairs := row[:w/2*2]
			for x := 0; x+1 < len(pairs); x += 2 {
				v := drow[x>>1] * inv2
				pairs[x] += v
				pairs[x+1] += v
			}
			if w%2 == 1 {
				row[w-1] += drow[w>>1] * inv1
			}
		}
	}
}

// up2Add adds the nearest-neighbour x2 upsampling of src, cropped to dst's
// size, to dst.
func up2Add(dst, src *T) {
	octcore.Upsample2Add(dst.D, src.D, src.C*src.N, dst.H, dst.W, src.H, src.W)
}

// up2Back writes the gradient of up2Add with respect to its source: each
// low-resolution pixel sums the gradients of the (up to four) pixels it fed.
func up2Back(dsrc, ddst *T) {
	h, w := ddst.H, ddst.W
	sh, sw := dsrc.H, dsrc.W
	clear(dsrc.D)
	for p := 0; p < dsrc.C*dsrc.N; p++ {
		s := dsrc.D[p*sh*sw : (p+1)*sh*sw]
		d := ddst.D[p*h*w : (p+1)*h*w]
		for y := 0; y < h; y++ {
			srow := s[(y>>1)*sw : (y>>1+1)*sw]
			for x, v := range d[y*w : (y+1)*w] {
				srow[x>>1] += v
			}
		}
	}
}

// convGeom is the geometry of one sub-convolution of a batch.
type convGeom struct {
	k, s, p    int
	inH, inW   int
	outH, outW int
	// masks[ky*k+kx][t] is all ones when output pixel t%(outH*outW) of an
	// image reads inside the source at tap (ky, kx), else zero; made by
	// shiftMasks for same-size stride-1 convolutions, nr values longer than
	// an image so that a panel of nr pixels starting anywhere in an image
	// finds its masks in one run.
	masks [][]uint32
	// offs[t] and phase[t]: where tap t of an output pixel reads (see
	// tapOffsets); offMin, offMax bound offs.
	offs, phase    []int
	offMin, offMax int
}

// shifted reports whether the im2col matrix of g is shifted copies of the
// source: stride 1 and output size equal to the input size, so that tap
// (ky, kx) of pixel i reads pixel i + (ky-p)*W + (kx-p) of the same
// channel when it is inside the image.
func (g *convGeom) shifted() bool {
	return g.s == 1 && g.outH == g.inH && g.outW == g.inW && !g.pointwise()
}

// phased reports whether g is a stride-2 convolution of an even-sized
// source with an output half its size: then its im2col matrix is shifted
// copies of the source's four phase planes (see phaseSplit), tap (ky, kx)
// reading plane ((ky-p)&1, (kx-p)&1) shifted by ((ky-p)>>1, (kx-p)>>1).
func (g *convGeom) phased() bool {
	return g.s == 2 && g.inH%2 == 0 && g.inW%2 == 0 && g.outH == g.inH/2 && g.outW == g.inW/2
}

// filled reports whether the im2col matrix of g is computed block by block
// inside the products (im2colRange): shifted and phased geometries.
func (g *convGeom) filled() bool { return g.shifted() || g.phased() }

// planes returns the number of planes per source channel that
// im2colRange reads: 4 phase planes when phased, else 1.
func (g *convGeom) planes() int {
	if g.phased() {
		return 4
	}
	return 1
}

// tapOffsets returns g.offs and g.phase, computing them on first use: tap
// t = ky*k+kx of output pixel i reads plane phase[t] of its channel at
// pixel i + offs[t], offs[t] = dy*outW + dx for the tap's shift (dy, dx)
// on the output grid ((ky-p, kx-p) when shifted).
func (g *convGeom) tapOffsets() ([]int, []int) {
	if g.offs == nil {
		g.offs = make([]int, g.k*g.k)
		g.phase = make([]int, g.k*g.k)
		for t := range g.offs {
			dy, dx, ph := g.tapShift(t)
			g.offs[t] = dy*g.outW + dx
			g.phase[t] = ph
		}
		g.offMin, g.offMax = slices.Min(g.offs), slices.Max(g.offs)
	}
	return g.offs, g.phase
}

// tapShift returns the shift on the output grid and the plane of tap t.
func (g *convGeom) tapShift(t int) (dy, dx, ph int) {
	dy, dx = t/g.k-g.p, t%g.k-g.p
	if g.phased() {
		ph = (dy&1)*2 + dx&1
		dy, dx = dy>>1, dx>>1
	}
	return dy, dx, ph
}

// shiftMasks returns g.masks, computing them on first use: masks[t][i] is
// all ones when tap t of output pixel i%(outH*outW) of an image reads
// inside the source, else zero.
func (g *convGeom) shiftMasks() [][]uint32 {
	if g.masks != nil {
		return g.masks
	}
	hw := g.outH * g.outW
	g.masks = make([][]uint32, g.k*g.k)
	for t := range g.masks {
		dy, dx, _ := g.tapShift(t)
		m := make([]uint32, hw+nr)
		for i := range m {
			pix := i % hw
			iy, ix := pix/g.outW+dy, pix%g.outW+dx
			if uint(iy) < uint(g.outH) && uint(ix) < uint(g.outW) {
				m[i] = ^uint32(0)
			}
		}
		g.masks[t] = m
	}
	return g.masks
}

// phaseSplit writes the phase planes of src (C x N x H x W, H and W even)
// into dst (4C x N x H/2 x W/2): plane 4c + 2py + px holds
// src[c][n][2y+py][2x+px].
func phaseSplit(dst, src *T) {
	h, w := src.H, src.W
	oh, ow := h/2, w/2
	per := src.N * oh * ow
	for c := 0; c < src.C; c++ {
		for n := 0; n < src.N; n++ {
			pl := src.plane(c, n)
			for y := 0; y < h; y++ {
				row := pl[y*w : (y+1)*w]
				o := (c*4+(y&1)*2)*per + (n*oh+y/2)*ow
				even, odd := dst.D[o:o+ow], dst.D[o+per:o+per+ow]
				for x := range even {
					even[x], odd[x] = row[2*x], row[2*x+1]
				}
			}
		}
	}
}

func outSize(in, k, s, p int) int { return (in+2*p-k)/s + 1 }

// pointwise reports whether the im2col matrix is the source itself.
func (g *convGeom) pointwise() bool {
	return g.k == 1 && g.s == 1 && g.p == 0
}

// col2im adds the adjoint of im2col: every entry of dcol goes back to the
// source pixel it was read from.
func col2im(dsrc *T, dcol []float32, g *convGeom) {
	P := dsrc.N * g.outH * g.outW
	k, W := g.k, dsrc.W
	for c := 0; c < dsrc.C; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				row := dcol[((c*k+ky)*k+kx)*P : ((c*k+ky)*k+kx+1)*P]
				i := 0
				off := kx - g.p
				x0, x1 := max(0, -off), min(g.outW, W-off)
				for n := 0; n < dsrc.N; n++ {
					pl := dsrc.plane(c, n)
					for oy := 0; oy < g.outH; oy++ {
						r := row[i : i+g.outW]
						i += g.outW
						iy := oy*g.s - g.p + ky
						if uint(iy) >= uint(dsrc.H) {
							continue
						}
						srow := pl[iy*W : (iy+1)*W]
						if g.s == 1 {
							if x0 < x1 {
								s := srow[x0+off : x1+off]
								for j, v := range r[x0:x1] {
									s[j] += v
								}
							}
							continue
						}
						for ox, v := range r {
							ix := ox*g.s + off
							if uint(ix) < uint(W) {
								srow[ix] += v
							}
						}
					}
				}
			}
		}
	}
}

// panelRow writes one row of a panel-major matrix (see bPanels): value n of
// the row goes to dst[(n/nr)*stride + n%nr], where dst starts at the row
// inside the first panel and stride is rows*nr.
type panelRow struct {
	dst    []float32
	stride int
	off, j int // start of the current panel, position in it
}

// put appends the values of s to the row.
func (w *panelRow) put(s []float32) {
	for len(s) > 0 {
		n := min(nr-w.j, len(s))
		copy(w.dst[w.off+w.j:w.off+w.j+n], s[:n])
		s = s[n:]
		w.next(n)
	}
}

// zeros appends n zeros to the row.
func (w *panelRow) zeros(n int) {
	for n > 0 {
		m := min(nr-w.j, n)
		clear(w.dst[w.off+w.j : w.off+w.j+m])
		n -= m
		w.next(m)
	}
}

func (w *panelRow) next(n int) {
	w.j += n
	if w.j == nr {
		w.j = 0
		w.off += w.stride
	}
}

// colPanels returns the length of the panel-major im2col matrix of src.
func colPanels(K, P int) int { return (P + nr - 1) / nr * nr * K }

// im2colPanels writes the im2col matrix of src (row (c, ky, kx), column
// (n, oy, ox)) panel-major, as the matrix product reads it (bPanels): no
// packing is needed afterwards. Values past the last column are left as
// they are.
func im2colPanels(col []float32, src *T, g *convGeom) {
	if g.shifted() {
		im2colShifted(col, src, g)
		return
	}
	k, W := g.k, src.W
	K := src.C * k * k
	var tmp [1024]float32
	for c := 0; c < src.C; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				row := (c*k+ky)*k + kx
				w := panelRow{dst: col[row*nr:], stride: K * nr}
				off := kx - g.p
				x0, x1 := max(0, -off), min(g.outW, W-off)
				for n := 0; n < src.N; n++ {
					pl := src.plane(c, n)
					for oy := 0; oy < g.outH; oy++ {
						iy := oy*g.s - g.p + ky
						if uint(iy) >= uint(src.H) {
							w.zeros(g.outW)
							continue
						}
						srow := pl[iy*W : (iy+1)*W]
						if g.s == 1 {
							if x0 >= x1 {
								w.zeros(g.outW)
								continue
							}
							w.zeros(x0)
							w.put(srow[x0+off : x1+off])
							w.zeros(g.outW - x1)
							continue
						}
						r := tmp[:g.outW]
						if g.outW > len(tmp) {
							r = make([]float32, g.outW)
						}
						for ox := range r {
							ix := ox*g.s + off
							if uint(ix) < uint(W) {
								r[ox] = srow[ix]
							} else {
								r[ox] = 0
							}
						}
						w.put(r)
					}
				}
			}
		}
	}
}

// im2colShifted is im2colPanels for a shifted geometry (see
// convGeom.shifted).
func im2colShifted(col []float32, src *T, g *convGeom) {
	im2colRange(col, src, g, 0, src.C*g.k*g.k, 0, src.N*g.outH*g.outW)
}

// im2colRange writes rows r0..r0+rn-1 and columns (pixels) p0..p0+pn-1 of
// the im2col matrix of a filled geometry (see convGeom.filled) as panels of
// nr columns: pixel p0+j of row r0+i at dst[(j/nr)*rn*nr + i*nr + j%nr].
// src is the source itself when g is shifted, its phase planes (phaseSplit)
// when phased. Every panel row is nr consecutive values of one plane,
// masked at the image borders; the panels are filled one after the other,
// so the writes are sequential. Values past the last pixel are zero.
func im2colRange(dst []float32, src *T, g *convGeom, r0, rn, p0, pn int) {
	kk := g.k * g.k
	hw := src.H * src.W
	P := src.N * hw
	cs := g.planes() * P // distance between channels
	masks := g.shiftMasks()
	offs, phase := g.tapOffsets()
	var msBuf [64][]uint32
	var oBuf [64]int
	ms, o := msBuf[:0], oBuf[:0]
	if kk > len(msBuf) {
		ms, o = make([][]uint32, 0, kk), make([]int, 0, kk)
	}
	ms, o = ms[:kk], o[:kk]
	for t := range o {
		o[t] = phase[t]*P + offs[t]
	}
	np := (pn + nr - 1) / nr
	pix0 := p0 % hw
	for q := 0; q < np; q++ {
		base := p0 + q*nr
		panel := dst[q*rn*nr : (q+1)*rn*nr]
		if base+g.offMin < 0 || base+g.offMax+nr > P || base+nr > P {
			im2colEdge(panel, src, g, r0, rn, base, pix0)
		} else {
			// Every tap of the panel reads inside its plane: rows are
			// masked copies, one channel's taps at a time.
			for t := range ms {
				ms[t] = masks[t][pix0 : pix0+nr]
			}
			c, t := r0/kk, r0%kk
			for i := 0; i < rn; c, t = c+1, 0 {
				n := min(kk-t, rn-i)
				maskTaps(panel[i*nr:(i+n)*nr], src.D, c*cs+base, o[t:t+n], ms[t:t+n])
				i += n
			}
		}
		pix0 = (pix0 + nr) % hw
	}
}

// im2colEdge writes one panel of im2colRange (pixels base..base+nr-1) whose
// taps read past the ends of their planes.
func im2colEdge(panel []float32, src *T, g *convGeom, r0, rn, base, pix0 int) {
	kk := g.k * g.k
	P := src.N * src.H * src.W
	masks := g.shiftMasks()
	offs, phase := g.tapOffsets()
	var tmp [64]float32
	b := tmp[:nr]
	if nr > len(tmp) {
		b = make([]float32, nr)
	}
	c, t := r0/kk, r0%kk
	for i := 0; i < rn; i++ {
		pl := (c*g.planes() + phase[t]) * P
		plane := src.D[pl : pl+P]
		s0 := base + offs[t]
		for j := range b {
			b[j] = 0
			if x := s0 + j; x >= 0 && x < P && base+j < P {
				b[j] = plane[x]
			}
		}
		maskCopy(panel[i*nr:(i+1)*nr], b, masks[t][pix0:pix0+nr])
		if t++; t == kk {
			t = 0
			c++
		}
	}
}

// maskTapsGo writes, for each tap t, dst[t*nr+j] = src[o+offs[t]+j] where
// ms[t][j] is all ones, 0 elsewhere, for j < nr (maskTaps: vectors in the
// SIMD build).
func maskTapsGo(dst, src []float32, o int, offs []int, ms [][]uint32) {
	for t, d := range offs {
		maskCopyGo(dst[t*nr:(t+1)*nr], src[o+d:o+d+nr], ms[t])
	}
}

// maskCopyGo writes dst[j] = src[j] where m[j] is all ones, 0 where it is 0
// (maskCopy: vectors in the SIMD build, this loop elsewhere and for tails).
func maskCopyGo(dst, src []float32, m []uint32) {
	src, m = src[:len(dst)], m[:len(dst)]
	for j := range dst {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}
