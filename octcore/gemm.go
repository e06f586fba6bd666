package octcore

// The convolution kernels reduce every convolution to a matrix product
//
//	out[m][n] = epilogue( sum_k A[m][k] * B[k][n] )
//
// with A the weights (M output channels x K = in-channels*kh*kw), packed once
// at build time in blocks of MR rows, and B the im2col matrix of the input
// (K x N output pixels), packed per call in panels of NR columns. A micro
// kernel computes an MR x NR register tile; the epilogue (bias, residual add,
// upsample-add of the low-frequency path, ReLU) runs on the tile while it is
// hot in cache. MR is fixed; NR is two vectors of the build's SIMD width (the variable nr) (see
// kernel_simd.go and kernel_scalar.go).

// MR is the number of output channels in one register tile.
const MR = 4

// packedA is a weight matrix packed for the micro kernel: block b holds, for
// every k, the MR values A[b*MR+i][k] (zero for rows past M).
type packedA struct {
	M, K int
	data []float32
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
	K, N   int // rows, and columns the product runs over
	srcW   int // columns per output row in the wide layout
}

// pack writes panel p (K rows of nr values) into dst.
func (r *rhs) pack(dst []float32, p int) {
	src := r.padded[p*nr:]
	dst = dst[:len(r.offs)*nr]
	for _, off := range r.offs {
		copyPanelRow(dst[:nr], src[off:])
		dst = dst[nr:]
	}
}

// chunkBytes bounds the weight rows that one pass over the panels reads, so
// that they stay in the L2 cache while every panel streams past them.
const chunkBytes = 96 << 10

// gemmPanels computes every product's rows for the columns of r. The panels
// are packed once into packed (K*nr floats each) and serve all products, each
// reading the first a.K of their rows (two products share one right-hand side
// when one reads a prefix of it). The rows of a product are taken in chunks
// whose weights fit in L2; within a chunk every panel (in L1) meets every
// row block. Product q's rows go to outs[q] with row stride r.N.
func gemmPanels(r *rhs, as []packedA, outs [][]float32, packed, tile []float32) {
	panels := (r.N + nr - 1) / nr
	stride := r.K * nr
	for p := 0; p < panels; p++ {
		r.pack(packed[p*stride:(p+1)*stride], p)
	}
	for q, a := range as {
		K := a.K
		out := outs[q]
		blocks := (a.M + MR - 1) / MR
		chunk := max(1, chunkBytes/(4*MR*max(K, 1)))
		for b0 := 0; b0 < blocks; b0 += chunk {
			b1 := min(blocks, b0+chunk)
			for p := 0; p < panels; p++ {
				panel := packed[p*stride : p*stride+K*nr]
				n0 := p * nr
				nn := min(nr, r.N-n0)
				for blk := b0; blk < b1; blk++ {
					m0 := blk * MR
					w := a.data[blk*MR*K : (blk+1)*MR*K]
					if nn == nr && m0+MR <= a.M {
						// A whole tile stores straight into the output.
						microKernel(K, w, panel, out[m0*r.N+n0:], r.N)
						continue
					}
					microKernel(K, w, panel, tile, nr)
					for i := 0; i < min(MR, a.M-m0); i++ {
						m := m0 + i
						copy(out[m*r.N+n0:m*r.N+n0+nn], tile[i*nr:i*nr+nn])
					}
				}
			}
		}
	}
}

// finish applies the epilogue to rows of h x w outputs. Output row m, image
// row y is read from src[m*h*srcW + y*srcW:] (srcW >= w: a product computed
// over a padded width leaves srcW-w unused columns) and written to
// dst[m*h*w + y*w:]; src and dst may be the same when srcW == w.
func finish(dst, src []float32, rows, h, w, srcW int, ep *epilogue) {
	for m := 0; m < rows; m++ {
		var b float32
		if ep.bias != nil {
			b = ep.bias[m]
		}
		for y := 0; y < h; y++ {
			d := dst[(m*h+y)*w : (m*h+y+1)*w]
			s := src[m*h*srcW+y*srcW : m*h*srcW+y*srcW+w]
			if ep.add != nil {
				r := ep.add[(m*h+y)*w : (m*h+y+1)*w]
				for x := range d {
					d[x] = s[x] + b + r[x]
				}
			} else {
				for x := range d {
					d[x] = s[x] + b
				}
			}
			if ep.low != nil {
				lr := ep.low[(m*ep.lowH+y/2)*ep.lowW : (m*ep.lowH+y/2+1)*ep.lowW]
				for x := range d {
					d[x] += lr[x>>1]
				}
			}
			applyAct(d, ep.act)
		}
	}
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
