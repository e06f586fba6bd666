package octcore

import "math"

// The convolution kernels reduce every convolution to a matrix product
//
//	out[m][n] = epilogue( sum_k A[m][k] * B[k][n] )
//
// with A the weights (M output channels x K = in-channels*kh*kw), packed once
// at build time in blocks of MR rows, and B the im2col matrix of the input
// (K x N output pixels), packed per call in panels of NR columns. A micro
// kernel computes an MR x NR register tile. The epilogue (bias, residual add,
// upsample-add of the low-frequency path, activation) is not fused into the
// tile: [finish] applies it in one pass over each product's output once the
// product of a group is complete, and also drops the extra columns of the
// wide layout. MR is fixed; NR (nr) is 4 in the scalar build
// (kernel_scalar.go), three vectors of the SIMD width natively
// (lanes_other.go) and two in WebAssembly SIMD (lanes_wasm.go).

// MR is the number of output channels in one register tile.
const MR = 4

// packedA is a weight matrix packed for the micro kernel: block b holds, for
// every k, the MR values A[b*MR+i][k] (zero for rows past M).
type packedA struct {
	M, K int
	data []float32
	// wino holds, once a call has run this product as Winograd F(2x2, 3x3)
	// (winograd.go), the same weights transformed; nil for products that
	// cannot run that way.
	wino *winoSlot
}

// packA packs the M x K row-major matrix src (row stride lda).
func packA(src []float32, M, K, lda int) packedA {
	blocks := (M + MR - 1) / MR
	p := packedA{M: M, K: K, data: make([]float32, blocks*MR*K)}
	for b := 0; b < blocks; b++ {
		dst := p.data[b*MR*K : (b+1)*MR*K]
		for i := 0; i < MR; i++ {
			m := b*MR + i
			if m >= M {
				break
			}
			row := src[m*lda : m*lda+K]
			for k, v := range row {
				dst[k*MR+i] = v
			}
		}
	}
	return p
}

// epilogue describes what happens to a finished output value before it is
// stored: v = acc + bias[m] + add[m][n] + low[m][y/2][x/2], then the
// activation. Any field may be empty.
type epilogue struct {
	bias []float32 // per output row
	add  []float32 // residual, same layout as the output
	// low is a low-resolution map (rows of lowH x lowW) added after nearest
	// upsampling by two.
	low        []float32
	lowH, lowW int
	act        Activation
}

// rhs is the right-hand side of a convolution product, packed one panel of
// nr output pixels at a time. The product runs over a "wide" layout of the
// output whose rows are as wide as the zero-padded input (see padInto), so
// that output pixel n of the wide layout reads padded value n + offs[k] at
// row k (one offset per channel and kernel tap). Row k of panel p is then a
// contiguous run of the padded input: packing is a copy, with no index
// arithmetic per pixel and no bounds tests for the padding. The wide
// layout's extra columns are dropped by finish.
type rhs struct {
	padded []float32
	offs   []int32
	// A 1x1 convolution's rows are evenly spaced: row k starts at
	// padded[base+k*ld]. Then the kernel reads them in place, unpacked.
	strided  bool
	base, ld int
	// packed: padded already holds the panels one after the other, panel p
	// at padded[p*K*nr:] (Winograd's transformed input in WebAssembly).
	packed bool
	// In the compact layout (small maps) the product runs over the OH*outW
	// real pixels and pack gathers them from the padded rows of width wp.
	compact  bool
	wp, outW int
	K, N     int // rows, and columns the product runs over
	maxOff   int // the largest of offs
	srcW     int // columns per output row in the wide layout
}

// pack writes panel p (K rows of nr values) into dst.
func (r *rhs) pack(dst []float32, p int) {
	if r.compact {
		r.gather(dst, p)
		return
	}
	packPanel(dst[:len(r.offs)*nr], r.padded[p*nr:], r.offs, r.maxOff)
}

// gather packs panel p of the compact layout: pixel n = (y, x) of the output
// reads padded value y*wp + x + offs[k].
func (r *rhs) gather(dst []float32, p int) {
	var idx [64]int32
	n0 := p * nr
	y, x := n0/r.outW, n0%r.outW
	for j := 0; j < nr; j++ {
		if n0+j < r.N {
			idx[j] = int32(y*r.wp + x)
		}
		x++
		if x == r.outW {
			x, y = 0, y+1
		}
	}
	gatherPanel(dst[:len(r.offs)*nr], r.padded, r.offs, idx[:nr], r.maxOff)
}

// chunkBytes bounds the weight rows that one pass over the panels reads, so
// that they stay in the L2 cache while every panel streams past them.
const chunkBytes = 192 << 10

// gemvCols is the widest last panel that gemmPanels computes a column at a
// time (see gemvBlocks).
const gemvCols = 2

// packAllFloats bounds the size of a right-hand side that gemmPanels packs
// whole, once, when its weights need several chunks.
const packAllFloats = 2 << 20

// gemmPanels computes every product's rows for the columns of r. The row
// blocks of all products are taken in chunks whose weights fit in L2; each
// chunk meets every panel. With one chunk, each panel is packed once into an
// L1-sized buffer and used at once. With several, a small right-hand side is
// packed whole beforehand; a large one is packed again for each chunk (the
// copy is cheaper than streaming the weights from memory). A product reads
// the first a.K rows of a panel, so two products share one right-hand side
// when one reads a prefix of it. Product q's rows go to outs[q] with row
// stride r.N. buf holds K*nr floats, or K*N rounded up to panels when the
// caller can give that much (see colFloats).
func gemmPanels(r *rhs, as []packedA, outs [][]float32, buf, tile []float32) {
	panels := (r.N + nr - 1) / nr
	stride := r.K * nr
	total := 0 // row blocks of all products
	for _, a := range as {
		total += (a.M + MR - 1) / MR
	}
	chunk := max(1, chunkBytes/(4*MR*max(r.K, 1)))
	packedAll := !r.strided && total > chunk && len(buf) >= panels*stride
	ldb := nr
	if r.strided {
		ldb = r.ld
	}
	if r.packed {
		packedAll, buf = false, r.padded
	}
	if packedAll {
		for p := 0; p < panels; p++ {
			r.pack(buf[p*stride:(p+1)*stride], p)
		}
	}
	for c0 := 0; c0 < total; c0 += chunk {
		c1 := min(total, c0+chunk)
		for p := 0; p < panels; p++ {
			panel := buf[:stride]
			switch {
			case r.strided:
				panel = r.padded[r.base+p*nr:]
			case packedAll || r.packed:
				panel = buf[p*stride : (p+1)*stride]
			default:
				r.pack(panel, p)
			}
			n0 := p * nr
			nn := min(nr, r.N-n0)
			first := 0 // index of the product's first block in the sequence
			for q, a := range as {
				blocks := (a.M + MR - 1) / MR
				lo, hi := max(c0, first)-first, min(c1, first+blocks)-first
				first += blocks
				K := a.K
				out := outs[q]
				// Whole tiles store straight into the output, all in one call.
				full := hi
				if nn < nr {
					full = lo
				} else if hi*MR > a.M {
					full = hi - 1
				}
				if full > lo {
					microKernelN(full-lo, K, a.data[lo*MR*K:full*MR*K], panel, out[lo*MR*r.N+n0:], r.N, ldb)
				}
				// A last panel of one or two pixels is computed a column at a
				// time, each a matrix-vector product: in a full tile it costs
				// as much as a full panel.
				if nn <= gemvCols {
					cb := len(tile) / MR // row blocks per pass
					for b0 := lo; b0 < hi; b0 += cb {
						b1 := min(hi, b0+cb)
						for j := 0; j < nn; j++ {
							gemvBlocks(b1-b0, K, a.data[b0*MR*K:b1*MR*K], panel[j:], tile, ldb)
							for m := b0 * MR; m < min(b1*MR, a.M); m++ {
								out[m*r.N+n0+j] = tile[m-b0*MR]
							}
						}
					}
					continue
				}
				// Edge tiles go through the tile buffer.
				for blk := max(full, lo); blk < hi; blk++ {
					m0 := blk * MR
					microKernelN(1, K, a.data[blk*MR*K:(blk+1)*MR*K], panel, tile, nr, ldb)
					for i := 0; i < min(MR, a.M-m0); i++ {
						m := m0 + i
						copy(out[m*r.N+n0:m*r.N+n0+nn], tile[i*nr:i*nr+nn])
					}
				}
			}
		}
	}
}

// colFloats returns the buffer size gemmPanels wants for r.
func colFloats(r *rhs) int {
	if r.strided {
		return 0
	}
	whole := (r.N + nr - 1) / nr * r.K * nr
	if whole <= packAllFloats {
		return whole
	}
	return r.K * nr
}

// finish applies the epilogue to rows of h x w outputs (up is scratch of h*w
// floats, used when the epilogue has a low map). Output row m, image
// row y is read from src[m*h*srcW + y*srcW:] (srcW >= w: a product computed
// over a padded width leaves srcW-w unused columns) and written to
// dst[m*h*w + y*w:]; src and dst may be the same when srcW == w. One call
// covers every channel (epilogueRows, or epilogueLow with a low map): in
// wasm, a call per short row or small channel costs as much as its values.
func finish(dst, src []float32, rows, h, w, srcW int, ep *epilogue, up []float32) {
	lo, hi := ep.act.bounds()
	if ep.low != nil {
		// The upsampled low map joins before the activation.
		epilogueLow(dst, src, ep.low, ep.add, ep.bias, up, rows, h, w, srcW, ep.lowW, ep.lowH*ep.lowW, lo, hi)
		return
	}
	var r []float32
	if ep.add != nil {
		r = ep.add[:rows*h*w]
	}
	if srcW == w {
		// Each channel is one run of values.
		h, w, srcW = 1, h*w, h*w
	}
	epilogueRows(dst, src, r, ep.bias, rows, h, w, w, srcW, lo, hi)
}

// bounds returns the clamp that the activation amounts to.
func (a Activation) bounds() (lo, hi float32) {
	switch a {
	case ActReLU:
		return 0, float32(math.Inf(1))
	case ActReLU6:
		return 0, 6
	}
	return float32(math.Inf(-1)), float32(math.Inf(1))
}

// Activation is an element-wise nonlinearity fused into a layer's output.
type Activation uint8

// The supported activations.
const (
	ActNone Activation = iota
	ActReLU
	ActReLU6
)

func (a Activation) String() string {
	switch a {
	case ActReLU:
		return "relu"
	case ActReLU6:
		return "relu6"
	}
	return ""
}

// ParseActivation maps "", "none", "relu" and "relu6" to an Activation.
func ParseActivation(s string) (Activation, bool) {
	switch s {
	case "", "none", "linear":
		return ActNone, true
	case "relu":
		return ActReLU, true
	case "relu6":
		return ActReLU6, true
	}
	return ActNone, false
}

func applyAct(v []float32, a Activation) {
	switch a {
	case ActReLU:
		for i, x := range v {
			if x < 0 {
				v[i] = 0
			}
		}
	case ActReLU6:
		for i, x := range v {
			if x < 0 {
				v[i] = 0
			} else if x > 6 {
				v[i] = 6
			}
		}
	}
}
