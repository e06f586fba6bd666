//go:build goexperiment.simd && wasm

package octcore

// winoMinChannels is the fewest input channels for which winoAuto runs a
// 3x3 product as Winograd. With the transforms in generated assembly
// (kernel_wasm.s) and V written as packed panels, Winograd won at every
// shape of BenchmarkWinograd from 16 input channels up, at every map size
// (16 channels at 14x14, 28x28 and 56x56: 1.1x..1.3x less CPU time; 64 to
// 512 channels at 7x7..112x112: 1.4x..1.9x), and lost with 8 (0.8x..0.9x
// at 14x14 and 28x28). Node 20, one thread, docs/PERFORMANCE.md.
const winoMinChannels = 16
