//go:build !(goexperiment.simd && (wasm || amd64))

package octcore

// The helper routines that the amd64 SIMD build runs in AVX2
// (kernel_avx2_ops_amd64.go) are the portable Go code of kernel_generic.go
// everywhere else (WebAssembly SIMD has its own, in kernel_wasm.go).

func microKernelN(nblk, K int, a, b, c []float32, ldc, ldb int) {
	microKernelNGo(nblk, K, a, b, c, ldc, ldb)
}

func pool2Map(dst []float32, ldd int, src []float32, h, w int) { pool2MapGo(dst, ldd, src, h, w) }

func gemvBlocks(nblk, K int, a, b, c []float32, ldb int) { gemvBlocksGo(nblk, K, a, b, c, ldb) }

func epilogueRows(d, s, r, bias []float32, ch, h, n, ldd, lds int, lo, hi float32) {
	epilogueRowsGo(d, s, r, bias, ch, h, n, ldd, lds, lo, hi)
}

func epilogueLow(d, s, low, r, bias, u []float32, ch, h, w, lds, lowW, lowN int, lo, hi float32) {
	epilogueLowGo(d, s, low, r, bias, u, ch, h, w, lds, lowW, lowN, lo, hi)
}

func packPanel(dst, src []float32, offs []int32, maxOff int) { packPanelGo(dst, src, offs, maxOff) }

// helpersVectorized reports that these routines are the portable Go code.
func helpersVectorized() bool { return false }
