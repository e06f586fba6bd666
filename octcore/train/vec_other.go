//go:build !(goexperiment.simd && amd64)

package train

func maskCopy(dst, src []float32, m []uint32) { maskCopyGo(dst, src, m) }

func maskTaps(dst, src []float32, o int, offs []int, ms [][]uint32) {
	maskTapsGo(dst, src, o, offs, ms)
}

func bnApply(z, o, r []float32, mu, inv, ga, be float32, relu bool) {
	bnApplyGo(z, o, r, mu, inv, ga, be, relu)
}

func gradPrep(g, o, r, xh []float32) (sg, sgx float64) { return gradPrepGo(g, o, r, xh) }

func bnBack(g, xh []float32, a, mg, mgx float32) { bnBackGo(g, xh, a, mg, mgx) }

func sums(x, y []float32) (s, q float64) { return sumsGo(x, y) }
