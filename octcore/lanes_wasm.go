//go:build goexperiment.simd && wasm

package octcore

// lanes is the number of float32 values in one vector: WebAssembly SIMD128
// has four. As a constant it lets the compiler drop the bounds checks of the
// micro kernel, which triples its speed in Go's wasm code.
const lanes = 4

// nr is the number of output pixels in one register tile: two vectors.
const nr = 2 * lanes

// clearUpper does nothing: WebAssembly has no upper register halves to clear
// (see kernel_avx2_amd64.go).
func clearUpper() {}
