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

// winoTmpLenVec is the scratch winoInputVec and winoOutputVec need.
func winoTmpLenVec(ty, tx int) int { return max(2*(2*ty+2)*(tx+1+lanes), 4*(tx+lanes)) }

// winoInputVec writes the 16 transformed values of every tile of one
// channel: v[x*ldx + t] for position x and tile t = i*tx + j, from the
// padded plane src of row width wp. It also writes up to lanes-1 values past
// each tile row's end (the next row overwrites them; after the last row they
// fall in the slack of V). tmp holds winoTmpLen(ty, tx) floats. The columns
// of each input row are combined first (d B), then the rows (B^T (d B)), in
// the order of the WebAssembly kernel (winoInputWasm), which gives the same
// values.
func winoInputVec(v []float32, ldx int, src []float32, wp, ty, tx int, tmp []float32) {
	L := lanes
	we := tx + 1 + L // the even and odd halves of a row, with room for a vector read
	// The split below is scalar code: clear the vector registers' upper
	// halves first (a switch from dirty 256-bit state to scalar SSE code
	// costs hundreds of cycles on some x86 CPUs), and again before returning.
	clearUpper()
	// Split rows 0 .. 2ty+1 into even and odd columns. Row 2ty+1 and column
	// 2tx+1 may lie past the output's window (see the scalar winoInput).
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
		for j := 0; j < tx; j += L {
			t := i*tx + j
			// d B for each of the four rows, then B^T (d B) a column at a
			// time.
			a0, a1, a2, a3 := winoCols(rows[0*we:], rows[1*we:], j)
			b0, b1, b2, b3 := winoCols(rows[2*we:], rows[3*we:], j)
			c0, c1, c2, c3 := winoCols(rows[4*we:], rows[5*we:], j)
			d0, d1, d2, d3 := winoCols(rows[6*we:], rows[7*we:], j)
			vt := v[t:]
			winoRows(vt, ldx, 0, a0, b0, c0, d0)
			winoRows(vt, ldx, 1, a1, b1, c1, d1)
			winoRows(vt, ldx, 2, a2, b2, c2, d2)
			winoRows(vt, ldx, 3, a3, b3, c3, d3)
		}
	}
	clearUpper()
}

// winoCols returns d B for one input row of a vector of tiles from the row's
// even and odd columns e and o: the tiles' columns are E[j], O[j], E[j+1],
// O[j+1].
func winoCols(e, o []float32, j int) (w0, w1, w2, w3 vec) {
	c0, c1, c2, c3 := loadVec(e[j:]), loadVec(o[j:]), loadVec(e[j+1:]), loadVec(o[j+1:])
	return c0.Sub(c2), c1.Add(c2), c2.Sub(c1), c1.Sub(c3)
}

// winoRows stores column b of B^T (d B) for a vector of tiles from column b
// of d B in the four input rows, w0..w3.
func winoRows(v []float32, ldx, b int, w0, w1, w2, w3 vec) {
	w0.Sub(w2).Store(v[b*ldx:])
	w1.Add(w2).Store(v[(4+b)*ldx:])
	w2.Sub(w1).Store(v[(8+b)*ldx:])
	w1.Sub(w3).Store(v[(12+b)*ldx:])
}

// winoOutputVec writes one output channel (oh x ow) from its products,
// clamp(value + b, lo, hi): position x of tile t = i*tr + j is m[x*ldx +
// t]; m has lanes values of slack past the last tile. tmp holds winoTmpLen(ty, tx)
// floats.
func winoOutputVec(y []float32, ow, oh int, m []float32, ldx, ty, tx, tr int, tmp []float32, b, lo, hi float32) {
	L := lanes
	bv, lv, hv := simd.BroadcastFloat32s(b), simd.BroadcastFloat32s(lo), simd.BroadcastFloat32s(hi)
	n := tx + L
	y00, y01, y10, y11 := tmp[:n], tmp[n:2*n], tmp[2*n:3*n], tmp[3*n:4*n]
	for i := 0; i < ty; i++ {
		for j := 0; j < tx; j += L {
			t := i*tr + j
			mt := m[t:]
			m0, m1, m2, m3 := loadVec(mt), loadVec(mt[ldx:]), loadVec(mt[2*ldx:]), loadVec(mt[3*ldx:])
			m4, m5, m6, m7 := loadVec(mt[4*ldx:]), loadVec(mt[5*ldx:]), loadVec(mt[6*ldx:]), loadVec(mt[7*ldx:])
			m8, m9, m10, m11 := loadVec(mt[8*ldx:]), loadVec(mt[9*ldx:]), loadVec(mt[10*ldx:]), loadVec(mt[11*ldx:])
			// A^T M: rows.
			s00, s01, s02, s03 := m0.Add(m4).Add(m8), m1.Add(m5).Add(m9), m2.Add(m6).Add(m10), m3.Add(m7).Add(m11)
			s00.Add(s01).Add(s02).Add(bv).Max(lv).Min(hv).Store(y00[j:])
			s01.Sub(s02).Sub(s03).Add(bv).Max(lv).Min(hv).Store(y01[j:])
			m12, m13, m14, m15 := loadVec(mt[12*ldx:]), loadVec(mt[13*ldx:]), loadVec(mt[14*ldx:]), loadVec(mt[15*ldx:])
			s10, s11, s12, s13 := m4.Sub(m8).Sub(m12), m5.Sub(m9).Sub(m13), m6.Sub(m10).Sub(m14), m7.Sub(m11).Sub(m15)
			s10.Add(s11).Add(s12).Add(bv).Max(lv).Min(hv).Store(y10[j:])
			s11.Sub(s12).Sub(s13).Add(bv).Max(lv).Min(hv).Store(y11[j:])
		}
		clearUpper() // winoInterleave is scalar code
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
