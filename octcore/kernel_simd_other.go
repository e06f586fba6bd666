//go:build goexperiment.simd && !wasm

package octcore

import "simd"

// microKernel computes the MR x nr tile
//
//	c[i*ldc+j] = sum_k a[k*MR+i] * b[k*ldb+j]
//
// in twelve vector accumulators: four output channels times three vectors of
// pixels. This is the kernel of amd64 and arm64; WebAssembly runs a 4x2-vector
// tile in assembly (kernel_wasm.s, see internal/genasm for why narrower).
func microKernel(K int, a, b, c []float32, ldc, ldb int) {
	if asmTile(K, a, b, c, ldc, ldb) {
		return
	}
	L := lanes
	w := 3 * L
	a = a[:K*MR]
	var c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32 simd.Float32s
	for k := 0; k < K; k++ {
		bk := b[k*ldb : k*ldb+w]
		b0 := simd.LoadFloat32s(bk)
		b1 := simd.LoadFloat32s(bk[L:])
		b2 := simd.LoadFloat32s(bk[2*L:])
		a0 := simd.BroadcastFloat32s(a[0])
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		c02 = a0.MulAdd(b2, c02)
		a1 := simd.BroadcastFloat32s(a[1])
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		c12 = a1.MulAdd(b2, c12)
		a2 := simd.BroadcastFloat32s(a[2])
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		c22 = a2.MulAdd(b2, c22)
		a3 := simd.BroadcastFloat32s(a[3])
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		c32 = a3.MulAdd(b2, c32)
		a = a[MR:]
	}
	r := c[:w]
	c00.Store(r)
	c01.Store(r[L:])
	c02.Store(r[2*L:])
	r = c[ldc : ldc+w]
	c10.Store(r)
	c11.Store(r[L:])
	c12.Store(r[2*L:])
	r = c[2*ldc : 2*ldc+w]
	c20.Store(r)
	c21.Store(r[L:])
	c22.Store(r[2*L:])
	r = c[3*ldc : 3*ldc+w]
	c30.Store(r)
	c31.Store(r[L:])
	c32.Store(r[2*L:])
	clearUpper()
}

// rowEpilogue writes d[x] = clamp(s[x] + b + r[x], lo, hi); r may be nil.
func rowEpilogue(d, s, r []float32, b, lo, hi float32) {
	L := lanes
	n := len(d)
	s = s[:n]
	bv := simd.BroadcastFloat32s(b)
	lv, hv := simd.BroadcastFloat32s(lo), simd.BroadcastFloat32s(hi)
	x := 0
	if r != nil {
		r = r[:n]
		for ; x+L <= n; x += L {
			v := simd.LoadFloat32s(s[x:]).Add(bv).Add(simd.LoadFloat32s(r[x:]))
			v.Max(lv).Min(hv).Store(d[x:])
		}
		clearUpper()
		for ; x < n; x++ {
			d[x] = min(max(s[x]+b+r[x], lo), hi)
		}
		return
	}
	for ; x+L <= n; x += L {
		simd.LoadFloat32s(s[x:]).Add(bv).Max(lv).Min(hv).Store(d[x:])
	}
	clearUpper()
	for ; x < n; x++ {
		d[x] = min(max(s[x]+b, lo), hi)
	}
}

// rowEpilogue2 writes d[x] = clamp(s[x] + b + u[x] + r[x], lo, hi), summed in
// that order.
func rowEpilogue2(d, s, u, r []float32, b, lo, hi float32) {
	L := lanes
	n := len(d)
	s, u, r = s[:n], u[:n], r[:n]
	bv := simd.BroadcastFloat32s(b)
	lv, hv := simd.BroadcastFloat32s(lo), simd.BroadcastFloat32s(hi)
	x := 0
	for ; x+L <= n; x += L {
		v := simd.LoadFloat32s(s[x:]).Add(bv).Add(simd.LoadFloat32s(u[x:])).Add(simd.LoadFloat32s(r[x:]))
		v.Max(lv).Min(hv).Store(d[x:])
	}
	clearUpper()
	for ; x < n; x++ {
		d[x] = min(max(s[x]+b+u[x]+r[x], lo), hi)
	}
}

// maxRows writes d[x] = max(a[x], b[x]).
func maxRows(d, a, b []float32) {
	L := lanes
	n := len(d)
	a, b = a[:n], b[:n]
	x := 0
	for ; x+L <= n; x += L {
		simd.LoadFloat32s(a[x:]).Max(simd.LoadFloat32s(b[x:])).Store(d[x:])
	}
	clearUpper()
	for ; x < n; x++ {
		d[x] = max(a[x], b[x])
	}
}

// copyPanelRow copies the nr values of src into dst, a vector at a time.
func copyPanelRow(dst, src []float32) {
	L := lanes
	src = src[:nr]
	dst = dst[:nr]
	for o := 0; o+L <= nr; o += L {
		simd.LoadFloat32s(src[o:]).Store(dst[o:])
	}
	clearUpper()
}

// dwConv3 is the 3x3 depthwise kernel of depthwise3x3: d[y*ow+x] = clamp(b +
// sum over ky, kx of w[3*ky+kx] * p[y*step + ky*ldp + off[kx] + x], lo, hi)
// with off = {0, c1, c2}, a vector of outputs at a time, the nine weights
// splatted once. A row's last vector overlaps the one before it (the
// outputs are recomputed, not accumulated), so no row has a scalar tail;
// rows narrower than a vector go to dwConv3Generic.
func dwConv3(d, p, w []float32, oh, ow, ldp, step, c1, c2 int, b, lo, hi float32) {
	L := lanes
	if ow < L || oh <= 0 {
		dwConv3Generic(d, p, w, oh, ow, ldp, step, c1, c2, b, lo, hi)
		return
	}
	w = w[:9]
	w0, w1, w2 := simd.BroadcastFloat32s(w[0]), simd.BroadcastFloat32s(w[1]), simd.BroadcastFloat32s(w[2])
	w3, w4, w5 := simd.BroadcastFloat32s(w[3]), simd.BroadcastFloat32s(w[4]), simd.BroadcastFloat32s(w[5])
	w6, w7, w8 := simd.BroadcastFloat32s(w[6]), simd.BroadcastFloat32s(w[7]), simd.BroadcastFloat32s(w[8])
	bv := simd.BroadcastFloat32s(b)
	lv, hv := simd.BroadcastFloat32s(lo), simd.BroadcastFloat32s(hi)
	// Every read of a row is within its first ow+max(c1, c2) values.
	n := ow + max(c1, c2)
	for y := 0; y < oh; y++ {
		r0 := p[y*step : y*step+n]
		r1 := p[y*step+ldp : y*step+ldp+n]
		r2 := p[y*step+2*ldp : y*step+2*ldp+n]
		dr := d[y*ow : (y+1)*ow]
		for x := 0; ; x += L {
			if x+L > ow {
				x = ow - L
			}
			s0 := w0.MulAdd(simd.LoadFloat32s(r0[x:]), bv)
			s1 := w3.Mul(simd.LoadFloat32s(r1[x:]))
			s2 := w6.Mul(simd.LoadFloat32s(r2[x:]))
			s0 = w1.MulAdd(simd.LoadFloat32s(r0[x+c1:]), s0)
			s1 = w4.MulAdd(simd.LoadFloat32s(r1[x+c1:]), s1)
			s2 = w7.MulAdd(simd.LoadFloat32s(r2[x+c1:]), s2)
			s0 = w2.MulAdd(simd.LoadFloat32s(r0[x+c2:]), s0)
			s1 = w5.MulAdd(simd.LoadFloat32s(r1[x+c2:]), s1)
			s2 = w8.MulAdd(simd.LoadFloat32s(r2[x+c2:]), s2)
			s0.Add(s1).Add(s2).Max(lv).Min(hv).Store(dr[x:])
			if x+L == ow {
				break
			}
		}
	}
	clearUpper()
}
