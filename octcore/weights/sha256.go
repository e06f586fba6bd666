package weights

import "encoding/binary"

// A SHA-256 (FIPS 180-4) of its own: crypto/sha256 brings the FIPS module
// with it, 360 KB of the WebAssembly library for one digest per model load.

var sha256K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// digest is a running SHA-256.
type digest struct {
	h   [8]uint32
	buf [64]byte
	nb  int    // bytes in buf
	len uint64 // bytes written
}

func newDigest() *digest {
	return &digest{h: [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}}
}

func (d *digest) Write(p []byte) {
	d.len += uint64(len(p))
	if d.nb > 0 {
		n := copy(d.buf[d.nb:], p)
		d.nb += n
		p = p[n:]
		if d.nb < 64 {
			return
		}
		d.block(d.buf[:])
		d.nb = 0
	}
	for len(p) >= 64 {
		d.block(p[:64])
		p = p[64:]
	}
	d.nb = copy(d.buf[:], p)
}

// Sum returns the digest; d is not to be used afterwards.
func (d *digest) Sum() [32]byte {
	bits := d.len * 8
	var pad [72]byte
	pad[0] = 0x80
	n := 56 - d.nb // bytes of padding before the length
	if n <= 0 {
		n += 64
	}
	binary.BigEndian.PutUint64(pad[n:], bits)
	d.Write(pad[:n+8])
	var out [32]byte
	for i, v := range d.h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
	return out
}

func (d *digest) block(p []byte) {
	var w [64]uint32
	for i := 0; i < 16; i++ {
		w[i] = binary.BigEndian.Uint32(p[4*i:])
	}
	for i := 16; i < 64; i++ {
		a, b := w[i-15], w[i-2]
		s0 := (a>>7 | a<<25) ^ (a>>18 | a<<14) ^ (a >> 3)
		s1 := (b>>17 | b<<15) ^ (b>>19 | b<<13) ^ (b >> 10)
		w[i] = w[i-16] + s0 + w[i-7] + s1
	}
	a, b, c, dd, e, f, g, h := d.h[0], d.h[1], d.h[2], d.h[3], d.h[4], d.h[5], d.h[6], d.h[7]
	for i := 0; i < 64; i++ {
		S1 := (e>>6 | e<<26) ^ (e>>11 | e<<21) ^ (e>>25 | e<<7)
		ch := (e & f) ^ (^e & g)
		t1 := h + S1 + ch + sha256K[i] + w[i]
		S0 := (a>>2 | a<<30) ^ (a>>13 | a<<19) ^ (a>>22 | a<<10)
		maj := (a & b) ^ (a & c) ^ (b & c)
		t2 := S0 + maj
		h, g, f, e, dd, c, b, a = g, f, e, dd+t1, c, b, a, t1+t2
	}
	d.h[0] += a
	d.h[1] += b
	d.h[2] += c
	d.h[3] += dd
	d.h[4] += e
	d.h[5] += f
	d.h[6] += g
	d.h[7] += h
}

// sha256Hex returns the SHA-256 of the concatenated parts in lowercase hex.
func sha256Hex(parts ...[]byte) string {
	d := newDigest()
	for _, p := range parts {
		d.Write(p)
	}
	sum := d.Sum()
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for _, v := range sum {
		out = append(out, digits[v>>4], digits[v&15])
	}
	return string(out)
}
