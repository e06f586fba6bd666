//go:build goexperiment.simd

package octcore

import "simd/archsimd"

// useAVX2Tile selects the assembly tile: 256-bit vectors (nr = 24) and FMA.
// The Go compiler keeps the twelve accumulators of the portable kernel in
// registers only partly (spills and register copies every iteration); the
// assembly runs about four times faster on the same sums.
var useAVX2Tile = lanes == 8 && archsimd.X86.AVX2() && archsimd.X86.FMA()

//go:noescape
func tile4x24(K int, a, b, c *float32, ldc, ldb, add int)

//go:noescape
func tile4x24N(nblk, K int, a, b, c *float32, ldc, ldb int)

// microKernelN runs microKernel for nblk row blocks: block i reads weights
// a[i*MR*K:] and writes rows c[i*MR*ldc:]. With the AVX2 tile all blocks run
// in one assembly call (the bounds checked once), which saved the 4-6% of
// Oct-ResNet-50's time that a call per block cost.
func microKernelN(nblk, K int, a, b, c []float32, ldc, ldb int) {
	if !useAVX2Tile || K <= 0 || nblk <= 0 {
		microKernelNGo(nblk, K, a, b, c, ldc, ldb)
		return
	}
	_ = a[nblk*K*MR-1]
	_ = b[(K-1)*ldb+23]
	_ = c[(nblk*MR-1)*ldc+23]
	tile4x24N(nblk, K, &a[0], &b[0], &c[0], ldc, ldb)
}

// asmTile runs microKernel in assembly when it can and reports whether it did.
func asmTile(K int, a, b, c []float32, ldc, ldb int) bool {
	return runTile(K, a, b, c, ldc, ldb, 0)
}

// asmTileAdd adds the tile of microKernel to c in assembly when it can and
// reports whether it did.
func asmTileAdd(K int, a, b, c []float32, ldc, ldb int) bool {
	return runTile(K, a, b, c, ldc, ldb, 1)
}

// runTile checks the bounds tile4x24 reads and writes, then runs it (add 1
// adds to c, 0 stores).
func runTile(K int, a, b, c []float32, ldc, ldb, add int) bool {
	if !useAVX2Tile || K <= 0 {
		return false
	}
	_ = a[K*MR-1]
	_ = b[(K-1)*ldb+23]
	_ = c[3*ldc+23]
	tile4x24(K, &a[0], &b[0], &c[0], ldc, ldb, add)
	return true
}

// clearUpper clears the upper halves of the vector registers (VZEROUPPER).
// The portable vector routines call it before their scalar code and before
// they return: Go compiles scalar float32 code to legacy SSE instructions,
// and on this project's AMD EPYC every switch between 256-bit code that left
// the upper halves dirty and legacy SSE costs hundreds of cycles (see
// kernel_avx2_ops_amd64.go).
func clearUpper() { archsimd.ClearAVXUpperBits() }
