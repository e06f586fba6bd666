//go:build !(goexperiment.simd && wasm)

package octcore

// The routines that the WebAssembly SIMD build runs in assembly
// (kernel_wasm.go, kernel_wasm.s), in Go for every other build.

// microKernelNGo runs microKernel for nblk row blocks: block i reads weights
// a[i*MR*K:] and writes rows c[i*MR*ldc:].
func microKernelNGo(nblk, K int, a, b, c []float32, ldc, ldb int) {
	for i := 0; i < nblk; i++ {
		microKernel(K, a[i*MR*K:(i+1)*MR*K], b, c[i*MR*ldc:], ldc, ldb)
	}
}

// widenMap writes the nearest-neighbour x2 upsampling of the low map low
// (rows of lowW) into u, h x w.
func widenMap(u, low []float32, h, w, lowW int) {
	for y := 0; y < h; y++ {
		row := u[y*w : (y+1)*w]
		if y%2 == 1 {
			copy(row, u[(y-1)*w:y*w])
			continue
		}
		lr := low[(y/2)*lowW : (y/2+1)*lowW]
		for x := 0; x+1 < w; x += 2 {
			v := lr[x>>1]
			row[x], row[x+1] = v, v
		}
		if w%2 == 1 {
			row[w-1] = lr[(w-1)>>1]
		}
	}
}

// gatherPanel writes dst[k*nr+j] = src[offs[k]+idx[j]] for the nr pixels j;
// maxOff is the largest offset.
func gatherPanel(dst, src []float32, offs, idx []int32, maxOff int) {
	idx = idx[:nr]
	for _, off := range offs {
		s := src[off:]
		d := dst[:nr]
		for j := range d {
			d[j] = s[idx[j]]
		}
		dst = dst[nr:]
	}
}

// pool2MapGo writes the 2x2 average pool (ceil mode, padding excluded) of the
// h x w channel src into half(h) rows of half(w) values at dst[y*ldd:].
func pool2MapGo(dst []float32, ldd int, src []float32, h, w int) {
	var tmp [512]float32
	ow := half(w)
	for y := 0; y < half(h); y++ {
		r0 := src[2*y*w : 2*y*w+w]
		var r1 []float32
		if 2*y+1 < h {
			r1 = src[(2*y+1)*w : (2*y+1)*w+w]
		}
		pool2Row(dst[y*ldd:y*ldd+ow], r0, r1, tmp[:])
	}
}

// packPanelGo writes dst[k*nr+j] = src[offs[k]+j]; maxOff is the largest
// offset.
func packPanelGo(dst, src []float32, offs []int32, maxOff int) {
	for _, off := range offs {
		copyPanelRow(dst[:nr], src[off:int(off)+nr])
		dst = dst[nr:]
	}
}

// copyRows writes dst[y*ldd+x] = src[y*lds+x*sx] for rows rows of n values.
func copyRows(dst []float32, ldd int, src []float32, lds, rows, n, sx int) {
	for y := 0; y < rows; y++ {
		d, s := dst[y*ldd:y*ldd+n], src[y*lds:]
		if sx == 1 {
			copy(d, s[:n])
			continue
		}
		for x := range d {
			d[x] = s[x*sx]
		}
	}
}

// gemvBlocksGo computes one column of nblk row blocks' tiles: c[4i+r] =
// sum_k a[i*MR*K+k*MR+r] * b[k*ldb].
func gemvBlocksGo(nblk, K int, a, b, c []float32, ldb int) {
	for i := 0; i < nblk; i++ {
		var s [MR]float32
		ai := a[i*MR*K : (i+1)*MR*K]
		for k := 0; k < K; k++ {
			bk := b[k*ldb]
			for r := range s {
				s[r] += ai[k*MR+r] * bk
			}
		}
		copy(c[i*MR:(i+1)*MR], s[:])
	}
}

// epilogueRowsGo writes, for ch channels of h rows of n values, d[i*ldd+x] =
// clamp(s[i*lds+x] + bias[i/h] (+ r[i*ldd+x]), lo, hi) for every row i =
// c*h+y, summed in that order. bias and r may be nil.
func epilogueRowsGo(d, s, r, bias []float32, ch, h, n, ldd, lds int, lo, hi float32) {
	for i := 0; i < ch*h; i++ {
		var b float32
		if bias != nil {
			b = bias[i/h]
		}
		var ri []float32
		if r != nil {
			ri = r[i*ldd : i*ldd+n]
		}
		rowEpilogue(d[i*ldd:i*ldd+n], s[i*lds:i*lds+n], ri, b, lo, hi)
	}
}

// epilogueLowGo writes, for ch channels of h x w, d[c*h*w+y*w+x] =
// clamp(s[c*h*lds+y*lds+x] + bias[c] + low[c*lowN+(y/2)*lowW+x/2] (+
// r[c*h*w+y*w+x]), lo, hi), summed in that order: the high output's epilogue
// with the L->H map upsampled (into the scratch u, h*w floats) on the way.
// bias and r may be nil.
func epilogueLowGo(d, s, low, r, bias, u []float32, ch, h, w, lds, lowW, lowN int, lo, hi float32) {
	u = u[:h*w]
	rows, n := h, w // runs of contiguous values, and their length
	if lds == w {
		rows, n = 1, h*w
	}
	for c := 0; c < ch; c++ {
		var b float32
		if bias != nil {
			b = bias[c]
		}
		dc, sc := d[c*h*w:(c+1)*h*w], s[c*h*lds:]
		widenMap(u, low[c*lowN:], h, w, lowW)
		for y := 0; y < rows; y++ {
			if r == nil {
				rowEpilogue(dc[y*n:y*n+n], sc[y*lds:y*lds+n], u[y*n:y*n+n], b, lo, hi)
				continue
			}
			rc := r[c*h*w : (c+1)*h*w]
			rowEpilogue2(dc[y*n:y*n+n], sc[y*lds:y*lds+n], u[y*n:y*n+n], rc[y*n:y*n+n], b, lo, hi)
		}
	}
}

// pool2Row writes one output row of Pool2 from input rows r0 and r1 (nil at
// an odd bottom edge). The vertical sums are vector adds into tmp when the
// row fits in it.
func pool2Row(d, r0, r1, tmp []float32) {
	w := len(r0)
	ow := len(d)
	if r1 == nil {
		x := 0
		for ; 2*x+1 < w; x++ {
			d[x] = (r0[2*x] + r0[2*x+1]) * 0.5
		}
		if x < ow {
			d[x] = r0[2*x]
		}
		return
	}
	if w <= len(tmp) {
		s := tmp[:w]
		addRows(s, r0, r1)
		x := 0
		for ; 2*x+1 < w; x++ {
			d[x] = (s[2*x] + s[2*x+1]) * 0.25
		}
		if x < ow {
			d[x] = s[2*x] * 0.5
		}
		return
	}
	x := 0
	for ; 2*x+1 < w; x++ {
		d[x] = (r0[2*x] + r0[2*x+1] + r1[2*x] + r1[2*x+1]) * 0.25
	}
	if x < ow {
		d[x] = (r0[2*x] + r1[2*x]) * 0.5
	}
}
