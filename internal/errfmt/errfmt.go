// Package errfmt formats error messages like fmt.Sprintf and fmt.Errorf for
// the verbs Octave's messages use, without fmt: fmt prints any value through
// reflection, which costs the WebAssembly build hundreds of kilobytes.
//
// The verbs are %v, %d, %s, %q, %w and %%, without flags, width or precision.
// Operands may be booleans, integers, floats, strings, errors, values with a
// String method, and slices of those basic types; for these the output equals
// fmt's. Anything else prints as %!v(unsupported type) rather than panicking.
package errfmt

import (
	"strconv"
	"unicode/utf8"
)

// Sprintf formats like fmt.Sprintf (see the package comment for the subset).
func Sprintf(format string, args ...any) string {
	return string(appendf(nil, format, args))
}

// Errorf formats like fmt.Errorf: an operand of %w is wrapped, so that
// errors.Is and errors.As see it.
func Errorf(format string, args ...any) error {
	e := &wrapError{msg: string(appendf(nil, format, args))}
	for i := 0; i+1 < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if format[i] == 'w' {
			e.wrapped = append(e.wrapped, nthArg(format, i, args))
		}
	}
	return e
}

// nthArg returns the operand of the verb whose letter is at format[at], or
// nil.
func nthArg(format string, at int, args []any) error {
	n := 0
	for i := 0; i < at; i++ {
		if format[i] == '%' {
			i++
			if i < at && format[i] != '%' {
				n++
			}
		}
	}
	if n < len(args) {
		if err, ok := args[n].(error); ok {
			return err
		}
	}
	return nil
}

type wrapError struct {
	msg     string
	wrapped []error
}

func (e *wrapError) Error() string { return e.msg }

// Unwrap returns the operands of %w.
func (e *wrapError) Unwrap() []error {
	var out []error
	for _, w := range e.wrapped {
		if w != nil {
			out = append(out, w)
		}
	}
	return out
}

func appendf(b []byte, format string, args []any) []byte {
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		if i == len(format) {
			return append(b, "%!(NOVERB)"...)
		}
		verb := format[i]
		if verb == '%' {
			b = append(b, '%')
			continue
		}
		if n >= len(args) {
			b = append(b, '%', '!', verb)
			b = append(b, "(MISSING)"...)
			continue
		}
		b = appendArg(b, verb, args[n])
		n++
	}
	if n < len(args) {
		b = append(b, "%!(EXTRA"...)
		for i, a := range args[n:] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, ' ')
			b = appendArg(b, 'v', a)
		}
		b = append(b, ')')
	}
	return b
}

func bad(b []byte, verb byte, what string) []byte {
	b = append(b, '%', '!', verb, '(')
	b = append(b, what...)
	return append(b, ')')
}

func appendArg(b []byte, verb byte, a any) []byte {
	switch verb {
	case 'v', 'd', 's', 'q', 'w':
	default:
		return bad(b, verb, "unsupported verb")
	}
	if a == nil {
		if verb == 'v' {
			return append(b, "<nil>"...)
		}
		return bad(b, verb, "<nil>")
	}
	if verb == 'w' {
		if _, ok := a.(error); !ok {
			return bad(b, verb, "not an error")
		}
		verb = 'v'
	}
	if verb != 'd' {
		switch v := a.(type) {
		case error:
			return appendString(b, verb, v.Error())
		case interface{ String() string }:
			return appendString(b, verb, v.String())
		}
	}
	switch v := a.(type) {
	case string:
		return appendString(b, verb, v)
	case bool:
		if verb != 'v' {
			return bad(b, verb, "bool")
		}
		return strconv.AppendBool(b, v)
	case int:
		return appendInt(b, verb, int64(v))
	case int8:
		return appendInt(b, verb, int64(v))
	case int16:
		return appendInt(b, verb, int64(v))
	case int32:
		return appendInt(b, verb, int64(v))
	case int64:
		return appendInt(b, verb, v)
	case uint:
		return appendUint(b, verb, uint64(v))
	case uint8:
		return appendUint(b, verb, uint64(v))
	case uint16:
		return appendUint(b, verb, uint64(v))
	case uint32:
		return appendUint(b, verb, uint64(v))
	case uint64:
		return appendUint(b, verb, v)
	case uintptr:
		return appendUint(b, verb, uint64(v))
	case float32:
		return appendFloat(b, verb, float64(v), 32)
	case float64:
		return appendFloat(b, verb, v, 64)
	case []string:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendString(b, verb, v[i]) })
	case []int:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendInt(b, verb, int64(v[i])) })
	case []int64:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendInt(b, verb, v[i]) })
	case []int32:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendInt(b, verb, int64(v[i])) })
	case []uint64:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendUint(b, verb, v[i]) })
	case []float32:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendFloat(b, verb, float64(v[i]), 32) })
	case []float64:
		return appendSlice(b, verb, len(v), func(b []byte, i int) []byte { return appendFloat(b, verb, v[i], 64) })
	}
	return bad(b, verb, "unsupported type")
}

func appendSlice(b []byte, verb byte, n int, elem func([]byte, int) []byte) []byte {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

func appendString(b []byte, verb byte, s string) []byte {
	switch verb {
	case 'v', 's':
		return append(b, s...)
	case 'q':
		return strconv.AppendQuote(b, s)
	}
	return bad(b, verb, "string="+s)
}

func appendInt(b []byte, verb byte, v int64) []byte {
	switch verb {
	case 'v', 'd':
		return strconv.AppendInt(b, v, 10)
	case 'q':
		if v >= 0 && v <= utf8.MaxRune {
			return strconv.AppendQuoteRune(b, rune(v))
		}
		return strconv.AppendQuoteRune(b, utf8.RuneError)
	}
	return bad(b, verb, "integer")
}

func appendUint(b []byte, verb byte, v uint64) []byte {
	switch verb {
	case 'v', 'd':
		return strconv.AppendUint(b, v, 10)
	case 'q':
		if v <= utf8.MaxRune {
			return strconv.AppendQuoteRune(b, rune(v))
		}
		return strconv.AppendQuoteRune(b, utf8.RuneError)
	}
	return bad(b, verb, "integer")
}

func appendFloat(b []byte, verb byte, v float64, bits int) []byte {
	if verb != 'v' {
		return bad(b, verb, "float="+strconv.FormatFloat(v, 'g', -1, bits))
	}
	return strconv.AppendFloat(b, v, 'g', -1, bits)
}
