//go:build !(goexperiment.simd && amd64)

package train

import "math"

// maskCopy writes dst[j] = src[j] where m[j] is all ones, 0 where it is 0.
func maskCopy(dst, src []float32, m []uint32) {
	src, m = src[:len(dst)], m[:len(dst)]
	for j := range dst {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}

// maskAdd adds src[j] to dst[j] where m[j] is all ones.
func maskAdd(dst, src []float32, m []uint32) {
	src, m = src[:len(dst)], m[:len(dst)]
	for j := range dst {
		dst[j] += math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}
