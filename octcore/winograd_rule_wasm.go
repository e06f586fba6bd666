//go:build goexperiment.simd && wasm

package octcore

// winoMinChannels is the fewest input channels for which winoAuto runs a
// 3x3 product as Winograd. In WebAssembly SIMD the transforms are Go code
// (no shuffles in archsimd's Float32x4, no generated assembly yet) and cost
// as much as the products below 128 channels (BenchmarkWinograd under
// Node: 64 channels at 14x14 and 28x28 lose, 128 and more win at every
// map size).
const winoMinChannels = 128
