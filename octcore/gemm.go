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
	// upsampling by two; the output row has width outW.
	low        []float32
	lowH, lowW int
	outW       int
	act        Activation
}

// gemm computes out (M rows of row stride ldo, N columns) from the packed
// weights a and the packed panels b. Panel p starts at b[p*panelK*NR] and
// holds panelK rows of NR values; only the first a.K rows take part (this lets
// two products share one im2col when one of them reads a prefix of its rows).
func gemm(a packedA, b []float32, panelK, N int, out []float32, ldo int, ep *epilogue, tile []float32) {
	panels := (N + nr - 1) / nr
	blocks := (a.M + MR - 1) / MR
	K := a.K
	for p := 0; p < panels; p++ {
		bp := b[p*panelK*nr : p*panelK*nr+K*nr]
		n0 := p * nr
		nn := min(nr, N-n0)
		for blk := 0; blk < blocks; blk++ {
			ap := a.data[blk*MR*K : (blk+1)*MR*K]
			microKernel(K, ap, bp, tile)
			m0 := blk * MR
			mm := min(MR, a.M-m0)
			for i := 0; i < mm; i++ {
				m := m0 + i
				storeRow(out[m*ldo+n0:m*ldo+n0+nn], tile[i*nr:i*nr+nn], m, n0, ldo, ep)
			}
		}
	}
}

// storeRow applies the epilogue to one finished row segment of a tile and
// stores it.
func storeRow(dst, src []float32, m, n0, ldo int, ep *epilogue) {
	if ep == nil {
		copy(dst, src)
		return
	}
	var b float32
	if ep.bias != nil {
		b = ep.bias[m]
	}
	if ep.add != nil {
		add := ep.add[m*ldo+n0 : m*ldo+n0+len(dst)]
		for j := range dst {
			dst[j] = src[j] + b + add[j]
		}
	} else {
		for j := range dst {
			dst[j] = src[j] + b
		}
	}
	if ep.low != nil {
		upsampleAddRow(dst, ep, m, n0)
	}
	applyAct(dst, ep.act)
}

// upsampleAddRow adds the nearest-neighbour x2 upsampled low-resolution map to
// the output pixels n0..n0+len(dst) of row m.
func upsampleAddRow(dst []float32, ep *epilogue, m, n0 int) {
	low := ep.low[m*ep.lowH*ep.lowW : (m+1)*ep.lowH*ep.lowW]
	y, x := n0/ep.outW, n0%ep.outW
	for j := range dst {
		dst[j] += low[(y>>1)*ep.lowW+(x>>1)]
		x++
		if x == ep.outW {
			x = 0
			y++
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
