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
		for ; x < n; x++ {
			d[x] = min(max(s[x]+b+r[x], lo), hi)
		}
		return
	}
	for ; x+L <= n; x += L {
		simd.LoadFloat32s(s[x:]).Add(bv).Max(lv).Min(hv).Store(d[x:])
	}
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
}
