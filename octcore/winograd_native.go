//go:build goexperiment.simd && !wasm

package octcore

// The native SIMD builds run the Go vector transforms of winograd_vec.go
// (WebAssembly runs generated assembly: winograd_wasm.go).

// winoPacked reports whether winoInput writes V as packed panels: no, rows
// of tiles that the micro kernel reads in place.
const winoPacked = false

// winoTileRow is the tile row's stride in V and M: tx.
func winoTileRow(tx int) int { return tx }

// winoInput2 is the wasm build's: winoConv calls it only where winoPacked.
func winoInput2(_ []float32, _ int, _ []float32, _, _, _, _ int, _ []float32, _ int) {
	panic("octcore: winoInput2 writes packed panels: WebAssembly only")
}

func winoInput(v []float32, ldx int, src []float32, wp, ty, tx int, tmp []float32, _ int) {
	winoInputVec(v, ldx, src, wp, ty, tx, tmp)
}

func winoOutput(y []float32, ow, oh int, m []float32, ldx, ty, tx, tr int, tmp []float32, b, lo, hi float32) {
	winoOutputVec(y, ow, oh, m, ldx, ty, tx, tr, tmp, b, lo, hi)
}

// winoTmpLen is the scratch the transforms need for a ty x tx grid of tiles.
func winoTmpLen(ty, tx int) int { return winoTmpLenVec(ty, tx) }
