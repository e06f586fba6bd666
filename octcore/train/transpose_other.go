//go:build !(goexperiment.simd && amd64)

package train

// transpose8 writes dst[i*ldd+j] = src[j*lds+i] for i, j < 8.
func transpose8(dst []float32, ldd int, src []float32, lds int) { transpose8Go(dst, ldd, src, lds) }
