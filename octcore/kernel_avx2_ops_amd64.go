//go:build goexperiment.simd

package octcore

import (
	"math"
	"simd/archsimd"
)

// The helper routines around the products (pooling, the column products of
// a last panel, the epilogues) in AVX2 vectors (archsimd's Float32x8), for
// the amd64 SIMD build on processors with AVX2 and FMA; the portable Go code
// of kernel_generic.go is the fallback and the reference the tests compare
// with. The portable simd package's versions of these loops ran a call per
// row, and its vectors could not shuffle (the horizontal pairs of a pool,
// the doubled columns of an upsampling), which left those loops scalar.

// useAVX2 selects the routines of this file.
var useAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()

// helpersVectorized reports whether pool2Map, gemvBlocks, the epilogues
// and the stem's max pool run other code than the portable Go of
// kernel_generic.go (the tests that compare the two skip otherwise).
func helpersVectorized() bool { return useAVX2 }

func pool2Map(dst []float32, ldd int, src []float32, h, w int) {
	if useAVX2 && w >= 8 && w < 16 {
		pool2MapAVX2Narrow(dst, ldd, src, h, w)
		return
	}
	if !useAVX2 || w < 16 {
		pool2MapGo(dst, ldd, src, h, w)
		return
	}
	pool2MapAVX2(dst, ldd, src, h, w)
}

func packPanel(dst, src []float32, offs []int32, maxOff int) {
	if !useAVX2Tile { // nr is 24 with the AVX2 tile
		packPanelGo(dst, src, offs, maxOff)
		return
	}
	packPanel24(dst, src, offs, maxOff)
}

func gemvBlocks(nblk, K int, a, b, c []float32, ldb int) {
	if !useAVX2 {
		gemvBlocksGo(nblk, K, a, b, c, ldb)
		return
	}
	gemvBlocksAVX2(nblk, K, a, b, c, ldb)
}

func epilogueRows(d, s, r, bias []float32, ch, h, n, ldd, lds int, lo, hi float32) {
	if !useAVX2 {
		epilogueRowsGo(d, s, r, bias, ch, h, n, ldd, lds, lo, hi)
		return
	}
	epilogueRowsAVX2(d, s, r, bias, ch, h, n, ldd, lds, lo, hi)
}

func epilogueLow(d, s, low, r, bias, u []float32, ch, h, w, lds, lowW, lowN int, lo, hi float32) {
	if !useAVX2 {
		epilogueLowGo(d, s, low, r, bias, u, ch, h, w, lds, lowW, lowN, lo, hi)
		return
	}
	epilogueLowAVX2(d, s, low, r, bias, ch, h, w, lds, lowW, lowN, lo, hi)
}

// pool2MapAVX2 is pool2MapGo (w >= 16) with eight outputs per step: the two
// input rows added, then adjacent pairs added (VHADDPS, after VPERM2F128
// puts the two vectors' halves in output order) and scaled by 1/4, the same
// additions in the same order as pool2Row. A row's last step overlaps the
// one before it; an odd last column and an odd bottom row are scalar.
func pool2MapAVX2(dst []float32, ldd int, src []float32, h, w int) {
	oh, ow := half(h), half(w)
	pairs := w / 2 // outputs with two columns; >= 8
	for y := 0; y < oh; y++ {
		r0 := src[2*y*w : 2*y*w+w]
		d := dst[y*ldd : y*ldd+ow]
		if 2*y+1 >= h {
			pool2Row(d, r0, nil, nil)
			continue
		}
		r1 := src[(2*y+1)*w : (2*y+1)*w+w]
		q := archsimd.BroadcastFloat32x8(0.25)
		for x := 0; ; x += 8 {
			if x+8 > pairs {
				x = pairs - 8
			}
			a := archsimd.LoadFloat32x8(r0[2*x:]).Add(archsimd.LoadFloat32x8(r1[2*x:]))
			b := archsimd.LoadFloat32x8(r0[2*x+8:]).Add(archsimd.LoadFloat32x8(r1[2*x+8:]))
			lo := a.ConcatPermute128Scalars(0, 2, b)
			hi := a.ConcatPermute128Scalars(1, 3, b)
			lo.ConcatAddPairsGrouped(hi).Mul(q).Store(d[x:])
			if x+8 == pairs {
				break
			}
		}
		archsimd.ClearAVXUpperBits()
		if pairs < ow {
			d[pairs] = (r0[w-1] + r1[w-1]) * 0.5
		}
	}
}

// packPanel24 is packPanelGo for nr = 24: three vectors per row, the source
// checked once against the largest offset.
func packPanel24(dst, src []float32, offs []int32, maxOff int) {
	if len(offs) == 0 {
		return
	}
	src = src[:maxOff+24]
	dst = dst[:len(offs)*24]
	for k, off := range offs {
		s := src[off : int(off)+24]
		d := dst[k*24 : k*24+24]
		archsimd.LoadFloat32x8(s).Store(d)
		archsimd.LoadFloat32x8(s[8:]).Store(d[8:])
		archsimd.LoadFloat32x8(s[16:]).Store(d[16:])
	}
	archsimd.ClearAVXUpperBits()
}

// pool2MapAVX2Narrow is pool2MapAVX2 for rows of 8 to 15 values (the 14x14
// maps of stage 3): four outputs per step from eight columns (VHADDPS of
// the two halves), the second step overlapping the first.
func pool2MapAVX2Narrow(dst []float32, ldd int, src []float32, h, w int) {
	oh, ow := half(h), half(w)
	pairs := w / 2 // 4 to 7
	for y := 0; y < oh; y++ {
		r0 := src[2*y*w : 2*y*w+w]
		d := dst[y*ldd : y*ldd+ow]
		if 2*y+1 >= h {
			pool2Row(d, r0, nil, nil)
			continue
		}
		r1 := src[(2*y+1)*w : (2*y+1)*w+w]
		q := archsimd.BroadcastFloat32x4(0.25)
		for _, x := range [2]int{0, pairs - 4} {
			a := archsimd.LoadFloat32x8(r0[2*x:]).Add(archsimd.LoadFloat32x8(r1[2*x:]))
			a.GetLo().ConcatAddPairs(a.GetHi()).Mul(q).Store(d[x:])
		}
		archsimd.ClearAVXUpperBits()
		if pairs < ow {
			d[pairs] = (r0[w-1] + r1[w-1]) * 0.5
		}
	}
}

// gemvBlocksAVX2 is gemvBlocksGo with the four rows of a block in one
// Float32x4: four (or two) blocks at a time share each broadcast b value,
// and each block sums its even and odd k in two accumulators (added at the
// end). b
// values are broadcast by a vector load and a shuffle (VSHUFPS), not from a
// scalar register (see useAVX2), so b needs three values past each one read.
func gemvBlocksAVX2(nblk, K int, a, b, c []float32, ldb int) {
	if K <= 0 {
		clear(c[:nblk*MR])
		return
	}
	if len(b) < (K-1)*ldb+4 {
		gemvBlocksGo(nblk, K, a, b, c, ldb)
		return
	}
	bk := func(k int) archsimd.Float32x4 {
		v := archsimd.LoadFloat32x4(b[k*ldb:])
		return v.ConcatPermuteScalars(0, 0, 0, 0, v)
	}
	i := 0
	// Four blocks at a time: eight accumulators, enough to keep both FMA
	// pipes busy through the four-cycle latency of each sum.
	for ; i+4 <= nblk; i += 4 {
		a0 := a[i*MR*K : (i+1)*MR*K]
		a1 := a[(i+1)*MR*K : (i+2)*MR*K]
		a2 := a[(i+2)*MR*K : (i+3)*MR*K]
		a3 := a[(i+3)*MR*K : (i+4)*MR*K]
		var s0, t0, s1, t1, s2, t2, s3, t3 archsimd.Float32x4
		k := 0
		for ; k+2 <= K; k += 2 {
			b0, b1 := bk(k), bk(k+1)
			s0 = archsimd.LoadFloat32x4(a0[k*MR:]).MulAdd(b0, s0)
			s1 = archsimd.LoadFloat32x4(a1[k*MR:]).MulAdd(b0, s1)
			s2 = archsimd.LoadFloat32x4(a2[k*MR:]).MulAdd(b0, s2)
			s3 = archsimd.LoadFloat32x4(a3[k*MR:]).MulAdd(b0, s3)
			t0 = archsimd.LoadFloat32x4(a0[(k+1)*MR:]).MulAdd(b1, t0)
			t1 = archsimd.LoadFloat32x4(a1[(k+1)*MR:]).MulAdd(b1, t1)
			t2 = archsimd.LoadFloat32x4(a2[(k+1)*MR:]).MulAdd(b1, t2)
			t3 = archsimd.LoadFloat32x4(a3[(k+1)*MR:]).MulAdd(b1, t3)
		}
		if k < K {
			b0 := bk(k)
			s0 = archsimd.LoadFloat32x4(a0[k*MR:]).MulAdd(b0, s0)
			s1 = archsimd.LoadFloat32x4(a1[k*MR:]).MulAdd(b0, s1)
			s2 = archsimd.LoadFloat32x4(a2[k*MR:]).MulAdd(b0, s2)
			s3 = archsimd.LoadFloat32x4(a3[k*MR:]).MulAdd(b0, s3)
		}
		s0.Add(t0).Store(c[i*MR:])
		s1.Add(t1).Store(c[(i+1)*MR:])
		s2.Add(t2).Store(c[(i+2)*MR:])
		s3.Add(t3).Store(c[(i+3)*MR:])
	}
	for ; i+2 <= nblk; i += 2 {
		a0 := a[i*MR*K : (i+1)*MR*K]
		a1 := a[(i+1)*MR*K : (i+2)*MR*K]
		var s0, t0, s1, t1 archsimd.Float32x4
		k := 0
		for ; k+2 <= K; k += 2 {
			b0, b1 := bk(k), bk(k+1)
			s0 = archsimd.LoadFloat32x4(a0[k*MR:]).MulAdd(b0, s0)
			s1 = archsimd.LoadFloat32x4(a1[k*MR:]).MulAdd(b0, s1)
			t0 = archsimd.LoadFloat32x4(a0[(k+1)*MR:]).MulAdd(b1, t0)
			t1 = archsimd.LoadFloat32x4(a1[(k+1)*MR:]).MulAdd(b1, t1)
		}
		if k < K {
			b0 := bk(k)
			s0 = archsimd.LoadFloat32x4(a0[k*MR:]).MulAdd(b0, s0)
			s1 = archsimd.LoadFloat32x4(a1[k*MR:]).MulAdd(b0, s1)
		}
		s0.Add(t0).Store(c[i*MR:])
		s1.Add(t1).Store(c[(i+1)*MR:])
	}
	if i < nblk {
		a0 := a[i*MR*K : (i+1)*MR*K]
		var s0, t0 archsimd.Float32x4
		k := 0
		for ; k+2 <= K; k += 2 {
			s0 = archsimd.LoadFloat32x4(a0[k*MR:]).MulAdd(bk(k), s0)
			t0 = archsimd.LoadFloat32x4(a0[(k+1)*MR:]).MulAdd(bk(k+1), t0)
		}
		if k < K {
			s0 = archsimd.LoadFloat32x4(a0[k*MR:]).MulAdd(bk(k), s0)
		}
		s0.Add(t0).Store(c[i*MR:])
	}
	archsimd.ClearAVXUpperBits()
}

// epilogueRowsAVX2 is epilogueRowsGo in vectors of eight, then four, then
// single values (d may be s, so no step overlaps another). The upper halves
// are cleared before the scalar code: each channel's bias and each row's
// tail.
func epilogueRowsAVX2(d, s, r, bias []float32, ch, h, n, ldd, lds int, lo, hi float32) {
	for c := 0; c < ch; c++ {
		var b float32
		if bias != nil {
			b = bias[c]
		}
		lv, hv := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
		bv := archsimd.BroadcastFloat32x8(b)
		for y := 0; y < h; y++ {
			i := c*h + y
			di, si := d[i*ldd:i*ldd+n], s[i*lds:i*lds+n]
			var ri []float32
			if r != nil {
				ri = r[i*ldd : i*ldd+n]
			}
			x := 0
			if ri == nil {
				for ; x+8 <= n; x += 8 {
					archsimd.LoadFloat32x8(si[x:]).Add(bv).Max(lv).Min(hv).Store(di[x:])
				}
			} else {
				for ; x+8 <= n; x += 8 {
					archsimd.LoadFloat32x8(si[x:]).Add(bv).Add(archsimd.LoadFloat32x8(ri[x:])).Max(lv).Min(hv).Store(di[x:])
				}
			}
			if x == n {
				continue
			}
			archsimd.ClearAVXUpperBits()
			if x+4 <= n {
				l4, h4 := archsimd.BroadcastFloat32x4(lo), archsimd.BroadcastFloat32x4(hi)
				v := archsimd.LoadFloat32x4(si[x:]).Add(archsimd.BroadcastFloat32x4(b))
				if ri != nil {
					v = v.Add(archsimd.LoadFloat32x4(ri[x:]))
				}
				v.Max(l4).Min(h4).Store(di[x:])
				x += 4
			}
			for ; x < n; x++ {
				v := si[x] + b
				if ri != nil {
					v += ri[x]
				}
				di[x] = min(max(v, lo), hi)
			}
		}
		archsimd.ClearAVXUpperBits()
	}
}

// The column indices that double four low values into eight outputs.
var (
	upIdx0 = [8]uint32{0, 0, 1, 1, 2, 2, 3, 3}
	upIdx1 = [8]uint32{4, 4, 5, 5, 6, 6, 7, 7}
)

// epilogueLowAVX2 is epilogueLowGo without the widened scratch map: each
// output row reads its low row and doubles its columns in registers
// (VPERMPS), sixteen outputs from eight low values per step, then eight
// from four, then single values. The additions are those of epilogueLowGo
// in the same order.
func epilogueLowAVX2(d, s, low, r, bias []float32, ch, h, w, lds, lowW, lowN int, lo, hi float32) {
	for c := 0; c < ch; c++ {
		var b float32
		if bias != nil {
			b = bias[c]
		}
		lc := low[c*lowN : c*lowN+lowN]
		lv, hv := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
		bv := archsimd.BroadcastFloat32x8(b)
		i0, i1 := archsimd.LoadUint32x8Array(&upIdx0), archsimd.LoadUint32x8Array(&upIdx1)
		for y := 0; y < h; y++ {
			lr := lc[(y/2)*lowW : (y/2)*lowW+(w+1)/2]
			dr := d[(c*h+y)*w : (c*h+y)*w+w]
			sr := s[(c*h+y)*lds : (c*h+y)*lds+w]
			var rr []float32
			if r != nil {
				rr = r[(c*h+y)*w : (c*h+y)*w+w]
			}
			x := 0
			for ; x+16 <= w; x += 16 {
				l8 := archsimd.LoadFloat32x8(lr[x/2:])
				v0 := archsimd.LoadFloat32x8(sr[x:]).Add(bv).Add(l8.Permute(i0))
				v1 := archsimd.LoadFloat32x8(sr[x+8:]).Add(bv).Add(l8.Permute(i1))
				if rr != nil {
					v0 = v0.Add(archsimd.LoadFloat32x8(rr[x:]))
					v1 = v1.Add(archsimd.LoadFloat32x8(rr[x+8:]))
				}
				v0.Max(lv).Min(hv).Store(dr[x:])
				v1.Max(lv).Min(hv).Store(dr[x+8:])
			}
			if x+8 <= w {
				// Any vector serves as the base (VINSERTF128 replaces the
				// half that Permute reads): zeroing one would be a legacy
				// SSE instruction.
				u0 := bv.SetLo(archsimd.LoadFloat32x4(lr[x/2:])).Permute(i0)
				v0 := archsimd.LoadFloat32x8(sr[x:]).Add(bv).Add(u0)
				if rr != nil {
					v0 = v0.Add(archsimd.LoadFloat32x8(rr[x:]))
				}
				v0.Max(lv).Min(hv).Store(dr[x:])
				x += 8
			}
			if x == w {
				continue
			}
			archsimd.ClearAVXUpperBits()
			for ; x < w; x++ {
				v := sr[x] + b + lr[x/2]
				if rr != nil {
					v += rr[x]
				}
				dr[x] = min(max(v, lo), hi)
			}
		}
		archsimd.ClearAVXUpperBits()
	}
}

// maxPoolFast runs poolGeneric's max pool for the ResNet stem's geometry (3x3
// windows, stride 2, padding 1) on maps at least 18 wide, and reports whether
// it did. Each output row takes the column-wise max of its two or three input
// rows into a row framed by -Inf, then the max of three neighbours at every
// position of sixteen (shifted loads), keeping the even ones (VSHUFPS, then
// VPERMPS to put them in order). Max is exact, so the result is poolGeneric's.
func maxPoolFast(dst, src []float32, c, h, w, k, s, p, oh, ow int) bool {
	if !useAVX2 || k != 3 || s != 2 || p != 1 || w < 18 || h < 2 || oh != (h-1)/2+1 || ow != (w-1)/2+1 {
		return false
	}
	var stack [1024]float32
	buf := stack[:]
	if w+2+16 > len(buf) {
		buf = make([]float32, w+2+16)
	}
	ninf := float32(math.Inf(-1))
	for i := range buf {
		buf[i] = ninf
	}
	row := buf[:w+2] // row[1+x] is column x; row[0] and row[w+1] stay -Inf
	cols := row[1 : w+1]
	for ch := 0; ch < c; ch++ {
		in := src[ch*h*w : (ch+1)*h*w]
		out := dst[ch*oh*ow : (ch+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1 := max(2*oy-1, 0), min(2*oy+2, h)
			r0 := in[y0*w : y0*w+w]
			r1 := in[(y0+1)*w : (y0+1)*w+w]
			if y1-y0 == 3 {
				r2 := in[(y0+2)*w : (y0+2)*w+w]
				x := 0
				for ; x+8 <= w; x += 8 {
					archsimd.LoadFloat32x8(r0[x:]).Max(archsimd.LoadFloat32x8(r1[x:])).Max(archsimd.LoadFloat32x8(r2[x:])).Store(cols[x:])
				}
				archsimd.ClearAVXUpperBits()
				for ; x < w; x++ {
					cols[x] = max(r0[x], r1[x], r2[x])
				}
			} else {
				x := 0
				for ; x+8 <= w; x += 8 {
					archsimd.LoadFloat32x8(r0[x:]).Max(archsimd.LoadFloat32x8(r1[x:])).Store(cols[x:])
				}
				archsimd.ClearAVXUpperBits()
				for ; x < w; x++ {
					cols[x] = max(r0[x], r1[x])
				}
			}
			// Output x is the max of row[2x], row[2x+1], row[2x+2]; a step
			// of eight outputs reads row[2x : 2x+18], within row when
			// 2x+18 <= w+2, so the last step overlaps.
			o := out[oy*ow : (oy+1)*ow]
			last := (w + 2 - 18) / 2
			order := archsimd.LoadUint32x8Array(&[8]uint32{0, 1, 4, 5, 2, 3, 6, 7})
			for x := 0; ; x += 8 {
				if x > last {
					x = last
				}
				j := 2 * x
				m0 := archsimd.LoadFloat32x8(row[j:]).Max(archsimd.LoadFloat32x8(row[j+1:])).Max(archsimd.LoadFloat32x8(row[j+2:]))
				m1 := archsimd.LoadFloat32x8(row[j+8:]).Max(archsimd.LoadFloat32x8(row[j+9:])).Max(archsimd.LoadFloat32x8(row[j+10:]))
				m0.ConcatPermuteScalarsGrouped(0, 2, 4, 6, m1).Permute(order).Store(o[x:])
				if x == last {
					break
				}
			}
			archsimd.ClearAVXUpperBits()
			for x := last + 8; x < ow; x++ {
				o[x] = max(row[2*x], row[2*x+1], row[2*x+2])
			}
		}
	}
	return true
}
