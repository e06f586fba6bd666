//go:build goexperiment.simd

package train

import (
	"math"
	"simd"
)

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
	for ; j < n; j++ {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}

// maskAdd adds src[j] to dst[j] where m[j] is all ones.
func maskAdd(dst, src []float32, m []uint32) {
	n := len(dst)
	src, m = src[:n], m[:n]
	L := lanes
	j := 0
	for ; j+L <= n; j += L {
		v := simd.LoadFloat32s(src[j:]).ToBits().And(simd.LoadUint32s(m[j:])).BitsToFloat32()
		simd.LoadFloat32s(dst[j:]).Add(v).Store(dst[j:])
	}
	for ; j < n; j++ {
		dst[j] += math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}
