//go:build goexperiment.simd && amd64

package octcore

// winoMinChannels is the fewest input channels for which winoAuto runs a
// 3x3 product as Winograd (negative: never). With the AVX2+FMA tile
// Winograd won at every shape of BenchmarkWinograd from 16 channels up
// (16..512 channels, 7x7..112x112: 1.3x..1.9x less CPU time); without the
// tile (AVX-512 machines run the portable kernel, untested here) it is
// unmeasured, so the direct kernel stays.
var winoMinChannels = func() int {
	if useAVX2Tile {
		return 16
	}
	return -1
}()
