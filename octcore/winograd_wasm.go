//go:build goexperiment.simd && wasm

package octcore

import "unsafe"

// The Winograd transforms of the WebAssembly SIMD build: generated assembly
// (kernel_wasm.s, written by internal/genasm). Go's wasm code generator
// spills the vector transforms of winograd_vec.go (winoInputVec,
// winoOutputVec: the reference of TestWinogradAsmMatchesGo) and runs their
// even/odd split one value at a time.

//go:noescape
func winoInputWasm(v *float32, ldx int, src *float32, wp, ty, tx int, w *float32)

// winoInput is winoInputVec in assembly: the 16 transformed values of every
// tile of one channel, v[x*ldx + t], from the padded plane src of row width
// wp. It writes up to three values past each tile row's end, like
// winoInputVec. tmp holds winoTmpLen(ty, tx) floats.
func winoInput(v []float32, ldx int, src []float32, wp, ty, tx int, tmp []float32) {
	if ty <= 0 || tx <= 0 {
		return
	}
	groups := (tx + 3) / 4
	_ = src[(2*ty+1)*wp+2*tx+1]
	_ = tmp[(2*ty+2)*16*groups-1]
	_ = v[15*ldx+(ty-1)*tx+4*groups-1]
	winoInputWasm(unsafe.SliceData(v), ldx, unsafe.SliceData(src), wp, ty, tx, unsafe.SliceData(tmp))
}

func winoOutput(y []float32, ow, oh int, m []float32, ldx, ty, tx int, tmp []float32, b, lo, hi float32) {
	winoOutputVec(y, ow, oh, m, ldx, ty, tx, tmp, b, lo, hi)
}

// winoTmpLen is the scratch the transforms need for a ty x tx grid of tiles:
// the input transform's d B, 16 values per group of four tiles and input
// row (and the Go versions' rows, for the tests).
func winoTmpLen(ty, tx int) int {
	return max(winoTmpLenVec(ty, tx), (2*ty+2)*16*((tx+3)/4))
}
