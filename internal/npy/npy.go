// Package npy reads and writes NumPy's .npy arrays (format versions 1-3) of
// float32, little-endian, C order, and writes .npz archives of them, so
// that Octave's tensors can be compared with a framework's.
package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

const magic = "\x93NUMPY"

// maxHeader bounds the header of a file we read.
const maxHeader = 1 << 16

// Read reads one .npy array of dtype float32 ('<f4'; '<f8' is converted),
// C order, and returns its shape and values.
func Read(r io.Reader) (shape []int, data []float32, err error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, fmt.Errorf("npy: %d-byte preamble: %v", len(pre), err)
	}
	if string(pre[:6]) != magic {
		return nil, nil, fmt.Errorf("npy: not a .npy file (no \\x93NUMPY magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("npy: header length: %v", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("npy: header length: %v", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, nil, fmt.Errorf("npy: format version %d.%d not supported", pre[6], pre[7])
	}
	if hlen > maxHeader {
		return nil, nil, fmt.Errorf("npy: header of %d bytes is too long", hlen)
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, nil, fmt.Errorf("npy: header: %v", err)
	}
	descr, fortran, shape, err := parseHeader(string(h))
	if err != nil {
		return nil, nil, err
	}
	if fortran {
		return nil, nil, fmt.Errorf("npy: Fortran-order arrays are not supported; save np.ascontiguousarray(x)")
	}
	var size int
	switch descr {
	case "<f4":
		size = 4
	case "<f8":
		size = 8
	default:
		return nil, nil, fmt.Errorf("npy: dtype %q not supported: want float32 ('<f4'), e.g. x.astype(np.float32)", descr)
	}
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return nil, nil, fmt.Errorf("npy: shape %v is too large", shape)
		}
		n *= d
	}
	raw := make([]byte, 0, min(n*size, 1<<26))
	buf := bytes.NewBuffer(raw)
	if m, err := io.CopyN(buf, r, int64(n*size)); err != nil {
		return nil, nil, fmt.Errorf("npy: shape %v needs %d bytes of data, the file has %d", shape, n*size, m)
	}
	b := buf.Bytes()
	data = make([]float32, n)
	for i := range data {
		if size == 4 {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		} else {
			data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	}
	return shape, data, nil
}

// parseHeader reads the Python dict literal of a .npy header, such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 224, 224), }.
func parseHeader(h string) (descr string, fortran bool, shape []int, err error) {
	s := strings.TrimSpace(h)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return "", false, nil, fmt.Errorf("npy: header %q is not a dict", h)
	}
	field := func(key string) (string, bool) {
		i := strings.Index(s, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(s[i+len(key)+2:])
		rest, ok := strings.CutPrefix(rest, ":")
		return strings.TrimSpace(rest), ok
	}
	d, ok := field("descr")
	if !ok || len(d) < 2 || (d[0] != '\'' && d[0] != '"') {
		return "", false, nil, fmt.Errorf("npy: header %q has no descr", h)
	}
	end := strings.IndexByte(d[1:], d[0])
	if end < 0 {
		return "", false, nil, fmt.Errorf("npy: header %q: unterminated descr", h)
	}
	descr = d[1 : 1+end]
	if descr == "|f4" || descr == "=f4" {
		descr = "<f4"
	}
	f, ok := field("fortran_order")
	if !ok {
		return "", false, nil, fmt.Errorf("npy: header %q has no fortran_order", h)
	}
	fortran = strings.HasPrefix(f, "True")
	sh, ok := field("shape")
	if !ok || !strings.HasPrefix(sh, "(") {
		return "", false, nil, fmt.Errorf("npy: header %q has no shape", h)
	}
	close := strings.IndexByte(sh, ')')
	if close < 0 {
		return "", false, nil, fmt.Errorf("npy: header %q: unterminated shape", h)
	}
	shape = []int{}
	for _, p := range strings.Split(sh[1:close], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSuffix(p, "L"))
		if err != nil || v < 0 {
			return "", false, nil, fmt.Errorf("npy: header %q: bad dimension %q", h, p)
		}
		shape = append(shape, v)
	}
	return descr, fortran, shape, nil
}

// Write writes data as a float32 .npy array (version 1.0) of the given shape.
func Write(w io.Writer, shape []int, data []float32) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: shape %v needs %d values, got %d", shape, n, len(data))
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + sh + "), }"
	// Pad with spaces so that the data starts at a multiple of 64, newline-terminated.
	total := len(magic) + 4 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	out := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	b.Write(out)
	_, err := w.Write(b.Bytes())
	return err
}

// Array is one named array of an .npz archive.
type Array struct {
	Name  string
	Shape []int
	Data  []float32
}

// WriteNPZ writes arrays as an .npz archive (a zip of NAME.npy files, stored
// uncompressed as numpy.savez does); np.load(path)[NAME] reads each back.
func WriteNPZ(w io.Writer, arrays []Array) error {
	z := zip.NewWriter(w)
	for _, a := range arrays {
		f, err := z.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := Write(f, a.Shape, a.Data); err != nil {
			return fmt.Errorf("npz %q: %v", a.Name, err)
		}
	}
	return z.Close()
}

// ReadNPZ reads every float32 array of the .npz archive at path.
func ReadNPZ(path string) ([]Array, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("npz %s: %v", path, err)
	}
	defer z.Close()
	var out []Array
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("npz %s: %s: %v", path, f.Name, err)
		}
		shape, data, err := Read(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("npz %s: %s: %v", path, f.Name, err)
		}
		out = append(out, Array{Name: strings.TrimSuffix(f.Name, ".npy"), Shape: shape, Data: data})
	}
	return out, nil
}
