package train

import (
	"math"
	"math/rand"
	"testing"
)

// TestGEMM compares gemm with a naive triple loop in float64 for every
// storage of the operands and odd sizes that cross the block boundaries.
func TestGEMM(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var g gemmBuf
	for _, sz := range [][3]int{{1, 1, 1}, {5, 7, 3}, {9, 1100, 17}, {13, 33, 300}, {4, 64, 513}, {8, 3100, 9}, {12, 48, 40}, {16, 5000, 600}} {
		M, N, K := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, bk := range []bKind{bRows, bTrans, bPanels, bPanelsTrans, bFill, bFill + 1, bFill + 2} {
				for _, acc := range []bool{false, true} {
					A := randSlice(rng, M*K)
					B := randSlice(rng, K*N)
					C := randSlice(rng, M*N)
					want := make([]float64, M*N)
					for i := 0; i < M; i++ {
						for j := 0; j < N; j++ {
							var s float64
							if acc {
								s = float64(C[i*N+j])
							}
							for k := 0; k < K; k++ {
								a := A[i*K+k]
								if tA {
									a = A[k*M+i]
								}
								b := B[k*N+j]
								if bk == bTrans {
									b = B[j*K+k]
								}
								s += float64(a) * float64(b)
							}
							want[i*N+j] = s
						}
					}
					lda, ldb := K, N
					if tA {
						lda = M
					}
					Bs := B
					switch bk {
					case bTrans:
						ldb = K
					case bPanels:
						Bs = toPanels(B, K, N)
					case bPanelsTrans:
						// op(B) = X^T with X = B^T, N x K.
						X := make([]float32, N*K)
						for k := 0; k < K; k++ {
							for j := 0; j < N; j++ {
								X[j*K+k] = B[k*N+j]
							}
						}
						Bs = toPanels(X, N, K)
					}
					// bFill + 1 and + 2 stand for gemmFill without and with a
					// sink; all three fill from B row-major.
					fill := func(d []float32, k0, kk, n0, nn int) { packB(d, false, nn, kk, B, N, k0, n0) }
					g.fill = fill
					switch bk {
					case bFill + 1:
						g.gemmFill(tA, M, N, K, A, lda, fill, C, N, acc, nil)
					case bFill + 2:
						g.gemmFill(tA, M, N, K, A, lda, fill, nil, 0, false, func(n0, nn int, c []float32, ld int) {
							for i := 0; i < M; i++ {
								for j := 0; j < nn; j++ {
									if acc {
										C[i*N+n0+j] += c[i*ld+j]
									} else {
										C[i*N+n0+j] = c[i*ld+j]
									}
								}
							}
						})
					default:
						g.gemm(tA, bk, M, N, K, A, lda, Bs, ldb, C, N, acc)
					}
					for i := range want {
						if math.Abs(float64(C[i])-want[i]) > 1e-4*math.Sqrt(float64(K))+1e-5 {
							t.Fatalf("M%d N%d K%d tA %v bk %v acc %v: C[%d] = %v, want %v", M, N, K, tA, bk, acc, i, C[i], want[i])
						}
					}
				}
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// toPanels stores the rows x cols row-major matrix m panel-major: element
// (r, c) at [(c/nr)*rows*nr + r*nr + c%nr], zero past cols.
func toPanels(m []float32, rows, cols int) []float32 {
	np := (cols + nr - 1) / nr
	p := make([]float32, np*rows*nr)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			p[(c/nr)*rows*nr+r*nr+c%nr] = m[r*cols+c]
		}
	}
	return p
}
