//go:build !(goexperiment.simd && wasm)

package octcore

// offsKernel reports whether this build has microKernelOffs: only the
// WebAssembly SIMD build, whose assembly kernel reads rows in place as fast
// as packed ones. Elsewhere the panels are packed.
const offsKernel = false

func microKernelOffs(nblk, K int, a, b []float32, offs []int32, maxOff int, c []float32, ldc int) {
	panic("octcore: microKernelOffs without an assembly kernel")
}

// microKernelN runs microKernel for nblk row blocks: block i reads weights
// a[i*MR*K:] and writes rows c[i*MR*ldc:].
func microKernelN(nblk, K int, a, b, c []float32, ldc, ldb int) {
	for i := 0; i < nblk; i++ {
		microKernel(K, a[i*MR*K:(i+1)*MR*K], b, c[i*MR*ldc:], ldc, ldb)
	}
}
