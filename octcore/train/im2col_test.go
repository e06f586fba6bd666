package train

import (
	"math/rand"
	"testing"
)

// TestIm2colCol2im checks im2colPanels and col2im against their definitions
// (direct loops over pixels and taps) for stride-1 same-size geometries,
// where im2colPanels takes the shifted path, and for strided and valid ones.
func TestIm2colCol2im(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, c := range []struct{ C, N, H, W, k, s, p int }{
		{2, 3, 5, 7, 3, 1, 1}, {1, 2, 28, 28, 3, 1, 1}, {3, 5, 7, 7, 3, 1, 1}, {2, 1, 1, 1, 3, 1, 1},
		{2, 2, 6, 5, 5, 1, 2}, {2, 3, 7, 7, 3, 2, 1}, {2, 2, 6, 6, 3, 1, 0}, {3, 2, 4, 4, 1, 2, 0},
		{2, 2, 8, 6, 3, 2, 1}, {1, 2, 28, 28, 3, 2, 1}, {2, 3, 6, 10, 5, 2, 2},
	} {
		src := newT(c.C, c.N, c.H, c.W)
		for i := range src.D {
			src.D[i] = float32(rng.NormFloat64())
		}
		g := convGeom{k: c.k, s: c.s, p: c.p, inH: c.H, inW: c.W}
		g.outH, g.outW = outSize(c.H, c.k, c.s, c.p), outSize(c.W, c.k, c.s, c.p)
		K := c.C * c.k * c.k
		P := c.N * g.outH * g.outW
		// at returns the source value that tap (ky, kx) of output pixel
		// (n, oy, ox) of channel ch reads, with its index (-1 outside).
		at := func(ch, n, oy, ox, ky, kx int) int {
			iy, ix := oy*c.s-c.p+ky, ox*c.s-c.p+kx
			if iy < 0 || iy >= c.H || ix < 0 || ix >= c.W {
				return -1
			}
			return ((ch*c.N+n)*c.H+iy)*c.W + ix
		}
		col := make([]float32, colPanels(K, P))
		im2colPanels(col, src, &g)
		dcol := make([]float32, K*P)
		for i := range dcol {
			dcol[i] = float32(rng.NormFloat64())
		}
		want := make([]float64, len(src.D))
		for ch := 0; ch < c.C; ch++ {
			for ky := 0; ky < c.k; ky++ {
				for kx := 0; kx < c.k; kx++ {
					row := (ch*c.k+ky)*c.k + kx
					for n := 0; n < c.N; n++ {
						for oy := 0; oy < g.outH; oy++ {
							for ox := 0; ox < g.outW; ox++ {
								p := (n*g.outH+oy)*g.outW + ox
								v := float32(0)
								if i := at(ch, n, oy, ox, ky, kx); i >= 0 {
									v = src.D[i]
									want[i] += float64(dcol[row*P+p])
								}
								if got := col[(p/nr)*K*nr+row*nr+p%nr]; got != v {
									t.Fatalf("%+v: im2col row %d pixel %d = %v, want %v", c, row, p, got, v)
								}
							}
						}
					}
				}
			}
		}
		if g.shifted() && K > 2 && P > 5 {
			// A block of rows and pixels that starts inside a channel and
			// a panel, as the products ask for it.
			r0, rn, p0, pn := 1, K-2, 3, P-5
			blk := make([]float32, (pn+nr-1)/nr*nr*rn)
			im2colRange(blk, src, &g, r0, rn, p0, pn)
			for i := 0; i < rn; i++ {
				for j := 0; j < pn; j++ {
					r, p := r0+i, p0+j
					if got, want := blk[(j/nr)*rn*nr+i*nr+j%nr], col[(p/nr)*K*nr+r*nr+p%nr]; got != want {
						t.Fatalf("%+v: im2colRange row %d pixel %d = %v, want %v", c, r, p, got, want)
					}
				}
			}
		}
		if g.phased() {
			// The phase planes' shifted copies give the same matrix.
			ph := newT(4*c.C, c.N, g.outH, g.outW)
			phaseSplit(ph, src)
			blk := make([]float32, colPanels(K, P))
			im2colRange(blk, ph, &g, 0, K, 0, P)
			for i := range col[:K*P] {
				if blk[i] != col[i] {
					t.Fatalf("%+v: phased im2colRange[%d] = %v, want %v", c, i, blk[i], col[i])
				}
			}
		} else if c.s == 2 && c.H%2 == 0 && c.k == 3 {
			t.Fatalf("%+v: not phased", c)
		}
		dsrc := newT(c.C, c.N, c.H, c.W)
		col2im(dsrc, dcol, &g)
		for i, w := range want {
			if d := float64(dsrc.D[i]) - w; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%+v: col2im[%d] = %v, want %v", c, i, dsrc.D[i], w)
			}
		}
	}
}
