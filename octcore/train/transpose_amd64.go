//go:build goexperiment.simd

package train

import "simd/archsimd"

// useAVX2Transpose selects the assembly 8 x 8 transpose (AVX: unpack,
// shuffle and lane permutes, no arithmetic, so results are exact).
var useAVX2Transpose = archsimd.X86.AVX2()

//go:noescape
func transpose8x8asm(dst *float32, ldd int, src *float32, lds int)

// transpose8 writes dst[i*ldd+j] = src[j*lds+i] for i, j < 8.
func transpose8(dst []float32, ldd int, src []float32, lds int) {
	_ = dst[7*ldd+7]
	_ = src[7*lds+7]
	if useAVX2Transpose {
		transpose8x8asm(&dst[0], ldd, &src[0], lds)
		return
	}
	transpose8Go(dst, ldd, src, lds)
}
