package train

import "github.com/octave-project/octave/octcore"

// The matrix products of training run on the engine's register-tile kernel
// (octcore.TileKernel): one kernel source for inference and training.

// mr is the number of rows of one register tile.
const mr = octcore.TileRows

// nr is the number of columns of one register tile in this build.
var nr = octcore.TileCols()

const (
	kc = 256  // depth of one packed block: a B panel of kc x nr stays in L1
	nc = 1536 // columns of one packed block of B (a multiple of every nr)
)

// gemmBuf holds the packing buffers of one goroutine.
type gemmBuf struct {
	a, b, tile, c []float32
	// fill writes the block of op(B) for bFill (see fillFunc).
	fill fillFunc
}

// fillFunc writes depth k0..k0+kk-1, columns n0..n0+nn-1 of op(B) into dst
// as panels of nr columns: column n0+j at dst[(j/nr)*kk*nr + k*nr + j%nr]
// (values past nn are not read back). It computes operands that are never
// stored whole, such as im2col matrices.
type fillFunc func(dst []float32, k0, kk, n0, nn int)

// blockFloats bounds a packed block of B (kc x nc values) for the products
// whose B is filled by a fillFunc, so that it stays in L2 while the kernel
// reads it.
const blockFloats = 96 << 10

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// bKind says how the right-hand side op(B), K x N, is stored.
type bKind int

const (
	bRows  bKind = iota // row-major K x N, rows ldb apart
	bTrans              // row-major N x K, rows ldb apart: op(B) = B^T
	// bPanels: already packed, panel-major: op(B)[k][n] at
	// B[(n/nr)*K*nr + k*nr + n%nr] (what im2colPanels writes).
	bPanels
	// bPanelsTrans: op(B) = X^T for an N x K matrix X stored panel-major
	// over its columns: op(B)[k][n] = X[n][k] at B[(k/nr)*N*nr + n*nr + k%nr].
	bPanelsTrans
	// bFill: written block by block by g.fill.
	bFill
)

// gemm computes C = op(A) op(B), or C += op(A) op(B) when acc, where op(A)
// is M x K and op(B) is K x N (stored as bk says), row-major with leading
// dimensions lda, ldb, ldc. tA means A is stored K x M (op(A) = A^T).
//
// Blocks of kc rows of op(B) are packed into panels of nr columns once per
// block (contiguous, whatever the stride of B), and each panel meets every
// row panel of the packed A while it is in L1. Full tiles are written (or
// added) by the kernel in place; the others go through a tile buffer.
func (g *gemmBuf) gemm(tA bool, bk bKind, M, N, K int, A []float32, lda int, B []float32, ldb int, C []float32, ldc int, acc bool) {
	if M == 0 || N == 0 {
		return
	}
	if K == 0 {
		if !acc {
			for i := 0; i < M; i++ {
				clear(C[i*ldc : i*ldc+N])
			}
		}
		return
	}
	mp := (M + mr - 1) / mr
	g.tile = grow(g.tile, mr*nr)
	kb := kc
	if bk == bFill {
		kb = max(64, min(kc, blockFloats/max(min(N, nc), 1)/8*8))
	}
	for k0 := 0; k0 < K; k0 += kb {
		kk := min(kb, K-k0)
		g.a = grow(g.a, mp*mr*kk)
		packA(g.a, tA, M, kk, A, lda, k0)
		add := acc || k0 > 0
		for n0 := 0; n0 < N; n0 += nc {
			nn := min(nc, N-n0)
			np := (nn + nr - 1) / nr
			switch bk {
			case bRows, bTrans:
				g.b = grow(g.b, np*nr*kk)
				packB(g.b, bk == bTrans, nn, kk, B, ldb, k0, n0)
			case bPanelsTrans:
				g.b = grow(g.b, np*nr*kk)
				packPanelsTrans(g.b, nn, kk, B, N, k0, n0)
			case bFill:
				g.b = grow(g.b, np*nr*kk)
				g.fill(g.b, k0, kk, n0, nn)
			}
			if bk == bPanels {
				g.panels(g.a, M, kk, B[(n0/nr)*K*nr+k0*nr:], K*nr, n0, nn, add, C, ldc)
			} else {
				g.panels(g.a, M, kk, g.b, nr*kk, n0, nn, add, C, ldc)
			}
		}
	}
}

// panels multiplies the packed block a of A (rows 0..M-1, depth kk) by the
// panels of B for columns n0..n0+nn-1 (panel jp at b[jp*bStride:], kk x nr)
// into C (columns n0.., leading dimension ldc), adding when add.
func (g *gemmBuf) panels(a []float32, M, kk int, b []float32, bStride, n0, nn int, add bool, C []float32, ldc int) {
	mp := (M + mr - 1) / mr
	np := (nn + nr - 1) / nr
	for jp := 0; jp < np; jp++ {
		j0 := n0 + jp*nr
		jn := min(nr, n0+nn-j0)
		bp := b[jp*bStride : jp*bStride+nr*kk]
		for ip := 0; ip < mp; ip++ {
			ap := a[ip*mr*kk : (ip+1)*mr*kk]
			i0 := ip * mr
			in := min(mr, M-i0)
			if in == mr && jn == nr {
				if add {
					octcore.TileKernelAdd(kk, ap, bp, C[i0*ldc+j0:], ldc, nr, g.tile)
				} else {
					octcore.TileKernel(kk, ap, bp, C[i0*ldc+j0:], ldc, nr)
				}
				continue
			}
			octcore.TileKernel(kk, ap, bp, g.tile, nr, nr)
			for i := 0; i < in; i++ {
				c := C[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+jn]
				t := g.tile[i*nr : i*nr+jn]
				if add {
					octcore.AddRows(c, c, t)
				} else {
					copy(c, t)
				}
			}
		}
	}
}

// gemmFill computes C = op(A) op(B) (C += when acc) like gemm, with op(B)
// written block by block by fill, for products whose op(A) is small (M x K
// within a few hundred KB) and N large: op(A) is packed once, and the
// columns are taken in chunks that each meet every depth block while their
// B block and C columns are in cache. With sink, C is not given: each
// chunk of columns n0..n0+nn-1 goes to a scratch matrix c (M x nn, rows ldc
// apart) handed to sink once complete, so C is never stored whole.
func (g *gemmBuf) gemmFill(tA bool, M, N, K int, A []float32, lda int, fill fillFunc, C []float32, ldc int, acc bool, sink func(n0, nn int, c []float32, ldc int)) {
	if M == 0 || N == 0 || K == 0 {
		if K == 0 && !acc && sink == nil {
			for i := 0; i < M; i++ {
				clear(C[i*ldc : i*ldc+N])
			}
		}
		return
	}
	mp := (M + mr - 1) / mr
	g.tile = grow(g.tile, mr*nr)
	nk := (K + kc - 1) / kc
	g.a = grow(g.a, mp*mr*K)
	for kb := 0; kb < nk; kb++ {
		k0 := kb * kc
		kk := min(kc, K-k0)
		packA(g.a[mp*mr*k0:], tA, M, kk, A, lda, k0)
	}
	// Columns per chunk: the B block (depth up to kc) within blockFloats.
	cn := max(nr, blockFloats/min(K, kc)/nr*nr)
	if sink != nil {
		cn = max(nr, min(cn, blockFloats/M/nr*nr))
		g.c = grow(g.c, M*cn)
	}
	for n0 := 0; n0 < N; n0 += cn {
		nn := min(cn, N-n0)
		np := (nn + nr - 1) / nr
		cc, cl, cj := C, ldc, n0
		if sink != nil {
			cc, cl, cj = g.c, nn, 0
		}
		for kb := 0; kb < nk; kb++ {
			k0 := kb * kc
			kk := min(kc, K-k0)
			g.b = grow(g.b, np*nr*kk)
			fill(g.b, k0, kk, n0, nn)
			g.panels(g.a[mp*mr*k0:mp*mr*(k0+kk)], M, kk, g.b, nr*kk, cj, nn, acc || kb > 0, cc, cl)
		}
		if sink != nil {
			sink(n0, nn, g.c, nn)
		}
	}
}

// packA writes rows 0..M-1, depth k0..k0+kk-1 of op(A) as panels of mr rows:
// panel p holds, for each k, the mr values of rows p*mr.. (zero past M).
func packA(dst []float32, tA bool, M, kk int, A []float32, lda, k0 int) {
	mp := (M + mr - 1) / mr
	for p := 0; p < mp; p++ {
		panel := dst[p*mr*kk : (p+1)*mr*kk]
		if mr == 4 && !tA && p*mr+4 <= M {
			// Four whole rows: each depth's four values in one go.
			r := p * mr
			a0 := A[r*lda+k0 : r*lda+k0+kk]
			a1 := A[(r+1)*lda+k0 : (r+1)*lda+k0+kk]
			a2 := A[(r+2)*lda+k0 : (r+2)*lda+k0+kk]
			a3 := A[(r+3)*lda+k0 : (r+3)*lda+k0+kk]
			for k := range a0 {
				q := panel[k*4 : k*4+4 : k*4+4]
				q[0], q[1], q[2], q[3] = a0[k], a1[k], a2[k], a3[k]
			}
			continue
		}
		for i := 0; i < mr; i++ {
			r := p*mr + i
			if r >= M {
				for k := 0; k < kk; k++ {
					panel[k*mr+i] = 0
				}
				continue
			}
			if tA {
				for k := 0; k < kk; k++ {
					panel[k*mr+i] = A[(k0+k)*lda+r]
				}
			} else {
				row := A[r*lda+k0 : r*lda+k0+kk]
				for k, v := range row {
					panel[k*mr+i] = v
				}
			}
		}
	}
}

// packB writes depth k0..k0+kk-1, columns n0..n0+nn-1 of op(B) as panels of
// nr columns (zero past nn).
func packB(dst []float32, tB bool, nn, kk int, B []float32, ldb, k0, n0 int) {
	np := (nn + nr - 1) / nr
	for p := 0; p < np; p++ {
		panel := dst[p*nr*kk : (p+1)*nr*kk]
		j0 := p * nr
		jn := min(nr, nn-j0)
		if tB {
			// 8 x 8 blocks through transpose8, the edges one by one.
			jb, kb := 0, 0
			if nr%8 == 0 {
				jb, kb = jn/8*8, kk/8*8
			}
			for j := 0; j < jb; j += 8 {
				src := B[(n0+j0+j)*ldb+k0:]
				for k := 0; k < kb; k += 8 {
					transpose8(panel[k*nr+j:], nr, src[k:], ldb)
				}
			}
			for j := 0; j < nr; j++ {
				if j >= jn {
					for k := 0; k < kk; k++ {
						panel[k*nr+j] = 0
					}
					continue
				}
				row := B[(n0+j0+j)*ldb+k0 : (n0+j0+j)*ldb+k0+kk]
				k := 0
				if j < jb {
					k = kb
				}
				for ; k < kk; k++ {
					panel[k*nr+j] = row[k]
				}
			}
		} else {
			for k := 0; k < kk; k++ {
				d := panel[k*nr : k*nr+nr]
				copy(d, B[(k0+k)*ldb+n0+j0:(k0+k)*ldb+n0+j0+jn])
				clear(d[jn:])
			}
		}
	}
}

// packPanelsTrans packs depth k0..k0+kk-1, columns n0..n0+nn-1 of op(B) =
// X^T, X being N x K panel-major over its columns (see bPanelsTrans), into
// panels of nr columns (zero past nn).
func packPanelsTrans(dst []float32, nn, kk int, X []float32, N, k0, n0 int) {
	np := (nn + nr - 1) / nr
	// Depth kA..kB-1 is whole groups of 8 inside one panel of X (nr is a
	// multiple of 8): 8 x 8 blocks through transpose8, the rest one by one.
	kA, kB := k0, k0
	if nr%8 == 0 {
		kA = min((k0+7)/8*8, k0+kk)
		kB = max((k0+kk)/8*8, kA)
	}
	for p := 0; p < np; p++ {
		panel := dst[p*nr*kk : (p+1)*nr*kk]
		j0 := p * nr
		jn := min(nr, nn-j0)
		if jn < nr {
			clear(panel)
		}
		jb := 0
		if nr%8 == 0 {
			jb = jn / 8 * 8
		}
		for j := 0; j < jb; j += 8 {
			n := n0 + j0 + j
			for k := kA; k < kB; k += 8 {
				q, r := k/nr, k%nr
				transpose8(panel[(k-k0)*nr+j:], nr, X[q*N*nr+n*nr+r:], nr)
			}
		}
		for j := 0; j < jn; j++ {
			n := n0 + j0 + j
			one := func(k int) {
				panel[(k-k0)*nr+j] = X[(k/nr)*N*nr+n*nr+k%nr]
			}
			for k := k0; k < kA; k++ {
				one(k)
			}
			if j >= jb {
				for k := kA; k < kB; k++ {
					one(k)
				}
			}
			for k := kB; k < k0+kk; k++ {
				one(k)
			}
		}
	}
}
