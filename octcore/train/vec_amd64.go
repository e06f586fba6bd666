//go:build goexperiment.simd

package train

import (
	"simd"
	"simd/archsimd"
)

// useAVX2Taps selects maskTaps' AVX2 loop (whole panels of 8-value vectors).
var useAVX2Taps = archsimd.X86.AVX2() && nr%8 == 0

// lanes is the number of float32 values in one vector.
var lanes = simd.VectorBitSize() / 32

// maskCopy writes dst[j] = src[j] where m[j] is all ones, 0 where it is 0.
func maskCopy(dst, src []float32, m []uint32) {
	n := len(dst)
	src, m = src[:n], m[:n]
	L := lanes
	j := 0
	for ; j+L <= n; j += L {
		simd.LoadFloat32s(src[j:]).ToBits().And(simd.LoadUint32s(m[j:])).BitsToFloat32().Store(dst[j:])
	}
	maskCopyGo(dst[j:], src[j:], m[j:])
}

// maskTaps is maskTapsGo with 8-value vectors (24-value panels unrolled).
func maskTaps(dst, src []float32, o int, offs []int, ms [][]uint32) {
	if !useAVX2Taps {
		maskTapsGo(dst, src, o, offs, ms)
		return
	}
	ms = ms[:len(offs)]
	if nr == 24 {
		for t, off := range offs {
			s := src[o+off : o+off+24 : o+off+24]
			m := ms[t][:24:24]
			d := dst[t*24 : t*24+24 : t*24+24]
			archsimd.LoadFloat32x8(s[0:8]).AsUint32x8().And(archsimd.LoadUint32x8(m[0:8])).AsFloat32x8().Store(d[0:8])
			archsimd.LoadFloat32x8(s[8:16]).AsUint32x8().And(archsimd.LoadUint32x8(m[8:16])).AsFloat32x8().Store(d[8:16])
			archsimd.LoadFloat32x8(s[16:24]).AsUint32x8().And(archsimd.LoadUint32x8(m[16:24])).AsFloat32x8().Store(d[16:24])
		}
		return
	}
	for t, off := range offs {
		s := src[o+off : o+off+nr]
		m := ms[t][:nr]
		d := dst[t*nr : (t+1)*nr]
		for j := 0; j+8 <= nr; j += 8 {
			archsimd.LoadFloat32x8(s[j : j+8]).AsUint32x8().And(archsimd.LoadUint32x8(m[j : j+8])).AsFloat32x8().Store(d[j : j+8])
		}
	}
}

// bnApply is bnApplyGo with vectors.
func bnApply(z, o, r []float32, mu, inv, ga, be float32, relu bool) {
	n := len(z)
	o = o[:n]
	if r != nil {
		r = r[:n]
	}
	L := lanes
	vmu, vinv := simd.BroadcastFloat32s(mu), simd.BroadcastFloat32s(inv)
	vga, vbe := simd.BroadcastFloat32s(ga), simd.BroadcastFloat32s(be)
	var zero simd.Float32s
	k := 0
	for ; k+L <= n; k += L {
		xh := simd.LoadFloat32s(z[k:]).Sub(vmu).Mul(vinv)
		xh.Store(z[k:])
		y := vga.Mul(xh).Add(vbe)
		if r != nil {
			y = y.Add(simd.LoadFloat32s(r[k:]))
		}
		if relu {
			y = y.Masked(y.Greater(zero))
		}
		y.Store(o[k:])
	}
	var rt []float32
	if r != nil {
		rt = r[k:]
	}
	bnApplyGo(z[k:], o[k:], rt, mu, inv, ga, be, relu)
}

// gradPrep is gradPrepGo with vectors, in one pass.
func gradPrep(g, o, r, xh []float32) (sg, sgx float64) {
	n := len(g)
	if o != nil {
		o = o[:n]
	}
	if r != nil {
		r = r[:n]
	}
	if xh != nil {
		xh = xh[:n]
	}
	L := lanes
	var zero simd.Float32s
	nv := n / (2 * L) * (2 * L)
	for b0 := 0; b0 < nv; b0 += sumBlock {
		var s0, s1, q0, q1 simd.Float32s
		for k := b0; k < min(b0+sumBlock, nv); k += 2 * L {
			v0, v1 := simd.LoadFloat32s(g[k:]), simd.LoadFloat32s(g[k+L:])
			if o != nil {
				v0 = v0.Masked(simd.LoadFloat32s(o[k:]).Greater(zero))
				v1 = v1.Masked(simd.LoadFloat32s(o[k+L:]).Greater(zero))
				v0.Store(g[k:])
				v1.Store(g[k+L:])
			}
			if r != nil {
				simd.LoadFloat32s(r[k:]).Add(v0).Store(r[k:])
				simd.LoadFloat32s(r[k+L:]).Add(v1).Store(r[k+L:])
			}
			if xh != nil {
				s0, s1 = s0.Add(v0), s1.Add(v1)
				q0 = q0.Add(v0.Mul(simd.LoadFloat32s(xh[k:])))
				q1 = q1.Add(v1.Mul(simd.LoadFloat32s(xh[k+L:])))
			}
		}
		if xh != nil {
			sg += float64(hsum(s0.Add(s1)))
			sgx += float64(hsum(q0.Add(q1)))
		}
	}
	var ot, rt, xt []float32
	if o != nil {
		ot = o[nv:]
	}
	if r != nil {
		rt = r[nv:]
	}
	if xh != nil {
		xt = xh[nv:]
	}
	s, q := gradPrepGo(g[nv:], ot, rt, xt)
	return sg + s, sgx + q
}

// hsum returns the sum of the lanes of v.
func hsum(v simd.Float32s) float32 {
	var buf [16]float32 // lanes <= 16 (AVX-512)
	v.Store(buf[:lanes])
	var s float32
	for _, x := range buf[:lanes] {
		s += x
	}
	return s
}

// sums is sumsGo with vectors.
func sums(x, y []float32) (s, q float64) {
	if y == nil {
		y = x
	}
	n := len(x)
	y = y[:n]
	L := lanes
	nv := n / (2 * L) * (2 * L)
	for b0 := 0; b0 < nv; b0 += sumBlock {
		var s0, s1, q0, q1 simd.Float32s
		for k := b0; k < min(b0+sumBlock, nv); k += 2 * L {
			x0, x1 := simd.LoadFloat32s(x[k:]), simd.LoadFloat32s(x[k+L:])
			s0, s1 = s0.Add(x0), s1.Add(x1)
			q0 = q0.Add(x0.Mul(simd.LoadFloat32s(y[k:])))
			q1 = q1.Add(x1.Mul(simd.LoadFloat32s(y[k+L:])))
		}
		s += float64(hsum(s0.Add(s1)))
		q += float64(hsum(q0.Add(q1)))
	}
	s1, q1 := sumsGo(x[nv:], y[nv:])
	return s + s1, q + q1
}

// bnBack is bnBackGo with vectors.
func bnBack(g, xh []float32, a, mg, mgx float32) {
	n := len(g)
	xh = xh[:n]
	L := lanes
	va, vmg, vmgx := simd.BroadcastFloat32s(a), simd.BroadcastFloat32s(mg), simd.BroadcastFloat32s(mgx)
	k := 0
	for ; k+L <= n; k += L {
		v := simd.LoadFloat32s(g[k:]).Sub(vmg).Sub(simd.LoadFloat32s(xh[k:]).Mul(vmgx))
		va.Mul(v).Store(g[k:])
	}
	bnBackGo(g[k:], xh[k:], a, mg, mgx)
}
