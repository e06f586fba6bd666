//go:build !(goexperiment.simd && amd64)

package octcore

// asmTileAdd reports that this build has no accumulating assembly tile.
func asmTileAdd(K int, a, b, c []float32, ldc, ldb int) bool { return false }
