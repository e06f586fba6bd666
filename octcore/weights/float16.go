package weights

import "math"

// Float16ToFloat32 converts an IEEE 754 binary16 value, given by its bits,
// to float32 exactly.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: man * 2^-24
		v := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// Float32ToFloat16 returns the bits of the IEEE 754 binary16 value nearest to
// f (ties to even); values beyond the half range become infinities, NaN stays
// NaN.
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // biased half exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half: value = m * 2^-24 with m = (1.man) * 2^(exp-126+23-23).
		shift := uint(14 - e)
		if shift > 24 || exp == 0 {
			return sign // below half of the smallest subnormal (or a float32 subnormal)
		}
		m := man | 0x800000
		return sign | uint16(roundShift(m, shift))
	}
	q := roundShift(man, 13) // may carry into the exponent, which is right
	return sign | (uint16(e)<<10 + uint16(q))
}

// roundShift returns m >> s rounded to nearest, ties to even.
func roundShift(m uint32, s uint) uint32 {
	q := m >> s
	rem := m & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}
