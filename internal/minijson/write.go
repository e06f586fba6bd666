package minijson

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// Writer builds compact JSON, placing commas and colons itself. Its output
// for strings and numbers is byte for byte what encoding/json.Marshal writes.
// Its small methods are not inlined: a call is shorter than their bodies,
// which keeps the WebAssembly code that writes JSON small.
type Writer struct {
	buf []byte
	// need is set when the next value or key needs a comma before it.
	need bool
	err  error
}

// Bytes returns the JSON written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Err returns the first error: a NaN or infinite float.
func (w *Writer) Err() error { return w.err }

func (w *Writer) sep() {
	if w.need {
		w.buf = append(w.buf, ',')
	}
	w.need = true
}

// BeginObject writes '{'.
//
//go:noinline
func (w *Writer) BeginObject() { w.sep(); w.buf = append(w.buf, '{'); w.need = false }

// EndObject writes '}'.
//
//go:noinline
func (w *Writer) EndObject() { w.buf = append(w.buf, '}'); w.need = true }

// BeginArray writes '['.
//
//go:noinline
func (w *Writer) BeginArray() { w.sep(); w.buf = append(w.buf, '['); w.need = false }

// EndArray writes ']'.
//
//go:noinline
func (w *Writer) EndArray() { w.buf = append(w.buf, ']'); w.need = true }

// Key writes an object key and its colon.
//
//go:noinline
func (w *Writer) Key(k string) {
	w.sep()
	w.buf = AppendString(w.buf, k)
	w.buf = append(w.buf, ':')
	w.need = false
}

// String writes a string value.
//
//go:noinline
func (w *Writer) String(s string) { w.sep(); w.buf = AppendString(w.buf, s) }

// Int writes an integer.
//
//go:noinline
func (w *Writer) Int(v int64) { w.sep(); w.buf = strconv.AppendInt(w.buf, v, 10) }

// Uint writes a non-negative integer.
//
//go:noinline
func (w *Writer) Uint(v uint64) { w.sep(); w.buf = strconv.AppendUint(w.buf, v, 10) }

// Bool writes true or false.
//
//go:noinline
func (w *Writer) Bool(v bool) { w.sep(); w.buf = strconv.AppendBool(w.buf, v) }

// Null writes null.
//
//go:noinline
func (w *Writer) Null() { w.sep(); w.buf = append(w.buf, "null"...) }

// Strings writes v as an array of strings, or null when v is nil.
func (w *Writer) Strings(v []string) {
	if v == nil {
		w.Null()
		return
	}
	w.BeginArray()
	for _, s := range v {
		w.String(s)
	}
	w.EndArray()
}

// Ints writes v as an array of integers, or null when v is nil.
func (w *Writer) Ints(v []int) {
	if v == nil {
		w.Null()
		return
	}
	w.BeginArray()
	for _, n := range v {
		w.Int(int64(n))
	}
	w.EndArray()
}

// Float32s writes v as an array of float32 values, or null when v is nil.
func (w *Writer) Float32s(v []float32) {
	if v == nil {
		w.Null()
		return
	}
	w.BeginArray()
	for _, f := range v {
		w.Float(float64(f), 32)
	}
	w.EndArray()
}

// Float writes f, a float64 (bits 64) or a float32 value (bits 32). NaN and
// the infinities have no JSON form: they are written as null and make Err
// return an error.
func (w *Writer) Float(f float64, bits int) {
	w.sep()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if w.err == nil {
			w.err = errors.New("minijson: unsupported value " + strconv.FormatFloat(f, 'g', -1, 64))
		}
		w.buf = append(w.buf, "null"...)
		return
	}
	w.buf = AppendFloat(w.buf, f, bits)
}

// AppendFloat appends a finite f as encoding/json writes a float of that
// many bits: like ES6, plain decimal notation for magnitudes in [1e-6, 1e21),
// exponent notation with at least one exponent digit otherwise.
func AppendFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json does:
// '<', '>' and '&' as \u escapes for HTML safety, as are U+2028 and U+2029;
// invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
