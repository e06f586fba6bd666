//go:build goexperiment.simd && !wasm && !amd64

package octcore

// asmTile reports that this build has no assembly tile.
func asmTile(K int, a, b, c []float32, ldc, ldb int) bool { return false }

// clearUpper does nothing: only amd64 has upper register halves to clear.
func clearUpper() {}
