//go:build goexperiment.simd && wasm

package octcore

import "unsafe"

// The Winograd transforms of the WebAssembly SIMD build: generated assembly
// (kernel_wasm.s, written by internal/genasm). Go's wasm code generator
// spills the vector transforms of winograd_vec.go (winoInputVec,
// winoOutputVec: the reference of TestWinogradAsmMatchesGo) and runs their
// even/odd split one value at a time.

// winoPacked reports whether winoInput writes V as packed panels: yes, the
// micro kernel then reads each panel's rows one after the other (reading
// them in place, 64 rows a panel far apart, the products ran at two thirds
// of the speed of packed panels).
const winoPacked = true

// winoTileRow is the tile row's stride in V and M: tx rounded up to whole
// vectors, so that no vector of four tiles straddles two panels.
func winoTileRow(tx int) int { return (tx + 3) &^ 3 }

//go:noescape
func winoInputWasm(v *float32, ldx int, src *float32, wp, ty, tx int, w *float32, ps, cs, two int)

// winoInput is winoInputVec in assembly, writing packed panels of nr tiles
// (winoConv): the 16 transformed values of tile t = i*winoTileRow(tx) + j
// of one channel at v[x*ldx + (t/nr)*ps + t%nr], from the padded plane src
// of row width wp. The tiles past tx in a tile row get values that no
// output uses. tmp holds winoTmpLen(ty, tx) floats.
func winoInput(v []float32, ldx int, src []float32, wp, ty, tx int, tmp []float32, ps int) {
	winoInputN(1, v, ldx, src, 0, wp, ty, tx, tmp, ps)
}

// winoInput2 is winoInput for two channels at once, src and src[cs:], the
// second's values at v[nr:]: two channels' rows of a panel fill whole cache
// lines, which the assembly then writes one after the other.
func winoInput2(v []float32, ldx int, src []float32, cs, wp, ty, tx int, tmp []float32, ps int) {
	winoInputN(2, v, ldx, src, cs, wp, ty, tx, tmp, ps)
}

func winoInputN(n int, v []float32, ldx int, src []float32, cs, wp, ty, tx int, tmp []float32, ps int) {
	if ty <= 0 || tx <= 0 {
		return
	}
	if ps < n*nr {
		panic("octcore: winoInput: the wasm transform writes packed panels")
	}
	groups := (tx + 3) / 4
	last := ty*groups - 1 // the last group of four tiles
	_ = src[(n-1)*cs+(2*ty+1)*wp+2*tx+1]
	_ = tmp[n*(2*ty+2)*16*groups-1]
	_ = v[(n-1)*nr+15*ldx+last/2*ps+last%2*4+3]
	winoInputWasm(unsafe.SliceData(v), ldx, unsafe.SliceData(src), wp, ty, tx, unsafe.SliceData(tmp), ps, cs, n-1)
}

//go:noescape
func winoOutputWasm(y, m, tmp *float32, ow, oh, ldx, ty, tr int, b, lo, hi float32)

// winoOutput is winoOutputVec in assembly: one output channel (oh x ow)
// from its products, clamp(value + b, lo, hi), position x of tile t = i*tr +
// j at m[x*ldx + t]. It reads m up to three tiles past a tile row's last (m
// has that slack past the last tile row); tmp holds at least 16 floats.
func winoOutput(y []float32, ow, oh int, m []float32, ldx, ty, tx, tr int, tmp []float32, b, lo, hi float32) {
	if oh <= 0 || ow <= 0 {
		return
	}
	if ty != (oh+1)/2 || tx != (ow+1)/2 || tr < tx {
		panic("octcore: winoOutput: tile grid does not match the output")
	}
	_ = y[oh*ow-1]
	_ = m[15*ldx+(ty-1)*tr+4*((ow+7)/8)-1]
	_ = tmp[15]
	winoOutputWasm(unsafe.SliceData(y), unsafe.SliceData(m), unsafe.SliceData(tmp), ow, oh, ldx, ty, tr, b, lo, hi)
}

// winoTmpLen is the scratch the transforms need for a ty x tx grid of tiles:
// the input transform's d B for two channels, 16 values per group of four
// tiles and input row (and the Go versions' rows, for the tests).
func winoTmpLen(ty, tx int) int {
	return max(winoTmpLenVec(ty, tx), 2*(2*ty+2)*16*((tx+3)/4), 16)
}
