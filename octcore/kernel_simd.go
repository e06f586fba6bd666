//go:build goexperiment.simd && !wasm

package octcore

import "simd"

// SIMD reports whether the kernels of this build use vector instructions.
const SIMD = true

// dot returns the inner product of a and b (len(b) >= len(a)).
func dot(a, b []float32) float32 {
	L := lanes
	n := len(a)
	b = b[:n]
	var s0, s1 simd.Float32s
	k := 0
	for ; k+2*L <= n; k += 2 * L {
		s0 = simd.LoadFloat32s(a[k:]).MulAdd(simd.LoadFloat32s(b[k:]), s0)
		s1 = simd.LoadFloat32s(a[k+L:]).MulAdd(simd.LoadFloat32s(b[k+L:]), s1)
	}
	var buf [64]float32
	s0.Add(s1).Store(buf[:L])
	clearUpper()
	var sum float32
	for _, v := range buf[:L] {
		sum += v
	}
	for ; k < n; k++ {
		sum += a[k] * b[k]
	}
	return sum
}

// addRows writes d[x] = a[x] + b[x].
func addRows(d, a, b []float32) {
	L := lanes
	n := len(d)
	a, b = a[:n], b[:n]
	x := 0
	for ; x+L <= n; x += L {
		simd.LoadFloat32s(a[x:]).Add(simd.LoadFloat32s(b[x:])).Store(d[x:])
	}
	clearUpper()
	for ; x < n; x++ {
		d[x] = a[x] + b[x]
	}
}
