//go:build !goexperiment.simd || (!amd64 && !wasm)

package octcore

// winoMinChannels is the fewest input channels for which winoAuto runs a
// 3x3 product as Winograd: never in the scalar builds and the SIMD builds
// of other architectures, where the crossover has not been measured
// (OCTAVE_WINOGRAD=on still runs it).
const winoMinChannels = -1
