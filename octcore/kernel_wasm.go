//go:build goexperiment.simd && wasm

package octcore

import "unsafe"

// microKernelWasm is kernel_wasm.s: the 4x3 tile of microKernel in
// hand-written WebAssembly SIMD.
//
//go:noescape
func microKernelWasm(K int, a, b, c *float32, ldc, ldb int)

// microKernel computes the MR x nr tile
//
//	c[i*ldc+j] = sum_k a[k*MR+i] * b[k*ldb+j]
//
// (see kernel_simd.go). On wasm it checks the slices once and runs the
// assembly kernel: Go's wasm code generator spills seven of the twelve
// accumulators to memory on every step of the loop, the assembly none.
func microKernel(K int, a, b, c []float32, ldc, ldb int) {
	if K <= 0 {
		for i := 0; i < MR; i++ {
			clear(c[i*ldc : i*ldc+nr])
		}
		return
	}
	_ = a[K*MR-1]
	_ = b[(K-1)*ldb+nr-1]
	_ = c[3*ldc+nr-1]
	microKernelWasm(K, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, ldb)
}
