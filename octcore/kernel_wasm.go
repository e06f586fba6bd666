//go:build goexperiment.simd && wasm

package octcore

import "unsafe"

// The kernels of kernel_wasm.s (written by internal/genasm): the 4x2-vector
// tile of microKernel in WebAssembly SIMD, for nblk consecutive row blocks.
//
//go:noescape
func microKernelWasm(nblk, K int, a, b, c *float32, ldc, ldb int)

// microKernel computes the MR x nr tile
//
//	c[i*ldc+j] = sum_k a[k*MR+i] * b[k*ldb+j]
//
// (see kernel_simd.go). On wasm it checks the slices once and runs the
// assembly kernel: Go's wasm code generator keeps only a few accumulators in
// locals and spills the others to memory on every step.
func microKernel(K int, a, b, c []float32, ldc, ldb int) {
	microKernelN(1, K, a, b, c, ldc, ldb)
}

// microKernelN runs microKernel for nblk row blocks: block i reads weights
// a[i*MR*K:] and writes rows c[i*MR*ldc:].
func microKernelN(nblk, K int, a, b, c []float32, ldc, ldb int) {
	if K <= 0 {
		for i := 0; i < nblk*MR; i++ {
			clear(c[i*ldc : i*ldc+nr])
		}
		return
	}
	_ = a[nblk*K*MR-1]
	_ = b[(K-1)*ldb+nr-1]
	_ = c[(nblk*MR-1)*ldc+nr-1]
	microKernelWasm(nblk, K, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, ldb)
}

//go:noescape
func gatherWasm(dst, src *float32, offs, idx *int32, K int)

// gatherPanel writes dst[k*nr+j] = src[offs[k]+idx[j]] for the nr pixels j;
// maxOff is the largest offset.
func gatherPanel(dst, src []float32, offs, idx []int32, maxOff int) {
	K := len(offs)
	if K == 0 {
		return
	}
	_ = dst[K*nr-1]
	var maxIdx int32
	for _, i := range idx[:nr] {
		maxIdx = max(maxIdx, i)
	}
	_ = src[maxOff+int(maxIdx)]
	gatherWasm(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(offs), unsafe.SliceData(idx), K)
}

//go:noescape
func pool2MapWasm(dst *float32, ldd int, src *float32, h, w int)

// pool2Map writes the 2x2 average pool (ceil mode, padding excluded) of the
// h x w channel src into half(h) rows of half(w) values at dst[y*ldd:].
func pool2Map(dst []float32, ldd int, src []float32, h, w int) {
	if h == 0 || w == 0 {
		return
	}
	_ = src[h*w-1]
	_ = dst[(half(h)-1)*ldd+half(w)-1]
	pool2MapWasm(unsafe.SliceData(dst), ldd, unsafe.SliceData(src), h, w)
}

//go:noescape
func packWasm(dst, src *float32, offs *int32, K int)

// packPanel writes dst[k*nr+j] = src[offs[k]+j]; maxOff is the largest
// offset.
func packPanel(dst, src []float32, offs []int32, maxOff int) {
	K := len(offs)
	if K == 0 {
		return
	}
	_ = dst[K*nr-1]
	_ = src[maxOff+nr-1]
	packWasm(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(offs), K)
}

//go:noescape
func copyRowsWasm(dst *float32, ldd int, src *float32, lds, rows, n, sx int)

// copyRows writes dst[y*ldd+x] = src[y*lds+x*sx] for rows rows of n values.
func copyRows(dst []float32, ldd int, src []float32, lds, rows, n, sx int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+n-1]
	_ = src[(rows-1)*lds+(n-1)*sx]
	copyRowsWasm(unsafe.SliceData(dst), ldd, unsafe.SliceData(src), lds, rows, n, sx)
}

//go:noescape
func maxRowsWasm(d, a, b *float32, n int)

// maxRows writes d[x] = max(a[x], b[x]).
func maxRows(d, a, b []float32) {
	n := len(d)
	a, b = a[:n], b[:n]
	v := n &^ 3
	if v > 0 {
		maxRowsWasm(unsafe.SliceData(d), unsafe.SliceData(a), unsafe.SliceData(b), v)
	}
	for x := v; x < n; x++ {
		d[x] = max(a[x], b[x])
	}
}

//go:noescape
func gemvWasm(nblk, K int, a, b, c *float32, ldb int)

// gemvBlocks computes one column of nblk row blocks' tiles: c[4i+r] =
// sum_k a[i*MR*K+k*MR+r] * b[k*ldb].
func gemvBlocks(nblk, K int, a, b, c []float32, ldb int) {
	if nblk <= 0 {
		return
	}
	if K <= 0 {
		clear(c[:nblk*MR])
		return
	}
	_ = a[nblk*K*MR-1]
	_ = b[(K-1)*ldb]
	_ = c[nblk*MR-1]
	gemvWasm(nblk, K, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldb)
}

//go:noescape
func epilogueLow0Wasm(d, s, low, bias *float32, ch, h, w, lds, lowW, lowN int, lo, hi float32)

//go:noescape
func epilogueLow1Wasm(d, s, low, r, bias *float32, ch, h, w, lds, lowW, lowN int, lo, hi float32)

// epilogueLow writes, for ch channels of h x w, d[c*h*w+y*w+x] =
// clamp(s[c*h*lds+y*lds+x] + bias[c] + low[c*lowN+(y/2)*lowW+x/2] (+
// r[c*h*w+y*w+x]), lo, hi), summed in that order: the high output's epilogue
// with the L->H map upsampled on the way. bias and r may be nil; u (scratch
// for the other builds) is not used.
func epilogueLow(d, s, low, r, bias, u []float32, ch, h, w, lds, lowW, lowN int, lo, hi float32) {
	if ch <= 0 || h <= 0 || w <= 0 {
		return
	}
	if lowW < (w+1)/2 || lowN < (h+1)/2*lowW {
		panic("octcore: epilogueLow: low map smaller than half the output")
	}
	if bias == nil {
		var zero [1]float32
		for c := 0; c < ch; c++ {
			var rc []float32
			if r != nil {
				rc = r[c*h*w:]
			}
			epilogueLow(d[c*h*w:], s[c*h*lds:], low[c*lowN:], rc, zero[:], u, 1, h, w, lds, lowW, lowN, lo, hi)
		}
		return
	}
	_ = d[ch*h*w-1]
	_ = s[((ch-1)*h+h-1)*lds+w-1]
	_ = low[(ch-1)*lowN+(h-1)/2*lowW+(w-1)/2]
	_ = bias[ch-1]
	if r != nil {
		_ = r[ch*h*w-1]
		epilogueLow1Wasm(unsafe.SliceData(d), unsafe.SliceData(s), unsafe.SliceData(low), unsafe.SliceData(r), unsafe.SliceData(bias), ch, h, w, lds, lowW, lowN, lo, hi)
		return
	}
	epilogueLow0Wasm(unsafe.SliceData(d), unsafe.SliceData(s), unsafe.SliceData(low), unsafe.SliceData(bias), ch, h, w, lds, lowW, lowN, lo, hi)
}

//go:noescape
func epilogueRows0Wasm(d, s, bias *float32, ch, h, n, ldd, lds int, lo, hi float32)

//go:noescape
func epilogueRows1Wasm(d, s, r, bias *float32, ch, h, n, ldd, lds int, lo, hi float32)

// epilogueRows writes, for ch channels of h rows of n values, d[i*ldd+x] =
// clamp(s[i*lds+x] + bias[i/h] (+ r[i*ldd+x]), lo, hi) for every row i =
// c*h+y, summed in that order. bias and r may be nil.
func epilogueRows(d, s, r, bias []float32, ch, h, n, ldd, lds int, lo, hi float32) {
	if ch <= 0 || h <= 0 || n <= 0 {
		return
	}
	var zero [1]float32
	if bias == nil {
		// One bias for all rows.
		bias, h, ch = zero[:], ch*h, 1
	}
	rows := ch * h
	_ = d[(rows-1)*ldd+n-1]
	_ = s[(rows-1)*lds+n-1]
	_ = bias[ch-1]
	if r != nil {
		_ = r[(rows-1)*ldd+n-1]
		epilogueRows1Wasm(unsafe.SliceData(d), unsafe.SliceData(s), unsafe.SliceData(r), unsafe.SliceData(bias), ch, h, n, ldd, lds, lo, hi)
		return
	}
	epilogueRows0Wasm(unsafe.SliceData(d), unsafe.SliceData(s), unsafe.SliceData(bias), ch, h, n, ldd, lds, lo, hi)
}

//go:noescape
func dwConv3S1Wasm(d, p, w *float32, oh, ow, ldp, step, c1 int, b, lo, hi float32)

//go:noescape
func dwConv3S2Wasm(d, p, w *float32, oh, ow, ldp, step, c1 int, b, lo, hi float32)

// dwConv3 is the 3x3 depthwise kernel of depthwise3x3 (see dwConv3Generic):
// in assembly for the two layouts depthwise3x3 makes, stride 1 (c1, c2 = 1,
// 2) and stride 2 (c1, 1), when a row holds a vector.
func dwConv3(d, p, w []float32, oh, ow, ldp, step, c1, c2 int, b, lo, hi float32) {
	if oh <= 0 || ow < 4 || !(c1 == 1 && c2 == 2 || c2 == 1) {
		dwConv3Generic(d, p, w, oh, ow, ldp, step, c1, c2, b, lo, hi)
		return
	}
	_ = d[oh*ow-1]
	_ = p[(oh-1)*step+2*ldp+ow-1+max(c1, c2)]
	_ = w[8]
	if c2 == 2 {
		dwConv3S1Wasm(unsafe.SliceData(d), unsafe.SliceData(p), unsafe.SliceData(w), oh, ow, ldp, step, c1, b, lo, hi)
		return
	}
	dwConv3S2Wasm(unsafe.SliceData(d), unsafe.SliceData(p), unsafe.SliceData(w), oh, ow, ldp, step, c1, b, lo, hi)
}
