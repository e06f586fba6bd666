// Command genasm writes octcore/kernel_wasm.s, the WebAssembly SIMD micro
// kernels, from the description below. Run it with go generate in octcore;
// TestGeneratedKernelUpToDate checks the file.
//
// The tile is 4 rows (output channels) by 2 vectors (8 output pixels). Its
// shape is set by how V8 compiles the loop for x86-64, where WebAssembly
// SIMD runs on 16 xmm registers, one of them V8's scratch: TurboFan moves
// every load of a loop body to the top of the block, so all of them are live
// at once with the accumulators. Four weights, two pixel vectors and eight
// accumulators (plus one product) fit in the 15 registers left; the 4x3 tile
// of the native build does not, and V8 spills five of its twelve
// accumulators to the stack on every step.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"strings"
)

const (
	mr = 4 // rows of the tile
	nv = 2 // vectors of four pixels per row
)

// acc is the local holding row i, vector j of the tile; b(j) holds pixel
// vector j of the current k; splat holds the current weight.
func acc(i, j int) string { return fmt.Sprintf("V%d", i*nv+j) }
func b(j int) string      { return fmt.Sprintf("V%d", mr*nv+j) }

var splat = fmt.Sprintf("V%d", mr*nv+nv)

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(g, "\t"+format+"\n", args...) }

// header writes a function's Go declaration, as a comment, and its TEXT line;
// args is the size of its arguments in bytes.
func (g *gen) header(name, params string, args int) {
	fmt.Fprintf(g, "// func %s(%s)\nTEXT ·%s(SB), NOSPLIT, $0-%d\n", name, params, name, args)
}

// loadArgs loads 8-byte arguments, from offset 0 on, into locals: each spec
// is "name reg", or "name reg bytes" for a count of floats that the local
// holds in bytes.
func (g *gen) loadArgs(specs ...string) {
	for i, spec := range specs {
		f := strings.Fields(spec)
		if len(f) == 3 {
			g.f("I64Load %s+%d(FP); I64Const $2; I64Shl; Set %s", f[0], 8*i, f[1])
			continue
		}
		g.f("I64Load %s+%d(FP); Set %s", f[0], 8*i, f[1])
	}
}

// loadBounds loads the float32 arguments lo and hi at offset off into F2 and
// F3, and splatted into V1 and V2: an epilogue's clamp.
func (g *gen) loadBounds(off int) {
	for i, f := range []string{"lo", "hi"} {
		g.f("F32Load %s+%d(FP); Set F%d", f, off+4*i, i+2)
		g.f("Get F%d; F32x4Splat; Set V%d", i+2, i+1)
	}
}

// add adds n to the local reg.
func (g *gen) add(reg string, n int) {
	if n < 0 {
		g.f("Get %s; I64Const $%d; I64Sub; Set %s", reg, -n, reg)
		return
	}
	g.f("Get %s; I64Const $%d; I64Add; Set %s", reg, n, reg)
}

// loopWhile opens a Block-Loop pair whose body runs while the local reg
// holds at least n (unsigned); loopEnd closes it.
func (g *gen) loopWhile(reg string, n int) {
	g.f("Block")
	g.f("Loop")
	if n == 1 {
		g.f("Get %s; I64Eqz; BrIf $1", reg)
		return
	}
	g.f("Get %s; I64Const $%d; I64LtU; BrIf $1", reg, n)
}

// loopEnd closes a Block-Loop pair whose body ends by branching back.
func (g *gen) loopEnd() {
	g.f("Br $0")
	g.f("End")
	g.f("End")
}

// loadSplat pushes the weight at R1+off splatted to four lanes. The Go
// assembler writes v128.load32_splat without its memory operand, so the
// operand's two bytes follow as instructions whose encodings are those bytes:
// Nop (0x01, alignment 2^1) and Unreachable (0x00, offset 0). The offset goes
// into the address instead.
func (g *gen) loadSplat(off int) {
	addr := "Get R1; I32WrapI64"
	if off != 0 {
		addr += fmt.Sprintf("; I32Const $%d; I32Add", off)
	}
	g.f("%s; V128Load32Splat; Nop; Unreachable; Set %s", addr, splat)
}

// step multiplies the four weights at R1 by the pixel vectors at the address
// in reg and adds the products to the tile.
func (g *gen) step(reg string) {
	for j := 0; j < nv; j++ {
		g.f("Get %s; I32WrapI64; V128Load $%d; Set %s", reg, 16*j, b(j))
	}
	for i := 0; i < mr; i++ {
		g.loadSplat(4 * i)
		for j := 0; j < nv; j++ {
			g.f("Get %s; Get %s; F32x4Mul; Get %s; F32x4Add; Set %s", splat, b(j), acc(i, j), acc(i, j))
		}
	}
}

// kernel writes the kernel function: row k of the right-hand side is at
// b + k*ldb floats.
func (g *gen) kernel(name string) {
	g.header(name, "nblk, K int, a, b, c *float32, ldc, ldb int", 56)
	g.loadArgs("nblk R8", "K R10", "a R1", "b R9", "c R3", "ldc R4 bytes", "ldb R5 bytes")
	g.WriteString("\n\t// One row block per trip: the weights of block i+1 follow those of\n\t// block i, its outputs four rows further down.\n")
	g.loopWhile("R8", 1)
	g.f("Get R10; Set R0")
	g.f("Get R9; Set R2")
	g.f("I32Const $0; I32x4Splat; Set %s", acc(0, 0))
	for n := 1; n < mr*nv; n++ {
		g.f("Get %s; Set V%d", acc(0, 0), n)
	}
	g.WriteString("\n\t// One step of k per trip: a longer body only gives V8 more loads to\n\t// hoist.\n")
	g.loopWhile("R0", 1)
	g.step("R2")
	g.f("Get R2; Get R5; I64Add; Set R2")
	g.add("R1", 16)
	g.add("R0", -1)
	g.loopEnd()
	g.WriteString("\n\t// Store the tile. The assembler drops a store's offset immediate:\n\t// the addresses are computed in full.\n")
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			if j == 0 {
				g.f("Get R3; I32WrapI64; Get %s; V128Store $0", acc(i, j))
			} else {
				g.f("Get R3; I64Const $%d; I64Add; I32WrapI64; Get %s; V128Store $0", 16*j, acc(i, j))
			}
		}
		g.f("Get R3; Get R4; I64Add; Set R3")
	}
	g.add("R8", -1)
	g.loopEnd()
	g.f("RET")
}

// gather writes gatherWasm(dst, src, offs, idx, K): row k of a compact
// panel, dst[k*8+j] = src[offs[k]+idx[j]] for the 8 pixels j. The pixel
// offsets (in bytes) stay in locals; each half row is built with a splat and
// three lane replacements and stored as one vector.
func (g *gen) gather() {
	g.header("gatherWasm", "dst, src *float32, offs, idx *int32, K int", 40)
	g.loadArgs("dst R0", "src R1", "offs R2", "idx R12", "K R3")
	for j := 0; j < 2*4; j++ {
		g.f("Get R12; I32WrapI64; I64Load32U $%d; I64Const $2; I64Shl; Set R%d", 4*j, 4+j)
	}
	g.loopWhile("R3", 1)
	g.f("Get R2; I32WrapI64; I64Load32U $0; I64Const $2; I64Shl; Get R1; I64Add; Set R12")
	for h := 0; h < 2; h++ {
		if h == 0 {
			g.f("Get R0; I32WrapI64")
		} else {
			g.f("Get R0; I64Const $16; I64Add; I32WrapI64")
		}
		for l := 0; l < 4; l++ {
			g.f("Get R12; Get R%d; I64Add; I32WrapI64; F32Load $0", 4+4*h+l)
			if l == 0 {
				g.f("F32x4Splat")
			} else {
				g.f("F32x4ReplaceLane $0, $%d", l)
			}
		}
		g.f("V128Store $0")
	}
	g.add("R0", 32)
	g.add("R2", 4)
	g.add("R3", -1)
	g.loopEnd()
	g.f("RET")
}

// pool2Map writes pool2MapWasm(dst, ldd, src, h, w): the 2x2 average pool
// (ceil mode, padding excluded) of one h x w channel into ceil(h/2) rows of
// ceil(w/2) at dst + y*ldd. Each output is ((a+c) + (b+d)) / 4 for the pixels
// a b over c d; a missing bottom row repeats the top one and a missing right
// column the left one, which gives the mean of the pixels that exist exactly
// (doubling is exact). After the vertical sums, each pair sums with its
// second value shifted down a lane (as 64-bit integers), and lanes 0 and 2 of
// two vectors are four outputs.
func (g *gen) pool2Map() {
	g.header("pool2MapWasm", "dst *float32, ldd int, src *float32, h, w int", 40)
	g.loadArgs("dst R0", "ldd R1 bytes", "src R2", "h R4", "w R5")
	g.f("Get R5; I64Const $2; I64Shl; Set R6 // input row in bytes")
	g.f("F32Const $0.25; F32x4Splat; Set V2")
	g.loopWhile("R4", 1)
	g.WriteString("\t// R9 and R10 walk the input rows, R8 the output row; R11 counts the\n\t// inputs left in the row.\n")
	g.f("Get R2; Get R6; I64Add; Set R3")
	g.f("Get R4; I64Const $1; I64Eq; If; Get R2; Set R3; End")
	g.f("Get R0; Set R8; Get R2; Set R9; Get R3; Set R10; Get R5; Set R11")
	g.loopWhile("R11", 8)
	for v := 0; v < 2; v++ {
		g.f("Get R9; I32WrapI64; V128Load $%d; Get R10; I32WrapI64; V128Load $%d; F32x4Add; Set V%d", 16*v, 16*v, v)
		g.f("Get V%d; Get V%d; I32Const $32; I64x2ShrU; F32x4Add; Get V2; F32x4Mul; Set V%d", v, v, v)
	}
	for o := 0; o < 4; o++ {
		if o == 0 {
			g.f("Get R8; I32WrapI64")
		} else {
			g.f("Get R8; I64Const $%d; I64Add; I32WrapI64", 4*o)
		}
		g.f("Get V%d; F32x4ExtractLane $0, $%d; F32Store $0", o/2, 2*(o%2))
	}
	g.add("R8", 16)
	g.add("R9", 32)
	g.add("R10", 32)
	g.add("R11", -8)
	g.loopEnd()
	g.WriteString("\t// The rest of the row, one output at a time.\n")
	g.loopWhile("R11", 1)
	g.f("Get R9; I32WrapI64; F32Load $0; Get R10; I32WrapI64; F32Load $0; F32Add; Set F0")
	g.f("Get R11; I64Const $1; I64Eq; If; Get F0; Set F1; Else")
	g.f("Get R9; I32WrapI64; F32Load $4; Get R10; I32WrapI64; F32Load $4; F32Add; Set F1; End")
	g.f("Get R8; I32WrapI64; Get F0; Get F1; F32Add; F32Const $0.25; F32Mul; F32Store $0")
	g.f("Get R11; I64Const $1; I64Eq; BrIf $1")
	g.add("R8", 4)
	g.add("R9", 8)
	g.add("R10", 8)
	g.add("R11", -2)
	g.loopEnd()
	g.f("Get R0; Get R1; I64Add; Set R0")
	g.f("Get R2; Get R6; I64Add; Get R6; I64Add; Set R2")
	g.f("Get R4; I64Const $2; I64LtU; If; I64Const $0; Set R4; Else; Get R4; I64Const $2; I64Sub; Set R4; End")
	g.loopEnd()
	g.f("RET")
}

// pack writes packWasm(dst, src, offs, K): a panel of K rows of 8 pixels,
// row k copied from src + offs[k] floats.
func (g *gen) pack() {
	g.header("packWasm", "dst, src *float32, offs *int32, K int", 32)
	g.loadArgs("dst R0", "src R1", "offs R2", "K R3")
	g.loopWhile("R3", 1)
	g.f("Get R2; I32WrapI64; I64Load32U $0; I64Const $2; I64Shl; Get R1; I64Add; Set R4")
	g.f("Get R0; I32WrapI64; Get R4; I32WrapI64; V128Load $0; V128Store $0")
	g.f("Get R0; I64Const $16; I64Add; I32WrapI64; Get R4; I32WrapI64; V128Load $16; V128Store $0")
	g.add("R0", 32)
	g.add("R2", 4)
	g.add("R3", -1)
	g.loopEnd()
	g.f("RET")
}

// copyRows writes copyRowsWasm(dst, ldd, src, lds, rows, n, sx): rows rows of
// n values, dst[y*ldd+x] = src[y*lds+x*sx]; a vector at a time when sx is 1.
func (g *gen) copyRows() {
	g.header("copyRowsWasm", "dst *float32, ldd int, src *float32, lds, rows, n, sx int", 56)
	g.loadArgs("dst R0", "ldd R1 bytes", "src R2", "lds R3 bytes", "rows R4", "n R5", "sx R6 bytes")
	g.loopWhile("R4", 1)
	g.f("Get R0; Set R8; Get R2; Set R9; Get R5; Set R10")
	g.f("Get R6; I64Const $4; I64Eq; If")
	g.loopWhile("R10", 4)
	g.f("Get R8; I32WrapI64; Get R9; I32WrapI64; V128Load $0; V128Store $0")
	g.add("R8", 16)
	g.add("R9", 16)
	g.add("R10", -4)
	g.loopEnd()
	g.f("End")
	g.loopWhile("R10", 1)
	g.f("Get R8; I32WrapI64; Get R9; I32WrapI64; F32Load $0; F32Store $0")
	g.add("R8", 4)
	g.f("Get R9; Get R6; I64Add; Set R9")
	g.add("R10", -1)
	g.loopEnd()
	g.f("Get R0; Get R1; I64Add; Set R0")
	g.f("Get R2; Get R3; I64Add; Set R2")
	g.add("R4", -1)
	g.loopEnd()
	g.f("RET")
}

// maxRows writes maxRowsWasm(d, a, b, n): d = max(a, b) for n values (a
// multiple of 4).
func (g *gen) maxRows() {
	g.header("maxRowsWasm", "d, a, b *float32, n int", 32)
	g.loadArgs("d R0", "a R1", "b R2", "n R3")
	g.loopWhile("R3", 1)
	g.f("Get R0; I32WrapI64; Get R1; I32WrapI64; V128Load $0; Get R2; I32WrapI64; V128Load $0; F32x4Max; V128Store $0")
	for i := 0; i < 3; i++ {
		g.f("Get R%d; I64Const $16; I64Add; Set R%d", i, i)
	}
	g.add("R3", -4)
	g.loopEnd()
	g.f("RET")
}

// gemv writes gemvWasm(nblk, K, a, b, c, ldb): one column of nblk row
// blocks' tiles, c[4i+r] = sum_k a[i*4K+4k+r] * b[k*ldb], summed in k order.
// It serves the last panel of a product when it holds one or two pixels
// (49 pixels leave one): four blocks per pass share each splatted pixel value,
// which keeps four independent sums in flight.
func (g *gen) gemv() {
	g.header("gemvWasm", "nblk, K int, a, b, c *float32, ldb int", 48)
	g.loadArgs("nblk R8", "K R10", "a R9", "b R11", "c R3", "ldb R5 bytes")
	g.f("Get R10; I64Const $4; I64Shl; Set R12 // a block's weights in bytes")
	ptrs := []string{"R1", "R2", "R4", "R6"}
	for _, group := range []int{4, 1} {
		fmt.Fprintf(g, "\n\t// Groups of %d blocks.\n", group)
		g.loopWhile("R8", group)
		g.f("Get R9; Set R1")
		for j := 1; j < group; j++ {
			g.f("Get %s; Get R12; I64Add; Set %s", ptrs[j-1], ptrs[j])
		}
		g.f("Get R11; Set R7; Get R10; Set R0")
		g.f("I32Const $0; I32x4Splat; Set V0")
		for j := 1; j < group; j++ {
			g.f("Get V0; Set V%d", j)
		}
		g.loopWhile("R0", 1)
		g.f("Get R7; I32WrapI64; V128Load32Splat; Nop; Unreachable; Set V4")
		for j := 0; j < group; j++ {
			g.f("Get V4; Get %s; I32WrapI64; V128Load $0; F32x4Mul; Get V%d; F32x4Add; Set V%d", ptrs[j], j, j)
			g.f("Get %s; I64Const $16; I64Add; Set %s", ptrs[j], ptrs[j])
		}
		g.f("Get R7; Get R5; I64Add; Set R7")
		g.add("R0", -1)
		g.loopEnd()
		for j := 0; j < group; j++ {
			if j == 0 {
				g.f("Get R3; I32WrapI64; Get V0; V128Store $0")
			} else {
				g.f("Get R3; I64Const $%d; I64Add; I32WrapI64; Get V%d; V128Store $0", 16*j, j)
			}
		}
		g.f("Get R3; I64Const $%d; I64Add; Set R3", 16*group)
		for j := 0; j < group; j++ {
			g.f("Get R9; Get R12; I64Add; Set R9")
		}
		g.f("Get R8; I64Const $%d; I64Sub; Set R8", group)
		g.loopEnd()
	}
	g.f("RET")
}

// epilogueRows writes epilogueRows<adds>Wasm: the epilogue of ch channels
// of h rows of n values, d[i*ldd+x] = clamp(s[i*lds+x] + bias[i/h] (+
// r[i*ldd+x]), lo, hi) for rows i = c*h+y, summed in that order: a layer's
// whole output in one call, compacted on the way when its product ran over a
// wide layout (lds > n). The last n%4 values of a row go one at a time.
func (g *gen) epilogueRows(adds int) {
	ptrs := []string{"d", "s", "bias"}
	if adds == 1 {
		ptrs = []string{"d", "s", "r", "bias"}
	}
	data := len(ptrs) - 1 // d, s (and r): R0.. walk the rows
	off := 8 * len(ptrs)
	fmt.Fprintf(g, "// func epilogueRows%dWasm(%s *float32, ch, h, n, ldd, lds int, lo, hi float32)\n", adds, strings.Join(ptrs, ", "))
	fmt.Fprintf(g, "TEXT ·epilogueRows%dWasm(SB), NOSPLIT, $0-%d\n", adds, off+40+8)
	var specs []string
	for i, p := range ptrs {
		specs = append(specs, fmt.Sprintf("%s R%d", p, i))
	}
	g.loadArgs(append(specs, "ch R8", "h R13", "n R6", "ldd R7 bytes", "lds R9 bytes")...)
	bias := fmt.Sprintf("R%d", data)
	g.loadBounds(off + 40)
	cur := []string{"R10", "R11", "R12"}
	strides := []string{"R7", "R9", "R7"}
	g.loopWhile("R8", 1)
	g.f("Get %s; I32WrapI64; F32Load $0; Set F1; Get F1; F32x4Splat; Set V0", bias)
	g.f("Get R13; Set R5 // rows left in the channel")
	g.loopWhile("R5", 1)
	for i := 0; i < data; i++ {
		g.f("Get R%d; Set %s", i, cur[i])
	}
	g.f("Get R6; Set R4")
	// Whole vectors, then the values left one at a time: the same step on
	// four lanes or one.
	for _, lanes := range []int{4, 1} {
		load, add, mx, mn, store := "V128Load", "F32x4Add", "F32x4Max", "F32x4Min", "V128Store"
		b, lo, hi := "V0", "V1", "V2"
		if lanes == 1 {
			load, add, mx, mn, store = "F32Load", "F32Add", "F32Max", "F32Min", "F32Store"
			b, lo, hi = "F1", "F2", "F3"
		}
		g.loopWhile("R4", lanes)
		g.f("Get R10; I32WrapI64")
		g.f("Get R11; I32WrapI64; %s $0; Get %s; %s", load, b, add)
		if adds == 1 {
			g.f("Get R12; I32WrapI64; %s $0; %s", load, add)
		}
		g.f("Get %s; %s; Get %s; %s; %s $0", lo, mx, hi, mn, store)
		for i := 0; i < data; i++ {
			g.add(cur[i], 4*lanes)
		}
		g.add("R4", -lanes)
		g.loopEnd()
	}
	for i := 0; i < data; i++ {
		g.f("Get R%d; Get %s; I64Add; Set R%d", i, strides[i], i)
	}
	g.add("R5", -1)
	g.loopEnd()
	g.add(bias, 4)
	g.add("R8", -1)
	g.loopEnd()
	g.f("RET")
}

// epilogueLow writes epilogueLow<adds>Wasm: the epilogue of ch channels of
// an octave convolution's high output, with the L->H path's low map
// upsampled by two on the way. Channel c, h x w, reads its values from s
// (rows of lds, channels of h*lds), its low map from low (rows of lowW,
// channels of lowN) and writes d[c*h*w+y*w+x] = clamp(s + bias[c] +
// low[c*lowN+(y/2)*lowW+x/2] (+ r[c*h*w+y*w+x]), lo, hi), summed in that
// order. Each low row serves two output rows, each vector of four low
// values eight outputs: a b c d become a a b b, c c d d (without
// i8x16.shuffle, whose lane immediates the assembler does not encode, a pair
// of lanes is zero-extended to 64 bits and ORed with itself shifted up). The
// last w%8 columns go one low value, two outputs, at a time. All sixteen
// integer locals are in use: h and lowN are read from the arguments again.
func (g *gen) epilogueLow(adds int) {
	ptrs := []string{"d", "s", "low"}
	if adds == 1 {
		ptrs = append(ptrs, "r")
	}
	ptrs = append(ptrs, "bias")
	off := 8 * len(ptrs)
	fmt.Fprintf(g, "// func epilogueLow%dWasm(%s *float32, ch, h, w, lds, lowW, lowN int, lo, hi float32)\n", adds, strings.Join(ptrs, ", "))
	fmt.Fprintf(g, "TEXT ·epilogueLow%dWasm(SB), NOSPLIT, $0-%d\n", adds, off+48+8)
	var specs []string
	for i, p := range ptrs[:len(ptrs)-1] {
		specs = append(specs, fmt.Sprintf("%s R%d", p, i))
	}
	// R9 counts the channels left; h (and lowN) are read again when needed.
	g.loadArgs(append(specs, "bias R15", "ch R9", "h R5", "w R6", "lds R7 bytes", "lowW R8 bytes")...)
	h := fmt.Sprintf("I64Load h+%d(FP)", off+8)
	g.loadBounds(off + 48)
	g.f("Get R2; Set R13 // the channel's low map")
	// The current d, s, low and r.
	cur := []string{"R10", "R11", "R12", "R14"}
	g.loopWhile("R9", 1)
	g.f("Get R15; I32WrapI64; F32Load $0; Set F1; Get F1; F32x4Splat; Set V0")
	g.f("%s; Set R5 // rows left", h)
	g.f("Get R13; Set R2")
	g.loopWhile("R5", 1)
	for i := range ptrs[:len(ptrs)-1] {
		g.f("Get R%d; Set %s", i, cur[i])
	}
	g.f("Get R6; Set R4")
	// The store's offset goes into the address: the assembler does not
	// encode V128Store's.
	vec := func(o int, u string) {
		if o == 0 {
			g.f("Get R10; I32WrapI64")
		} else {
			g.f("Get R10; I32WrapI64; I32Const $%d; I32Add", o)
		}
		g.f("Get R11; I32WrapI64; V128Load $%d; Get V0; F32x4Add; Get %s; F32x4Add", o, u)
		if adds == 1 {
			g.f("Get R14; I32WrapI64; V128Load $%d; F32x4Add", o)
		}
		g.f("Get V1; F32x4Max; Get V2; F32x4Min; V128Store $0")
	}
	g.loopWhile("R4", 8)
	g.f("Get R12; I32WrapI64; V128Load $0; Set V3")
	g.f("Get V3; I64x2ExtendLowI32x4U; Set V4; Get V4; Get V4; I32Const $32; I64x2Shl; V128Or; Set V4")
	g.f("Get V3; I64x2ExtendHighI32x4U; Set V5; Get V5; Get V5; I32Const $32; I64x2Shl; V128Or; Set V5")
	vec(0, "V4")
	vec(16, "V5")
	// advance moves the pointers past n outputs (n/2 low values).
	advance := func(n int) {
		for i := range ptrs[:len(ptrs)-1] {
			if i == 2 {
				g.add(cur[i], 2*n)
			} else {
				g.add(cur[i], 4*n)
			}
		}
		g.add("R4", -n)
	}
	advance(8)
	g.loopEnd()
	scalar := func(o int) {
		g.f("Get R10; I32WrapI64")
		g.f("Get R11; I32WrapI64; F32Load $%d; Get F1; F32Add; Get F0; F32Add", o)
		if adds == 1 {
			g.f("Get R14; I32WrapI64; F32Load $%d; F32Add", o)
		}
		g.f("Get F2; F32Max; Get F3; F32Min; F32Store $%d", o)
	}
	g.WriteString("\t// The last w%8 outputs, two per low value.\n")
	g.loopWhile("R4", 1)
	g.f("Get R12; I32WrapI64; F32Load $0; Set F0")
	scalar(0)
	g.f("Get R4; I64Const $1; I64Eq; BrIf $1")
	scalar(4)
	advance(2)
	g.loopEnd()
	g.f("Get R0; Get R6; I64Const $2; I64Shl; I64Add; Set R0")
	g.f("Get R1; Get R7; I64Add; Set R1")
	if adds == 1 {
		g.f("Get R3; Get R6; I64Const $2; I64Shl; I64Add; Set R3")
	}
	g.WriteString("\t// After an odd row (h - rows left), the next low row.\n")
	g.f("%s; Get R5; I64Sub; I64Const $1; I64And; I32WrapI64; If; Get R2; Get R8; I64Add; Set R2; End", h)
	g.add("R5", -1)
	g.loopEnd()
	g.f("Get R13; I64Load lowN+%d(FP); I64Const $2; I64Shl; I64Add; Set R13", off+40)
	g.add("R15", 4)
	g.add("R9", -1)
	g.loopEnd()
	g.f("RET")
}

// dwConv3 writes dwConv3S<stride>Wasm(d, p, w, oh, ow, ldp, step, c1, b,
// lo, hi): the 3x3 depthwise kernel of one channel (octcore's dwConv3),
// d[y*ow+x] = clamp(b + sum of w[3*ky+kx] * p[y*step + ky*ldp + off[kx] +
// x], lo, hi). Stride 1 reads off = {0, 1, 2}, immediates of the loads;
// stride 2 reads {0, c1, 1} from the even-then-odd layout of its padded
// rows. The nine weights stay splatted in V0-V8; each row of three taps is
// summed, then the rows in order onto the bias. A row's last vector overlaps
// the one before it (ow >= 4: the Go wrapper sends narrower rows elsewhere).
func (g *gen) dwConv3(stride int) {
	name := fmt.Sprintf("dwConv3S%dWasm", stride)
	g.header(name, "d, p, w *float32, oh, ow, ldp, step, c1 int, b, lo, hi float32", 76)
	g.loadArgs("d R0", "p R1", "w R12", "oh R2", "ow R7 bytes", "ldp R3 bytes", "step R4 bytes", "c1 R5 bytes")
	for i := 0; i < 9; i++ {
		g.f("Get R12; I32WrapI64; F32Load $%d; F32x4Splat; Set V%d", 4*i, i)
	}
	for i, a := range []string{"b", "lo", "hi"} {
		g.f("F32Load %s+%d(FP); F32x4Splat; Set V%d", a, 64+4*i, 9+i)
	}
	g.f("Get R7; I64Const $16; I64Sub; Set R6 // the last vector's offset")
	g.loopWhile("R2", 1)
	g.f("I64Const $0; Set R8")
	g.f("Block")
	g.f("Loop")
	g.f("Get R8; Get R6; I64GtU; If; Get R6; Set R8; End")
	g.f("Get R1; Get R8; I64Add; Set R9")
	g.f("Get R9; Get R3; I64Add; Set R10")
	g.f("Get R10; Get R3; I64Add; Set R11")
	g.f("Get R0; Get R8; I64Add; I32WrapI64")
	g.f("Get V9")
	for ky, r := range []string{"R9", "R10", "R11"} {
		for kx := 0; kx < 3; kx++ {
			switch {
			case stride == 2 && kx == 1:
				g.f("Get %s; Get R5; I64Add; I32WrapI64; V128Load $0; Get V%d; F32x4Mul", r, 3*ky+kx)
			case stride == 2 && kx == 2:
				g.f("Get %s; I32WrapI64; V128Load $4; Get V%d; F32x4Mul", r, 3*ky+kx)
			default:
				g.f("Get %s; I32WrapI64; V128Load $%d; Get V%d; F32x4Mul", r, 4*kx, 3*ky+kx)
			}
			if kx > 0 {
				g.f("F32x4Add")
			}
		}
		g.f("F32x4Add")
	}
	g.f("Get V10; F32x4Max; Get V11; F32x4Min; V128Store $0")
	g.f("Get R8; Get R6; I64Eq; BrIf $1")
	g.add("R8", 16)
	g.loopEnd()
	g.f("Get R0; Get R7; I64Add; Set R0")
	g.f("Get R1; Get R4; I64Add; Set R1")
	g.add("R2", -1)
	g.loopEnd()
	g.f("RET")
}

// Generate returns the text of kernel_wasm.s.
func Generate() []byte {
	var g gen
	g.WriteString("// Code generated by octcore/internal/genasm; DO NOT EDIT.\n\n//go:build goexperiment.simd && wasm\n\n#include \"textflag.h\"\n\n")
	fmt.Fprintf(&g, "// The %dx%d-vector register tile of microKernel in WebAssembly SIMD, for nblk\n", mr, nv)
	g.WriteString("// consecutive row blocks of one panel. The Go wrappers in kernel_wasm.go check\n// the slices once.\n\n")
	g.kernel("microKernelWasm")
	g.WriteString("\n")
	g.gather()
	g.WriteString("\n")
	g.pool2Map()
	g.WriteString("\n")
	g.pack()
	g.WriteString("\n")
	g.copyRows()
	g.WriteString("\n")
	g.maxRows()
	g.WriteString("\n")
	g.gemv()
	for adds := 0; adds <= 1; adds++ {
		g.WriteString("\n")
		g.epilogueRows(adds)
	}
	for adds := 0; adds <= 1; adds++ {
		g.WriteString("\n")
		g.epilogueLow(adds)
	}
	for stride := 1; stride <= 2; stride++ {
		g.WriteString("\n")
		g.dwConv3(stride)
	}
	g.WriteString("\n")
	g.winoInput()
	g.WriteString("\n")
	g.winoOutput()
	return g.Bytes()
}

func main() {
	out := Generate()
	if len(os.Args) > 1 && os.Args[1] == "-stdout" {
		os.Stdout.Write(out)
		return
	}
	if err := os.WriteFile("kernel_wasm.s", out, 0o644); err != nil {
		log.Fatal(err)
	}
}

// The Winograd F(2x2, 3x3) transforms (octcore/winograd*.go), a vector of
// four consecutive tiles at a time.
//
// A tile row's tiles read columns 2j..2j+3 of four input rows. A vector of
// tiles needs the even and the odd columns of a row apart: each vector of
// four inputs is permuted to x0 x2 x1 x3 by i8x16.swizzle (whose index
// vector is a constant: the assembler writes v128.const's 16 bytes, but
// not i8x16.shuffle's lane immediates), and two such vectors trade their
// 64-bit halves (i64x2 extract and replace lane) into E[j..j+3] and
// O[j..j+3].

// winoSwizzle is the byte index vector of that permutation, as the two
// little-endian halves of v128.const.
const winoSwizzleLo, winoSwizzleHi = 0x0b0a090803020100, 0x0f0e0d0c07060504

// vstore stores the vector that the instructions val push at the address
// in the local reg plus off bytes (the assembler drops V128Store's offset).
func (g *gen) vstore(reg string, off int, val string) {
	if off == 0 {
		g.f("Get %s; I32WrapI64; %s; V128Store $0", reg, val)
		return
	}
	g.f("Get %s; I32WrapI64; I32Const $%d; I32Add; %s; V128Store $0", reg, off, val)
}

// winoInput writes winoInputWasm(v, ldx, src, wp, ty, tx, w, ps, cs, two):
// the input transform of one channel, or of two (src and src+cs floats,
// when two is 1: the second's values 8 floats after the first's, so that
// the two fill whole cache lines) (octcore's winoInputVec, with the same
// operations in the same order) into packed panels: position x of the tiles
// of group g (tiles 4g..4g+3, tile rows rounded up to whole groups) at v +
// x*ldx + (g/2)*ps + (g%2)*4 floats, which with v at the channel's row of
// the first panel is where the micro kernel reads them. First d B for every
// input row (rows 0..2ty+1 of the padded plane src, row width wp): for each
// group of four tiles, the four vectors c0-c2, c1+c2, c2-c1, c1-c3 of its
// columns c0..c3 = E[j], O[j], E[j+1], O[j+1], stored one after the other
// in w (64 bytes a group, a row of them per input row); the tiles of a last
// partial group one at a time. Then B^T (d B) for every tile row from four
// rows of w: sixteen loads, sixteen subtractions or additions and sixteen
// stores a group.
func (g *gen) winoInput() {
	g.header("winoInputWasm", "v *float32, ldx int, src *float32, wp, ty, tx int, w *float32, ps, cs, two int", 80)
	g.loadArgs("v R0", "ldx R1 bytes", "src R2", "wp R3 bytes", "ty R4", "tx R5", "w R6")
	g.f("V128Const $%#x, $%#x; Set V15", winoSwizzleLo, winoSwizzleHi)
	g.f("Get R5; I64Const $3; I64Add; I64Const $2; I64ShrU; I64Const $6; I64Shl; Set R7 // a row of w in bytes")
	g.f("Get R4; I64Const $1; I64Shl; I64Const $2; I64Add; Get R7; I64Mul; Set R15 // a channel's w in bytes")
	g.WriteString("\n\t// d B, a channel (R14 counts them: one, or two when two is 1) and an\n" +
		"\t// input row at a time: R11 walks the row, R12 its row of w, R13 counts\n" +
		"\t// the tiles left.\n")
	g.f("I64Load two+72(FP); I64Const $1; I64Add; Set R14")
	g.f("Get R6; Set R0")
	g.loopWhile("R14", 1)
	g.f("Get R4; I64Const $1; I64Shl; I64Const $2; I64Add; Set R8")
	g.f("Get R2; Set R9; Get R0; Set R10")
	g.loopWhile("R8", 1)
	g.f("Get R9; Set R11; Get R10; Set R12; Get R5; Set R13")
	g.loopWhile("R13", 4)
	for k, off := range []int{0, 16, 8, 24} {
		g.f("Get R11; I32WrapI64; V128Load $%d; Get V15; I8x16Swizzle; Set V%d", off, k)
	}
	for k := 0; k < 2; k++ {
		a, b := 2*k, 2*k+1
		g.f("Get V%d; Get V%d; I64x2ExtractLane $0, $0; I64x2ReplaceLane $0, $1; Set V%d // E[j+%d..]", a, b, 4+2*k, k)
		g.f("Get V%d; Get V%d; I64x2ExtractLane $0, $1; I64x2ReplaceLane $0, $0; Set V%d // O[j+%d..]", b, a, 5+2*k, k)
	}
	// c0..c3 are V4 (E[j]), V5 (O[j]), V6 (E[j+1]), V7 (O[j+1]).
	for i, op := range winoColOps("V4", "V5", "V6", "V7", "F32x4") {
		g.vstore("R12", 16*i, op)
	}
	g.add("R11", 32)
	g.add("R12", 64)
	g.add("R13", -4)
	g.loopEnd()
	g.loopWhile("R13", 1)
	for k := 0; k < 4; k++ {
		g.f("Get R11; I32WrapI64; F32Load $%d; Set F%d", 4*k, k)
	}
	for i, op := range winoColOps("F0", "F1", "F2", "F3", "F32") {
		g.f("Get R12; I32WrapI64; %s; F32Store $%d", op, 16*i)
	}
	g.add("R11", 8)
	g.add("R12", 4)
	g.add("R13", -1)
	g.loopEnd()
	g.f("Get R9; Get R3; I64Add; Set R9")
	g.f("Get R10; Get R7; I64Add; Set R10")
	g.add("R8", -1)
	g.loopEnd()
	g.f("Get R2; I64Load cs+64(FP); I64Const $2; I64Shl; I64Add; Set R2")
	g.f("Get R0; Get R15; I64Add; Set R0")
	g.add("R14", -1)
	g.loopEnd()
	g.f("Get R15; Set R14 // the second channel's w, from the first's")

	g.WriteString("\n\t// B^T (d B), a tile row at a time: R11, R12, R13 and R2 walk its four\n" +
		"\t// rows of w, R3 the group's values of position 0 in v (R6 the one being\n" +
		"\t// stored), R4 counts the groups left. From one group to the next R3\n" +
		"\t// moves by R5: 16 bytes, then to the next panel (R10: ps in bytes) less\n" +
		"\t// those 16, in turn. A second channel's values (rows of w R14 bytes\n" +
		"\t// further) go to the next 32 bytes: the two fill whole cache lines.\n")
	g.f("I64Load ps+56(FP); I64Const $2; I64Shl; Set R10")
	g.f("I64Const $16; Set R5")
	g.f("Get R1; I64Const $2; I64Shl; Set R15 // four positions of v")
	g.f("Get R4; Set R8; Get R6; Set R9; I64Load v+0(FP); Set R3")
	g.loopWhile("R8", 1)
	g.f("Get R9; Set R11")
	g.f("Get R11; Get R7; I64Add; Set R12")
	g.f("Get R12; Get R7; I64Add; Set R13")
	g.f("Get R13; Get R7; I64Add; Set R2")
	g.f("Get R7; I64Const $6; I64ShrU; Set R4")
	g.loopWhile("R4", 1)
	body := func(second bool) {
		for b := 0; b < 4; b++ {
			for k, r := range []string{"R11", "R12", "R13", "R2"} {
				if second {
					g.f("Get %s; Get R14; I64Add; I32WrapI64; V128Load $%d; Set V%d", r, 16*b, k)
				} else {
					g.f("Get %s; I32WrapI64; V128Load $%d; Set V%d", r, 16*b, k)
				}
			}
			if second {
				g.f("Get R3; I64Const $32; I64Add; Set R6")
			} else {
				g.f("Get R3; Set R6")
			}
			for a, op := range winoRowOps("V0", "V1", "V2", "V3", "F32x4") {
				g.vstore("R6", 0, op)
				if a < 3 {
					g.f("Get R6; Get R15; I64Add; Set R6")
				}
			}
			g.f("Get R3; Get R1; I64Add; Set R3")
		}
	}
	body(false)
	g.f("I64Load two+72(FP); I32WrapI64; If")
	g.f("Get R3; Get R15; I64Sub; Set R3")
	body(true)
	g.f("End")
	g.f("Get R3; Get R15; I64Sub; Get R5; I64Add; Set R3")
	g.f("Get R10; Get R5; I64Sub; Set R5")
	for _, r := range []string{"R11", "R12", "R13", "R2"} {
		g.add(r, 64)
	}
	g.add("R4", -1)
	g.loopEnd()
	g.f("Get R9; Get R7; I64Const $1; I64Shl; I64Add; Set R9")
	g.add("R8", -1)
	g.loopEnd()
	g.f("RET")
}

// winoColOps returns the instructions that push d B's four values from a
// row's columns c0..c3: c0-c2, c1+c2, c2-c1, c1-c3 (typ is F32x4 or F32).
func winoColOps(c0, c1, c2, c3, typ string) []string {
	return []string{
		fmt.Sprintf("Get %s; Get %s; %sSub", c0, c2, typ),
		fmt.Sprintf("Get %s; Get %s; %sAdd", c1, c2, typ),
		fmt.Sprintf("Get %s; Get %s; %sSub", c2, c1, typ),
		fmt.Sprintf("Get %s; Get %s; %sSub", c1, c3, typ),
	}
}

// winoRowOps is winoColOps for B^T's rows: the same combinations of four
// rows.
func winoRowOps(r0, r1, r2, r3, typ string) []string { return winoColOps(r0, r1, r2, r3, typ) }

// winoOutRow pushes nothing and leaves in V4 and V5 the even and odd
// output columns of one output row of four tiles, with the epilogue
// applied: A^T's row (sub false: m0+m4+m8, true: m4-m8-m12 from the
// twelve positions loaded from R12 on, ldx bytes apart in R5), then the
// columns s0+s1+s2 and s1-s2-s3, each clamp(value + V12, V13, V14).
func (g *gen) winoOutRow(sub bool) {
	for x := 0; x < 12; x++ {
		g.f("Get R12; I32WrapI64; V128Load $0; Set V%d", x)
		if x < 11 {
			g.f("Get R12; Get R5; I64Add; Set R12")
		}
	}
	op := "F32x4Add"
	if sub {
		op = "F32x4Sub"
	}
	for b := 0; b < 4; b++ {
		g.f("Get V%d; Get V%d; %s; Get V%d; %s; Set V%d", b, 4+b, op, 8+b, op, b)
	}
	ep := "Get V12; F32x4Add; Get V13; F32x4Max; Get V14; F32x4Min"
	g.f("Get V0; Get V1; F32x4Add; Get V2; F32x4Add; %s; Set V4", ep)
	g.f("Get V1; Get V2; F32x4Sub; Get V3; F32x4Sub; %s; Set V5", ep)
}

// winoOutStore stores the eight outputs of V4 (even columns) and V5 (odd)
// interleaved at the address in reg: each pair of lanes is zero-extended
// to 64 bits and the odd one shifted up and ORed in.
func (g *gen) winoOutStore(reg string) {
	for k, half := range []string{"Low", "High"} {
		g.vstore(reg, 16*k, fmt.Sprintf("Get V4; I64x2Extend%sI32x4U; Get V5; I64x2Extend%sI32x4U; I32Const $32; I64x2Shl; V128Or", half, half))
	}
}

// winoOutput writes winoOutputWasm(y, m, tmp, ow, oh, ldx, ty, tr, b, lo,
// hi): the output transform of one output channel (octcore's
// winoOutputVec, the same operations in the same order), y = clamp(A^T M A
// + b, lo, hi) for the oh x ow map, position x of tile t = i*tr + j at
// m[x*ldx + t].
// Four tiles (eight output columns of two rows) at a time; the last ow%8
// columns of a row go through tmp (16 floats) and are copied one at a time;
// the second row of the last tile row only when oh is even.
func (g *gen) winoOutput() {
	g.header("winoOutputWasm", "y, m, tmp *float32, ow, oh, ldx, ty, tr int, b, lo, hi float32", 76)
	g.loadArgs("y R0", "m R1", "tmp R2", "ow R3 bytes", "oh R4", "ldx R5 bytes", "ty R6", "tr R7 bytes")
	for i, a := range []string{"b", "lo", "hi"} {
		g.f("F32Load %s+%d(FP); F32x4Splat; Set V%d", a, 64+4*i, 12+i)
	}
	g.f("Get R5; I64Const $2; I64Shl; Set R13 // four positions of m")
	g.f("I64Load ow+24(FP); I64Const $7; I64And; Set R14 // the columns after the last whole group")
	g.WriteString("\n\t// A tile row per trip: R9 walks its tiles in m, R10 and R11 its two\n" +
		"\t// output rows; R4 counts the output rows left.\n")
	g.loopWhile("R6", 1)
	g.f("Get R1; Set R9; Get R0; Set R10; Get R0; Get R3; I64Add; Set R11")
	g.f("I64Load ow+24(FP); I64Const $3; I64ShrU; Set R8")
	g.loopWhile("R8", 1)
	g.f("Get R9; Set R12")
	g.winoOutRow(false)
	g.winoOutStore("R10")
	g.f("Get R4; I64Const $2; I64GeU; If")
	g.f("Get R9; Get R13; I64Add; Set R12")
	g.winoOutRow(true)
	g.winoOutStore("R11")
	g.f("End")
	g.add("R9", 16)
	g.add("R10", 32)
	g.add("R11", 32)
	g.add("R8", -1)
	g.loopEnd()
	copyRem := func(dst string) {
		g.f("Get R14; Set R8; Get R2; Set R12; Get %s; Set R15", dst)
		g.loopWhile("R8", 1)
		g.f("Get R15; I32WrapI64; Get R12; I32WrapI64; F32Load $0; F32Store $0")
		g.add("R12", 4)
		g.add("R15", 4)
		g.add("R8", -1)
		g.loopEnd()
	}
	g.f("Get R14; I64Const $0; I64Ne; If")
	g.f("Get R9; Set R12")
	g.winoOutRow(false)
	g.winoOutStore("R2")
	copyRem("R10")
	g.f("Get R4; I64Const $2; I64GeU; If")
	g.f("Get R9; Get R13; I64Add; Set R12")
	g.winoOutRow(true)
	g.winoOutStore("R2")
	copyRem("R11")
	g.f("End")
	g.f("End")
	g.f("Get R1; Get R7; I64Add; Set R1")
	g.f("Get R0; Get R3; I64Add; Get R3; I64Add; Set R0")
	g.f("Get R4; I64Const $2; I64Sub; Set R4")
	g.add("R6", -1)
	g.loopEnd()
	g.f("RET")
}
