//go:build goexperiment.simd && !wasm

package octcore

import "simd"

// vec is the vector type of the transforms.
type vec = simd.Float32s

func loadVec(s []float32) vec { return simd.LoadFloat32s(s) }

// The Winograd transforms of the SIMD builds, a vector of tiles at a time
// (vec is the portable simd package's Float32s natively and archsimd's
// Float32x4 on WebAssembly: winograd_vec_*.go). A tile row's input tiles
// read columns 2j..2j+3 of four rows; with each padded row split into its
// even and odd columns (E, O), tile j reads E[j], O[j], E[j+1], O[j+1], so
// a vector of consecutive tiles is a vector load at j and one at j+1. The
// outputs come out the same way, as even and odd columns, and are
// interleaved into the output rows by scalar stores.

// winoVecSlack is how far past the last tile the vector transforms read and
// write: a vector of tiles that starts at the last tile.
func winoVecSlack() int { return lanes }

// winoInput writes the 16 transformed values of every tile of one channel:
// v[x*ldx + t] for position x and tile t = i*tx + j, from the padded plane
// src of row width wp. It also writes up to lanes-1 values past each tile
// row's end (the next row overwrites them; after the last row they fall in
// the slack of V). tmp holds 2*(2*ty+2)*(tx+1+lanes) floats.
func winoInput(v []float32, ldx int, src []float32, wp, ty, tx int, tmp []float32) {
	L := lanes
	we := tx + 1 + L // the even and odd halves of a row, with room for a vector read
	// Split rows 0 .. 2ty+1 into even and odd columns. Row 2ty+1 and column
	// 2tx+1 may lie past the output's window (see winoInputScalar).
	nrows := 2*ty + 2
	for r := 0; r < nrows; r++ {
		s := src[r*wp : r*wp+2*tx+2]
		e := tmp[2*r*we : 2*r*we+tx+1]
		o := tmp[(2*r+1)*we : (2*r+1)*we+tx+1]
		for j := range e {
			e[j], o[j] = s[2*j], s[2*j+1]
		}
	}
	for i := 0; i < ty; i++ {
		rows := tmp[2*(2*i)*we:]
		e0, o0 := rows[0*we:], rows[1*we:]
		e1, o1 := rows[2*we:], rows[3*we:]
		e2, o2 := rows[4*we:], rows[5*we:]
		e3, o3 := rows[6*we:], rows[7*we:]
		for j := 0; j < tx; j += L {
			t := i*tx + j
			// Column pairs (E[j], O[j]) and (E[j+1], O[j+1]) of each row.
			ea0, eb0 := loadVec(e0[j:]), loadVec(e0[j+1:])
			oa0, ob0 := loadVec(o0[j:]), loadVec(o0[j+1:])
			ea1, eb1 := loadVec(e1[j:]), loadVec(e1[j+1:])
			oa1, ob1 := loadVec(o1[j:]), loadVec(o1[j+1:])
			ea2, eb2 := loadVec(e2[j:]), loadVec(e2[j+1:])
			oa2, ob2 := loadVec(o2[j:]), loadVec(o2[j+1:])
			ea3, eb3 := loadVec(e3[j:]), loadVec(e3[j+1:])
			oa3, ob3 := loadVec(o3[j:]), loadVec(o3[j+1:])
			// B^T d, then the columns of each row of it.
			winoInputRow(v[t:], ldx, 0, ea0.Sub(ea2), oa0.Sub(oa2), eb0.Sub(eb2), ob0.Sub(ob2))
			winoInputRow(v[t:], ldx, 4, ea1.Add(ea2), oa1.Add(oa2), eb1.Add(eb2), ob1.Add(ob2))
			winoInputRow(v[t:], ldx, 8, ea2.Sub(ea1), oa2.Sub(oa1), eb2.Sub(eb1), ob2.Sub(ob1))
			winoInputRow(v[t:], ldx, 12, ea1.Sub(ea3), oa1.Sub(oa3), eb1.Sub(eb3), ob1.Sub(ob3))
		}
	}
}

// winoInputRow stores row a/4 of B^T d B for a vector of tiles from row a/4
// of B^T d: q0..q3 are its four columns.
func winoInputRow(v []float32, ldx, a int, q0, q1, q2, q3 vec) {
	q0.Sub(q2).Store(v[a*ldx:])
	q1.Add(q2).Store(v[(a+1)*ldx:])
	q2.Sub(q1).Store(v[(a+2)*ldx:])
	q1.Sub(q3).Store(v[(a+3)*ldx:])
}

// winoOutput writes one output channel (oh x ow) from its products:
// position x of tile t is m[x*ldx + t]; m has lanes values of slack past
// the last tile. tmp holds 4*(tx+lanes) floats.
func winoOutput(y []float32, ow, oh int, m []float32, ldx, ty, tx int, tmp []float32) {
	L := lanes
	n := tx + L
	y00, y01, y10, y11 := tmp[:n], tmp[n:2*n], tmp[2*n:3*n], tmp[3*n:4*n]
	for i := 0; i < ty; i++ {
		for j := 0; j < tx; j += L {
			t := i*tx + j
			mt := m[t:]
			m0, m1, m2, m3 := loadVec(mt), loadVec(mt[ldx:]), loadVec(mt[2*ldx:]), loadVec(mt[3*ldx:])
			m4, m5, m6, m7 := loadVec(mt[4*ldx:]), loadVec(mt[5*ldx:]), loadVec(mt[6*ldx:]), loadVec(mt[7*ldx:])
			m8, m9, m10, m11 := loadVec(mt[8*ldx:]), loadVec(mt[9*ldx:]), loadVec(mt[10*ldx:]), loadVec(mt[11*ldx:])
			// A^T M: rows.
			s00, s01, s02, s03 := m0.Add(m4).Add(m8), m1.Add(m5).Add(m9), m2.Add(m6).Add(m10), m3.Add(m7).Add(m11)
			s00.Add(s01).Add(s02).Store(y00[j:])
			s01.Sub(s02).Sub(s03).Store(y01[j:])
			m12, m13, m14, m15 := loadVec(mt[12*ldx:]), loadVec(mt[13*ldx:]), loadVec(mt[14*ldx:]), loadVec(mt[15*ldx:])
			s10, s11, s12, s13 := m4.Sub(m8).Sub(m12), m5.Sub(m9).Sub(m13), m6.Sub(m10).Sub(m14), m7.Sub(m11).Sub(m15)
			s10.Add(s11).Add(s12).Store(y10[j:])
			s11.Sub(s12).Sub(s13).Store(y11[j:])
		}
		winoInterleave(y[2*i*ow:2*i*ow+ow], y00, y01)
		if 2*i+1 < oh {
			winoInterleave(y[(2*i+1)*ow:(2*i+1)*ow+ow], y10, y11)
		}
	}
}

// winoInterleave writes d[2j] = e[j] and d[2j+1] = o[j] for the len(d)
// values of d.
func winoInterleave(d, e, o []float32) {
	n := len(d) / 2
	e, o = e[:n], o[:n]
	for j := range e {
		d[2*j], d[2*j+1] = e[j], o[j]
	}
	if len(d)%2 == 1 {
		d[len(d)-1] = e[:n+1][n]
	}
}
