//go:build goexperiment.simd && !wasm

package octcore

import "simd"

// lanes is the number of float32 values in one vector, which on amd64
// depends on the processor (AVX2 or AVX-512).
var lanes = simd.VectorBitSize() / 32

// nr is the number of output pixels in one register tile: three vectors.
var nr = 3 * lanes
