//go:build !(goexperiment.simd && amd64)

package octcore

// maxPoolFast reports that this build has no specialised max pool (the amd64
// SIMD build has one in AVX2, kernel_avx2_ops_amd64.go).
func maxPoolFast(dst, src []float32, c, h, w, k, s, p, oh, ow int) bool { return false }
