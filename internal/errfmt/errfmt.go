// Package errfmt formats error messages like fmt.Sprintf and fmt.Errorf for
// the verbs Octave's messages use, without fmt: fmt prints any value through
// reflection, which costs the WebAssembly build hundreds of kilobytes.
//
// The verbs are %v, %d, %s, %q, %w and %%, without flags, width or precision.
// Operands may be bool, int, int64, uint64, float32, float64, string, an
// error, a value with a String method, or a []int, []int64, []uint64,
// []float32 or []string; for these the output equals fmt's. Anything else
// (kept out to keep this small) prints as %!v(unsupported type) rather than
// panicking.
package errfmt

import "strconv"

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
	case int64:
		return appendInt(b, verb, v)
	case uint64:
		return appendUint(b, verb, v)
	case float32:
		return appendFloat(b, verb, float64(v), 32)
	case float64:
		return appendFloat(b, verb, v, 64)
	case []string, []int, []int64, []uint64, []float32:
		return appendSlice(b, verb, v)
	}
	return bad(b, verb, "unsupported type")
}

// appendSlice prints a slice of one of the supported element types, the
// elements separated by spaces in brackets, as fmt does.
func appendSlice(b []byte, verb byte, v any) []byte {
	b = append(b, '[')
	switch v := v.(type) {
	case []string:
		for i, e := range v {
			b = appendSep(b, i)
			b = appendString(b, verb, e)
		}
	case []int:
		for i, e := range v {
			b = appendSep(b, i)
			b = appendInt(b, verb, int64(e))
		}
	case []int64:
		for i, e := range v {
			b = appendSep(b, i)
			b = appendInt(b, verb, e)
		}
	case []uint64:
		for i, e := range v {
			b = appendSep(b, i)
			b = appendUint(b, verb, e)
		}
	case []float32:
		for i, e := range v {
			b = appendSep(b, i)
			b = appendFloat(b, verb, float64(e), 32)
		}
	}
	return append(b, ']')
}

func appendSep(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ' ')
	}
	return b
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
	}
	return bad(b, verb, "integer")
}

func appendUint(b []byte, verb byte, v uint64) []byte {
	switch verb {
	case 'v', 'd':
		return strconv.AppendUint(b, v, 10)
	}
	return bad(b, verb, "integer")
}

func appendFloat(b []byte, verb byte, v float64, bits int) []byte {
	if verb != 'v' {
		return bad(b, verb, "float="+strconv.FormatFloat(v, 'g', -1, bits))
	}
	return strconv.AppendFloat(b, v, 'g', -1, bits)
}
