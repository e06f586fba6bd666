// Package minijson reads and writes JSON without reflection, for the
// WebAssembly build, where encoding/json costs hundreds of kilobytes.
//
// The [Decoder] is a strict pull parser of RFC 8259 JSON: its caller asks for
// the value it expects (an object key, a string, an integer...) and gets an
// error that names the byte offset of the problem otherwise. Strings must be
// valid UTF-8 with well-formed escapes; numbers follow the JSON grammar and
// must fit their Go type; nesting is bounded. The [Writer] produces compact
// JSON that encoding/json would produce for the same values.
package minijson

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects that [Decoder.Skip]
// accepts.
const MaxDepth = 10000

// Error is a problem at a byte offset of the input.
type Error struct {
	Offset int    // byte offset in the input (plus the decoder's base)
	Msg    string // what was wrong, such as "invalid character 'x' in a number"
}

func (e *Error) Error() string { return e.Msg + " at byte " + strconv.Itoa(e.Offset) }

// Decoder reads JSON values from a byte slice.
type Decoder struct {
	data []byte
	pos  int
	base int
	// first is set by ObjectStart and ArrayStart: no comma before the next
	// member.
	first bool
}

// NewDecoder returns a decoder of data whose errors count offsets from base
// (the position of data in a larger file, or 0).
func NewDecoder(data []byte, base int) *Decoder {
	return &Decoder{data: data, base: base}
}

// Offset returns the offset of the next unread byte, after white space.
func (d *Decoder) Offset() int {
	d.space()
	return d.base + d.pos
}

func (d *Decoder) errAt(pos int, msg string) error {
	return &Error{Offset: d.base + pos, Msg: msg}
}

// unexpected describes the byte at d.pos (or the end) while looking for what.
func (d *Decoder) unexpected(what string) error {
	if d.pos >= len(d.data) {
		return d.errAt(d.pos, "unexpected end of JSON input, expected "+what)
	}
	return d.errAt(d.pos, "invalid character "+quoteChar(d.data[d.pos])+", expected "+what)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

func (d *Decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// Peek returns the first byte of the next value ('{', '[', '"', 't', 'f',
// 'n', a digit or '-'), or 0 at the end of the input.
func (d *Decoder) Peek() byte {
	d.space()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *Decoder) expect(c byte, what string) error {
	d.space()
	if d.pos >= len(d.data) || d.data[d.pos] != c {
		return d.unexpected(what)
	}
	d.pos++
	return nil
}

// ObjectStart reads the '{' that opens an object.
func (d *Decoder) ObjectStart() error {
	if err := d.expect('{', "'{' (an object)"); err != nil {
		return err
	}
	d.first = true
	return nil
}

// ArrayStart reads the '[' that opens an array.
func (d *Decoder) ArrayStart() error {
	if err := d.expect('[', "'[' (an array)"); err != nil {
		return err
	}
	d.first = true
	return nil
}

// more reads the separator before the next member of an object or array and
// reports whether there is one; at the closing byte it reads that and returns
// false.
func (d *Decoder) more(closing byte) (bool, error) {
	d.space()
	first := d.first
	d.first = false
	if d.pos < len(d.data) && d.data[d.pos] == closing {
		d.pos++
		return false, nil
	}
	if !first {
		if d.pos >= len(d.data) || d.data[d.pos] != ',' {
			return false, d.unexpected("',' or '" + string(rune(closing)) + "'")
		}
		d.pos++
		d.space()
	}
	return true, nil
}

// NextKey reads the next key of an object and its colon. At the end of the
// object it reads the '}' and returns ok false. at is the key's offset.
func (d *Decoder) NextKey() (key string, at int, ok bool, err error) {
	ok, err = d.more('}')
	if err != nil || !ok {
		return "", 0, false, err
	}
	d.space()
	at = d.base + d.pos
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", at, false, d.unexpected("a string (an object key)")
	}
	if key, err = d.String(); err != nil {
		return "", at, false, err
	}
	if err := d.expect(':', "':' after an object key"); err != nil {
		return "", at, false, err
	}
	return key, at, true, nil
}

// NextElem reports whether the array has another element, reading the comma
// before it; at the end of the array it reads the ']' and returns false.
func (d *Decoder) NextElem() (bool, error) {
	ok, err := d.more(']')
	if err == nil && ok && d.pos < len(d.data) && d.data[d.pos] == ']' {
		// "[1,]": a comma must be followed by a value.
		return false, d.unexpected("a value")
	}
	return ok, err
}

// Null reads a null if the next value is one and reports whether it was.
func (d *Decoder) Null() (bool, error) {
	if d.Peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

func (d *Decoder) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != lit[i] {
			return d.unexpected("the literal " + lit)
		}
		d.pos++
	}
	return nil
}

// Bool reads true or false.
func (d *Decoder) Bool() (bool, error) {
	switch d.Peek() {
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	}
	return false, d.unexpected("true or false")
}

// String reads a string.
func (d *Decoder) String() (string, error) {
	if err := d.expect('"', "a string"); err != nil {
		return "", err
	}
	start := d.pos
	// Fast path: no escapes.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", d.errAt(d.pos, "control character "+quoteChar(c)+" in a string")
		}
		if c < utf8.RuneSelf {
			d.pos++
			continue
		}
		r, n := utf8.DecodeRune(d.data[d.pos:])
		if r == utf8.RuneError && n == 1 {
			return "", d.errAt(d.pos, "invalid UTF-8 in a string")
		}
		d.pos += n
	}
	b := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b), nil
		case c == '\\':
			r, err := d.escape()
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
		case c < 0x20:
			return "", d.errAt(d.pos, "control character "+quoteChar(c)+" in a string")
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, n := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && n == 1 {
				return "", d.errAt(d.pos, "invalid UTF-8 in a string")
			}
			b = append(b, d.data[d.pos:d.pos+n]...)
			d.pos += n
		}
	}
	return "", d.errAt(d.pos, "unexpected end of JSON input in a string")
}

// escape reads one escape sequence at d.pos, a surrogate pair as one rune.
func (d *Decoder) escape() (rune, error) {
	at := d.pos
	if d.pos+1 >= len(d.data) {
		return 0, d.errAt(d.pos, "unexpected end of JSON input in a string escape")
	}
	c := d.data[d.pos+1]
	d.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return 0, err
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || d.pos+1 >= len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
				return 0, d.errAt(at, "lone UTF-16 surrogate in a string escape")
			}
			d.pos += 2
			r2, err := d.hex4()
			if err != nil {
				return 0, err
			}
			r = utf16.DecodeRune(r, r2)
			if r == utf8.RuneError {
				return 0, d.errAt(at, "invalid UTF-16 surrogate pair in a string escape")
			}
		}
		return r, nil
	}
	return 0, d.errAt(at, "invalid escape "+quoteChar(c)+" in a string")
}

func (d *Decoder) hex4() (rune, error) {
	if d.pos+4 > len(d.data) {
		return 0, d.errAt(d.pos, "unexpected end of JSON input in a \\u escape")
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := d.data[d.pos]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, d.errAt(d.pos, "invalid character "+quoteChar(c)+" in a \\u escape")
		}
		r = r<<4 | rune(c)
		d.pos++
	}
	return r, nil
}

// number reads the text of a number, checking the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *Decoder) number() (string, int, error) {
	d.space()
	start := d.pos
	p := d.pos
	digits := func() bool {
		s := p
		for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
			p++
		}
		return p > s
	}
	bad := func(what string) (string, int, error) {
		d.pos = p
		return "", start, d.unexpected(what)
	}
	if p < len(d.data) && d.data[p] == '-' {
		p++
	}
	if p < len(d.data) && d.data[p] == '0' {
		p++
	} else if !digits() {
		if p == start {
			return bad("a number")
		}
		return bad("a digit")
	}
	if p < len(d.data) && d.data[p] == '.' {
		p++
		if !digits() {
			return bad("a digit after the decimal point")
		}
	}
	if p < len(d.data) && (d.data[p] == 'e' || d.data[p] == 'E') {
		p++
		if p < len(d.data) && (d.data[p] == '+' || d.data[p] == '-') {
			p++
		}
		if !digits() {
			return bad("a digit in the exponent")
		}
	}
	d.pos = p
	return string(d.data[start:p]), start, nil
}

// Int reads an integer in [lo, hi]. A fraction or an exponent is an error.
func (d *Decoder) Int(lo, hi int64) (int64, error) {
	s, at, err := d.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, d.errAt(at, "number "+s+" is not an integer in "+strconv.FormatInt(lo, 10)+".."+strconv.FormatInt(hi, 10))
	}
	return v, nil
}

// Uint reads a non-negative integer that fits in 64 bits.
func (d *Decoder) Uint() (uint64, error) {
	s, at, err := d.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, d.errAt(at, "number "+s+" is not an integer in 0..18446744073709551615")
	}
	return v, nil
}

// Float reads a number as a float of bits 32 or 64; one beyond the range of
// that type is an error.
func (d *Decoder) Float(bits int) (float64, error) {
	s, at, err := d.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, d.errAt(at, "number "+s+" overflows a float"+strconv.Itoa(bits))
	}
	return v, nil
}

// Skip reads and discards one value of any kind, checking its syntax.
func (d *Decoder) Skip() error { return d.skip(0) }

func (d *Decoder) skip(depth int) error {
	if depth > MaxDepth {
		d.space()
		return d.errAt(d.pos, "arrays and objects nested too deep")
	}
	switch d.Peek() {
	case '{':
		d.ObjectStart()
		for {
			_, _, ok, err := d.NextKey()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		d.ArrayStart()
		for {
			ok, err := d.NextElem()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
	case '"':
		_, err := d.String()
		return err
	case 't', 'f':
		_, err := d.Bool()
		return err
	case 'n':
		_, err := d.Null()
		return err
	}
	_, _, err := d.number()
	if err != nil {
		return d.unexpected("a value")
	}
	return nil
}

// End checks that only white space is left.
func (d *Decoder) End() error {
	d.space()
	if d.pos < len(d.data) {
		return d.errAt(d.pos, "unexpected "+quoteChar(d.data[d.pos])+" after the JSON value")
	}
	return nil
}
