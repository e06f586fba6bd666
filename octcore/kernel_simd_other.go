//go:build goexperiment.simd && !wasm

package octcore

// microKernel is the portable simd kernel (kernel_simd.go) on amd64 and arm64.
func microKernel(K int, a, b, c []float32, ldc, ldb int) { microKernelGo(K, a, b, c, ldc, ldb) }
