package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The relaxed-SIMD patch table (issue 17, item 4). In the SIMD build every
// accumulator update of microKernelWasm's 4x2 register tile is
//
//	f32x4.mul; nop; local.get ACC; f32x4.add; nop    fd e6 01 01  20 ACC  fd e4 01 01
//
// (Go's assembler follows each two-byte SIMD opcode with a nop, 01) and its
// relaxed form, which computes a*b + ACC with one fused multiply-add where the
// engine has one, is
//
//	local.get ACC; f32x4.relaxed_madd; 5 x nop       20 ACC  fd 85 02  01 01 01 01 01
//
// the same ten bytes, so no offset or function size moves. (relaxed_madd
// pops a, b, c and pushes a*b + c: with a and b on the stack as before the
// multiply, the order matches.) buildwasm appends the file offsets of the eight
// sequences to octave.wasm as a custom section, which engines skip;
// web/octave.js patches a copy of the bytes when the engine validates a
// relaxed-SIMD probe module.
const (
	relaxedSection = "octave.relaxed"
	relaxedVersion = 1
	relaxedPairs   = 8
)

var (
	mulAddPrefix = []byte{0xfd, 0xe6, 0x01, 0x01, 0x20} // f32x4.mul; nop; local.get
	mulAddSuffix = []byte{0xfd, 0xe4, 0x01, 0x01}       // f32x4.add; nop
	maddBytes    = []byte{0xfd, 0x85, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01}
)

// kernelName is the symbol whose body holds the pairs.
const kernelName = ".microKernelWasm"

// relaxedOffsets finds the eight pairs in stripped, the module that ships:
// named (the same build with its name section) tells which function is
// microKernelWasm, and only that function's body is searched, never the
// rest of the module (its data segments can hold the same bytes). The body
// must hold exactly eight pairs.
func relaxedOffsets(stripped, named []byte) ([]uint32, error) {
	idx, err := funcIndex(named, kernelName)
	if err != nil {
		return nil, err
	}
	bodies, err := codeBodies(stripped)
	if err != nil {
		return nil, err
	}
	nb, err := codeBodies(named)
	if err != nil {
		return nil, err
	}
	imports, err := funcImports(stripped)
	if err != nil {
		return nil, err
	}
	k := idx - imports
	if k < 0 || k >= len(bodies) || len(bodies) != len(nb) {
		return nil, fmt.Errorf("function %d (%s) is not among the %d code bodies", idx, kernelName, len(bodies))
	}
	body := bodies[k]
	if nb[k][1]-nb[k][0] != body[1]-body[0] {
		return nil, fmt.Errorf("%s is %d bytes in the named build, %d in the stripped one", kernelName, nb[k][1]-nb[k][0], body[1]-body[0])
	}
	var offs []uint32
	for o := body[0]; o+pairLen <= body[1]; o++ {
		if isMulAdd(stripped, o) {
			offs = append(offs, uint32(o))
			o += pairLen - 1
		}
	}
	if len(offs) != relaxedPairs {
		return nil, fmt.Errorf("%s holds %d multiply+add pairs, want %d", kernelName, len(offs), relaxedPairs)
	}
	return offs, nil
}

// codeBodies returns the byte range of each function body (locals and code).
func codeBodies(wasm []byte) ([][2]int, error) {
	s, e, err := codeSection(wasm)
	if err != nil {
		return nil, err
	}
	n, k := binary.Uvarint(wasm[s:e])
	if k <= 0 {
		return nil, fmt.Errorf("bad code section")
	}
	p := s + k
	var bodies [][2]int
	for i := uint64(0); i < n; i++ {
		size, k := binary.Uvarint(wasm[p:e])
		if k <= 0 || p+k+int(size) > e {
			return nil, fmt.Errorf("bad code body %d", i)
		}
		bodies = append(bodies, [2]int{p + k, p + k + int(size)})
		p += k + int(size)
	}
	return bodies, nil
}

// funcImports counts the imported functions (they come first in the
// function index space).
func funcImports(wasm []byte) (int, error) {
	var s, e int
	if err := sections(wasm, func(id byte, a, b int) {
		if id == 2 {
			s, e = a, b
		}
	}); err != nil {
		return 0, err
	}
	if e == 0 {
		return 0, nil
	}
	p := wasm[s:e]
	n, k := binary.Uvarint(p)
	p = p[k:]
	funcs := 0
	str := func() error {
		l, k := binary.Uvarint(p)
		if k <= 0 || k+int(l) > len(p) {
			return fmt.Errorf("bad import section")
		}
		p = p[k+int(l):]
		return nil
	}
	for i := uint64(0); i < n; i++ {
		if err := str(); err != nil {
			return 0, err
		}
		if err := str(); err != nil {
			return 0, err
		}
		if len(p) < 2 {
			return 0, fmt.Errorf("bad import section")
		}
		kind := p[0]
		p = p[1:]
		switch kind {
		case 0: // function: type index
			funcs++
			_, k = binary.Uvarint(p)
			p = p[k:]
		case 1: // table: reftype, limits
			p = p[1:]
			p = skipLimits(p)
		case 2: // memory: limits
			p = skipLimits(p)
		case 3: // global: valtype, mutability
			p = p[2:]
		default:
			return 0, fmt.Errorf("import kind %d", kind)
		}
	}
	return funcs, nil
}

func skipLimits(p []byte) []byte {
	flag := p[0]
	_, k := binary.Uvarint(p[1:])
	p = p[1+k:]
	if flag&1 != 0 {
		_, k = binary.Uvarint(p)
		p = p[k:]
	}
	return p
}

// funcIndex finds the function whose name (name section, function names)
// ends in suffix; exactly one must.
func funcIndex(wasm []byte, suffix string) (int, error) {
	found, idx := 0, -1
	var ferr error
	err := sections(wasm, func(id byte, s, e int) {
		if id != 0 || ferr != nil {
			return
		}
		p := wasm[s:e]
		l, k := binary.Uvarint(p)
		if k <= 0 || k+int(l) > len(p) || string(p[k:k+int(l)]) != "name" {
			return
		}
		p = p[k+int(l):]
		for len(p) > 0 {
			sub := p[0]
			size, k := binary.Uvarint(p[1:])
			if k <= 0 || 1+k+int(size) > len(p) {
				ferr = fmt.Errorf("bad name section")
				return
			}
			q := p[1+k : 1+k+int(size)]
			p = p[1+k+int(size):]
			if sub != 1 {
				continue
			}
			n, k := binary.Uvarint(q)
			q = q[k:]
			for i := uint64(0); i < n; i++ {
				fi, k := binary.Uvarint(q)
				q = q[k:]
				l, m := binary.Uvarint(q)
				if k <= 0 || m <= 0 || m+int(l) > len(q) {
					ferr = fmt.Errorf("bad function name map")
					return
				}
				if strings.HasSuffix(string(q[m:m+int(l)]), suffix) {
					found++
					idx = int(fi)
				}
				q = q[m+int(l):]
			}
		}
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return 0, err
	}
	if found != 1 {
		return 0, fmt.Errorf("%d functions named *%s in the name section, want 1", found, suffix)
	}
	return idx, nil
}

// pairLen is the length of one pair in either form.
const pairLen = 10

// isMulAdd reports whether b[o:o+pairLen] is f32x4.mul; nop; local.get ACC;
// f32x4.add; nop with a one-byte local index.
func isMulAdd(b []byte, o int) bool {
	return o >= 0 && o+pairLen <= len(b) && bytes.Equal(b[o:o+5], mulAddPrefix) && b[o+5] < 0x80 &&
		bytes.Equal(b[o+6:o+pairLen], mulAddSuffix)
}

// applyRelaxed returns a copy of wasm with the pairs at offs rewritten to
// their relaxed form (what web/octave.js does at load time).
func applyRelaxed(wasm []byte, offs []uint32) ([]byte, error) {
	out := bytes.Clone(wasm)
	for _, o := range offs {
		if !isMulAdd(out, int(o)) {
			return nil, fmt.Errorf("no multiply+add pair at byte %d", o)
		}
		out[o], out[o+1] = 0x20, wasm[o+5]
		copy(out[o+2:o+pairLen], maddBytes)
	}
	return out, nil
}

// relaxedSectionBytes encodes the table as a custom section: name, then
// version, count and the offsets, each an unsigned LEB128.
func relaxedSectionBytes(offs []uint32) []byte {
	var p []byte
	p = binary.AppendUvarint(p, uint64(len(relaxedSection)))
	p = append(p, relaxedSection...)
	p = binary.AppendUvarint(p, relaxedVersion)
	p = binary.AppendUvarint(p, uint64(len(offs)))
	for _, o := range offs {
		p = binary.AppendUvarint(p, uint64(o))
	}
	s := []byte{0}
	s = binary.AppendUvarint(s, uint64(len(p)))
	return append(s, p...)
}

// codeSection returns the byte range of a module's code section.
func codeSection(wasm []byte) (int, int, error) {
	var start, end int
	err := sections(wasm, func(id byte, s, e int) {
		if id == 10 {
			start, end = s, e
		}
	})
	if err == nil && end == 0 {
		err = fmt.Errorf("no code section")
	}
	return start, end, err
}

// sections calls f with the id and content range of each section.
func sections(wasm []byte, f func(id byte, start, end int)) error {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return fmt.Errorf("not a WebAssembly module")
	}
	for i := 8; i < len(wasm); {
		size, n := binary.Uvarint(wasm[i+1:])
		if n <= 0 || i+1+n+int(size) > len(wasm) {
			return fmt.Errorf("bad section at byte %d", i)
		}
		f(wasm[i], i+1+n, i+1+n+int(size))
		i += 1 + n + int(size)
	}
	return nil
}

// readRelaxedSection finds the table in a module (for the tests and the
// verification), walking the sections rather than searching the bytes.
func readRelaxedSection(wasm []byte) ([]uint32, bool, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, false, fmt.Errorf("not a WebAssembly module")
	}
	for i := 8; i < len(wasm); {
		id := wasm[i]
		size, n := binary.Uvarint(wasm[i+1:])
		if n <= 0 || i+1+n+int(size) > len(wasm) {
			return nil, false, fmt.Errorf("bad section at byte %d", i)
		}
		body := wasm[i+1+n : i+1+n+int(size)]
		i += 1 + n + int(size)
		if id != 0 {
			continue
		}
		l, m := binary.Uvarint(body)
		if m <= 0 || m+int(l) > len(body) || string(body[m:m+int(l)]) != relaxedSection {
			continue
		}
		p := body[m+int(l):]
		v, k := binary.Uvarint(p)
		if k <= 0 || v != relaxedVersion {
			return nil, true, fmt.Errorf("%s: version %d, want %d", relaxedSection, v, relaxedVersion)
		}
		p = p[k:]
		c, k := binary.Uvarint(p)
		if k <= 0 {
			return nil, true, fmt.Errorf("%s: bad count", relaxedSection)
		}
		p = p[k:]
		var offs []uint32
		for j := uint64(0); j < c; j++ {
			o, k := binary.Uvarint(p)
			if k <= 0 {
				return nil, true, fmt.Errorf("%s: bad offset", relaxedSection)
			}
			offs = append(offs, uint32(o))
			p = p[k:]
		}
		return offs, true, nil
	}
	return nil, false, nil
}

// addRelaxedTable builds dst's package again with its name section, finds
// the pairs in dst, appends the table to dst and checks that Node validates
// the patched module with its relaxed-SIMD flag and, without it, the plain
// one.
func addRelaxedTable(goCmd, toolchain, pkg, dst string) (int, error) {
	tmp, err := os.MkdirTemp("", "buildwasm-relaxed")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	namedFile := filepath.Join(tmp, "named.wasm")
	if err := buildLd(goCmd, toolchain, pkg, namedFile, true, "-w"); err != nil {
		return 0, fmt.Errorf("building with the name section: %w", err)
	}
	plain, err := os.ReadFile(dst)
	if err != nil {
		return 0, err
	}
	named, err := os.ReadFile(namedFile)
	if err != nil {
		return 0, err
	}
	offs, err := relaxedOffsets(plain, named)
	if err != nil {
		return 0, err
	}
	withTable := append(bytes.Clone(plain), relaxedSectionBytes(offs)...)
	patched, err := applyRelaxed(withTable, offs)
	if err != nil {
		return 0, err
	}
	patchedFile := filepath.Join(tmp, "patched.wasm")
	if err := os.WriteFile(patchedFile, patched, 0o644); err != nil {
		return 0, err
	}
	if err := os.WriteFile(dst, withTable, 0o644); err != nil {
		return 0, err
	}
	if err := nodeValidates(patchedFile, "--experimental-wasm-relaxed-simd"); err != nil {
		return 0, fmt.Errorf("the relaxed-patched octave.wasm: %w", err)
	}
	if err := nodeValidates(dst); err != nil {
		return 0, fmt.Errorf("octave.wasm with its relaxed table: %w", err)
	}
	return len(offs), nil
}

// nodeValidates runs WebAssembly.validate on file in Node.
func nodeValidates(file string, flags ...string) error {
	args := append(flags, "-e", `process.exit(WebAssembly.validate(require("fs").readFileSync(process.argv[1])) ? 0 : 3)`, file)
	cmd := exec.Command("node", args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
			return fmt.Errorf("does not validate in Node %v", flags)
		}
		return fmt.Errorf("node: %w", err)
	}
	return nil
}
