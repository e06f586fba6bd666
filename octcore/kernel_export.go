package octcore

// The engine's register-tile kernels, exported for the trainer
// (octcore/train), which multiplies the matrices of a batch with the same
// kernels as inference: one kernel source per build. Not meant for other
// callers; they may change with the engine.

// TileRows is the number of rows of A in one register tile.
const TileRows = MR

// TileCols returns the number of columns of one register tile in this build
// (4 scalar, 3 vectors on amd64 and arm64, 2 vectors in WebAssembly SIMD).
func TileCols() int { return nr }

// TileKernel computes the TileRows x TileCols() tile
//
//	c[i*ldc+j] = sum_k a[k*TileRows+i] * b[k*ldb+j]
//
// overwriting c: a is a packed panel of A (K groups of TileRows values), b
// holds K rows of at least TileCols() values, ldb apart.
func TileKernel(K int, a, b, c []float32, ldc, ldb int) { microKernel(K, a, b, c, ldc, ldb) }

// TileKernelAdd adds the tile of TileKernel to c instead of overwriting it:
// in the kernel's registers where the build has an accumulating tile (AVX2
// assembly), else through tmp (TileRows x TileCols() values) and AddRows.
func TileKernelAdd(K int, a, b, c []float32, ldc, ldb int, tmp []float32) {
	if asmTileAdd(K, a, b, c, ldc, ldb) {
		return
	}
	microKernel(K, a, b, tmp, nr, ldb)
	for i := 0; i < MR; i++ {
		r := c[i*ldc : i*ldc+nr]
		addRows(r, r, tmp[i*nr:(i+1)*nr])
	}
}

// AddRows writes d[x] = a[x] + b[x] with the build's vectors; d may be a or b.
func AddRows(d, a, b []float32) { addRows(d, a, b) }
