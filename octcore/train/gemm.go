package train

// mr is the number of rows of one register tile.
const mr = 4

const (
	kc = 256  // depth of one packed block
	nc = 1024 // columns of one packed block of B (a multiple of every nr)
)

// gemmBuf holds the packing buffers of one goroutine.
type gemmBuf struct {
	a, b, tile []float32
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// gemm computes C = op(A) op(B), or C += op(A) op(B) when acc, where op(A)
// is M x K and op(B) is K x N, all row-major with leading dimensions lda,
// ldb, ldc. tA means A is stored K x M (op(A) = A^T); tB means B is stored
// N x K.
func (g *gemmBuf) gemm(tA, tB bool, M, N, K int, A []float32, lda int, B []float32, ldb int, C []float32, ldc int, acc bool) {
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
	for k0 := 0; k0 < K; k0 += kc {
		kk := min(kc, K-k0)
		g.a = grow(g.a, mp*mr*kk)
		packA(g.a, tA, M, kk, A, lda, k0)
		add := acc || k0 > 0
		for n0 := 0; n0 < N; n0 += nc {
			nn := min(nc, N-n0)
			np := (nn + nr - 1) / nr
			// A non-transposed B is read in place, except for a last
			// partial panel; the sums are the same either way.
			inPlace := !tB
			if !inPlace {
				g.b = grow(g.b, np*nr*kk)
				packB(g.b, tB, nn, kk, B, ldb, k0, n0)
			}
			for jp := 0; jp < np; jp++ {
				j0 := n0 + jp*nr
				jn := min(nr, N-j0)
				// bp holds the panel's kk rows of nr columns, bld apart.
				var bp []float32
				bld := nr
				switch {
				case !inPlace:
					bp = g.b[jp*nr*kk : (jp+1)*nr*kk]
				case jn == nr:
					bp, bld = B[k0*ldb+j0:], ldb
				default:
					g.b = grow(g.b, nr*kk)
					packB(g.b, false, jn, kk, B[j0:], ldb, k0, 0)
					bp = g.b
				}
				for ip := 0; ip < mp; ip++ {
					microKernel(kk, g.a[ip*mr*kk:(ip+1)*mr*kk], bp, bld, g.tile)
					i0 := ip * mr
					in := min(mr, M-i0)
					for i := 0; i < in; i++ {
						c := C[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+jn]
						t := g.tile[i*nr : i*nr+jn]
						if add {
							for j, v := range t {
								c[j] += v
							}
						} else {
							copy(c, t)
						}
					}
				}
			}
		}
	}
}

// packA writes rows 0..M-1, depth k0..k0+kk-1 of op(A) as panels of mr rows:
// panel p holds, for each k, the mr values of rows p*mr.. (zero past M).
func packA(dst []float32, tA bool, M, kk int, A []float32, lda, k0 int) {
	mp := (M + mr - 1) / mr
	for p := 0; p < mp; p++ {
		panel := dst[p*mr*kk : (p+1)*mr*kk]
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
			for j := 0; j < nr; j++ {
				if j >= jn {
					for k := 0; k < kk; k++ {
						panel[k*nr+j] = 0
					}
					continue
				}
				row := B[(n0+j0+j)*ldb+k0 : (n0+j0+j)*ldb+k0+kk]
				for k, v := range row {
					panel[k*nr+j] = v
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
