//go:build !goexperiment.simd

package octcore

// The Winograd transforms of the scalar builds, a tile at a time (the SIMD
// builds' are in winograd_vec.go).

// winoVecSlack is how far past the last tile the transforms read and write:
// nothing in the scalar build.
func winoVecSlack() int { return 0 }

// winoTmpLen is the scratch the transforms need: none.
func winoTmpLen(ty, tx int) int { return 0 }

// winoPacked reports whether winoInput writes V as packed panels: no.
const winoPacked = false

// winoTileRow is the tile row's stride in V and M: tx.
func winoTileRow(tx int) int { return tx }

// winoInput2 is the wasm build's: winoConv calls it only where winoPacked.
func winoInput2(_ []float32, _ int, _ []float32, _, _, _, _ int, _ []float32, _ int) {
	panic("octcore: winoInput2 writes packed panels: WebAssembly only")
}

// winoInput writes the 16 transformed values of every tile of one channel:
// v[x*ldx + t] for position x and tile t = ty*tx + tx, from the padded plane
// src of row width wp. The last tile row and column may read one row and
// column past the output's window; no kept output depends on them (the
// first row and column of A^T ignore the fourth input row and column).
func winoInput(v []float32, ldx int, src []float32, wp, ty, tx int, _ []float32, _ int) {
	for i := 0; i < ty; i++ {
		r0 := src[2*i*wp:]
		r1 := src[(2*i+1)*wp:]
		r2 := src[(2*i+2)*wp:]
		r3 := src[(2*i+3)*wp:]
		for j := 0; j < tx; j++ {
			k := 2 * j
			t := i*tx + j
			a0, a1, a2, a3 := r0[k], r0[k+1], r0[k+2], r0[k+3]
			b0, b1, b2, b3 := r1[k], r1[k+1], r1[k+2], r1[k+3]
			c0, c1, c2, c3 := r2[k], r2[k+1], r2[k+2], r2[k+3]
			d0, d1, d2, d3 := r3[k], r3[k+1], r3[k+2], r3[k+3]
			// d B: the columns of each row.
			a0, a1, a2, a3 = a0-a2, a1+a2, a2-a1, a1-a3
			b0, b1, b2, b3 = b0-b2, b1+b2, b2-b1, b1-b3
			c0, c1, c2, c3 = c0-c2, c1+c2, c2-c1, c1-c3
			d0, d1, d2, d3 = d0-d2, d1+d2, d2-d1, d1-d3
			// B^T (d B): the rows.
			v[0*ldx+t], v[4*ldx+t], v[8*ldx+t], v[12*ldx+t] = a0-c0, b0+c0, c0-b0, b0-d0
			v[1*ldx+t], v[5*ldx+t], v[9*ldx+t], v[13*ldx+t] = a1-c1, b1+c1, c1-b1, b1-d1
			v[2*ldx+t], v[6*ldx+t], v[10*ldx+t], v[14*ldx+t] = a2-c2, b2+c2, c2-b2, b2-d2
			v[3*ldx+t], v[7*ldx+t], v[11*ldx+t], v[15*ldx+t] = a3-c3, b3+c3, c3-b3, b3-d3
		}
	}
}

// winoOutput writes one output channel (oh x ow, row width ow) from its
// products, clamp(value + b, lo, hi): position x of tile t = i*tr + j is
// m[x*ldx + t].
func winoOutput(y []float32, ow, oh int, m []float32, ldx, ty, tx, tr int, _ []float32, b, lo, hi float32) {
	for i := 0; i < ty; i++ {
		row0 := y[2*i*ow : 2*i*ow+ow]
		var row1 []float32
		if 2*i+1 < oh {
			row1 = y[(2*i+1)*ow : (2*i+1)*ow+ow]
		}
		for j := 0; j < tx; j++ {
			t := i*tr + j
			m0, m1, m2, m3 := m[t], m[ldx+t], m[2*ldx+t], m[3*ldx+t]
			m4, m5, m6, m7 := m[4*ldx+t], m[5*ldx+t], m[6*ldx+t], m[7*ldx+t]
			m8, m9, m10, m11 := m[8*ldx+t], m[9*ldx+t], m[10*ldx+t], m[11*ldx+t]
			m12, m13, m14, m15 := m[12*ldx+t], m[13*ldx+t], m[14*ldx+t], m[15*ldx+t]
			// A^T M: rows.
			s00, s01, s02, s03 := m0+m4+m8, m1+m5+m9, m2+m6+m10, m3+m7+m11
			s10, s11, s12, s13 := m4-m8-m12, m5-m9-m13, m6-m10-m14, m7-m11-m15
			// (A^T M) A: columns.
			x := 2 * j
			row0[x] = min(max(s00+s01+s02+b, lo), hi)
			if x+1 < ow {
				row0[x+1] = min(max(s01-s02-s03+b, lo), hi)
			}
			if row1 != nil {
				row1[x] = min(max(s10+s11+s12+b, lo), hi)
				if x+1 < ow {
					row1[x+1] = min(max(s11-s12-s13+b, lo), hi)
				}
			}
		}
	}
}
