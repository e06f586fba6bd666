//go:build !(goexperiment.simd && amd64)

package train

import "math"

// maskCopy writes dst[j] = src[j] where m[j] is all ones, 0 where it is 0.
func maskCopy(dst, src []float32, m []uint32) {
	src, m = src[:len(dst)], m[:len(dst)]
	for j := range dst {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}

// maskAdd adds src[j] to dst[j] where m[j] is all ones.
func maskAdd(dst, src []float32, m []uint32) {
	src, m = src[:len(dst)], m[:len(dst)]
	for j := range dst {
		dst[j] += math.Float32frombits(math.Float32bits(src[j]) & m[j])
	}
}

func bnApply(z, o, r []float32, mu, inv, ga, be float32, relu bool) {
	bnApplyGo(z, o, r, mu, inv, ga, be, relu)
}

func gradPrep(g, o, r, xh []float32) (sg, sgx float64) { return gradPrepGo(g, o, r, xh) }

func bnBack(g, xh []float32, a, mg, mgx float32) { bnBackGo(g, xh, a, mg, mgx) }

func sums(x, y []float32) (s, q float64) { return sumsGo(x, y) }
