//go:build !goexperiment.simd

package octcore

// The Winograd transforms of the scalar builds, a tile at a time (the SIMD
// builds' are in winograd_vec.go).

// winoVecSlack is how far past the last tile the transforms read and write:
// nothing in the scalar build.
func winoVecSlack() int { return 0 }

// winoInput writes the 16 transformed values of every tile of one channel:
// v[x*ldx + t] for position x and tile t = ty*tx + tx, from the padded plane
// src of row width wp. The last tile row and column may read one row and
// column past the output's window; no kept output depends on them (the
// first row and column of A^T ignore the fourth input row and column).
func winoInput(v []float32, ldx int, src []float32, wp, ty, tx int, _ []float32) {
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
			// B^T d: rows.
			q00, q01, q02, q03 := a0-c0, a1-c1, a2-c2, a3-c3
			q10, q11, q12, q13 := b0+c0, b1+c1, b2+c2, b3+c3
			q20, q21, q22, q23 := c0-b0, c1-b1, c2-b2, c3-b3
			q30, q31, q32, q33 := b0-d0, b1-d1, b2-d2, b3-d3
			// (B^T d) B: columns.
			v[0*ldx+t] = q00 - q02
			v[1*ldx+t] = q01 + q02
			v[2*ldx+t] = q02 - q01
			v[3*ldx+t] = q01 - q03
			v[4*ldx+t] = q10 - q12
			v[5*ldx+t] = q11 + q12
			v[6*ldx+t] = q12 - q11
			v[7*ldx+t] = q11 - q13
			v[8*ldx+t] = q20 - q22
			v[9*ldx+t] = q21 + q22
			v[10*ldx+t] = q22 - q21
			v[11*ldx+t] = q21 - q23
			v[12*ldx+t] = q30 - q32
			v[13*ldx+t] = q31 + q32
			v[14*ldx+t] = q32 - q31
			v[15*ldx+t] = q31 - q33
		}
	}
}

// winoOutput writes one output channel (oh x ow, row width ow) from its
// products: position x of tile t is m[x*ldx + t].
func winoOutput(y []float32, ow, oh int, m []float32, ldx, ty, tx int, _ []float32) {
	for i := 0; i < ty; i++ {
		row0 := y[2*i*ow : 2*i*ow+ow]
		var row1 []float32
		if 2*i+1 < oh {
			row1 = y[(2*i+1)*ow : (2*i+1)*ow+ow]
		}
		for j := 0; j < tx; j++ {
			t := i*tx + j
			m0, m1, m2, m3 := m[t], m[ldx+t], m[2*ldx+t], m[3*ldx+t]
			m4, m5, m6, m7 := m[4*ldx+t], m[5*ldx+t], m[6*ldx+t], m[7*ldx+t]
			m8, m9, m10, m11 := m[8*ldx+t], m[9*ldx+t], m[10*ldx+t], m[11*ldx+t]
			m12, m13, m14, m15 := m[12*ldx+t], m[13*ldx+t], m[14*ldx+t], m[15*ldx+t]
			// A^T M: rows.
			s00, s01, s02, s03 := m0+m4+m8, m1+m5+m9, m2+m6+m10, m3+m7+m11
			s10, s11, s12, s13 := m4-m8-m12, m5-m9-m13, m6-m10-m14, m7-m11-m15
			// (A^T M) A: columns.
			x := 2 * j
			row0[x] = s00 + s01 + s02
			if x+1 < ow {
				row0[x+1] = s01 - s02 - s03
			}
			if row1 != nil {
				row1[x] = s10 + s11 + s12
				if x+1 < ow {
					row1[x+1] = s11 - s12 - s13
				}
			}
		}
	}
}
