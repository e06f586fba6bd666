package errfmt

import (
	"errors"
	"fmt"
	"io"
	"math"
	"testing"
)

type stringer struct{ a, b int }

func (s stringer) String() string { return fmt.Sprintf("%dx%d", s.a, s.b) }

type kind int

func (k kind) String() string { return [...]string{"zero", "one"}[k] }

// TestSameAsFmt checks that every supported verb and operand prints as fmt
// prints it.
func TestSameAsFmt(t *testing.T) {
	err := errors.New("boom")
	cases := []struct {
		format string
		args   []any
	}{
		{"plain", nil},
		{"100%% sure", nil},
		{"layer %d %q (%s): %s", []any{3, "conv\"1", "octconv", "bad"}},
		{"%v %v %v %v %v", []any{0.5, float32(0.1), 1e21, 1e-7, -0.0}},
		{"%v %v %v %v", []any{math.Inf(1), math.Inf(-1), math.NaN(), float32(math.Inf(1))}},
		{"%v %v %v", []any{123456789.0, 1e20, float32(3.4028235e38)}},
		{"%v %d %v %d", []any{int64(-5), uint64(1 << 63), 0, -1}},
		{"%v %d %q %s", []any{[]int{1, 2}, []int{}, []string{"a", "b\n"}, []string{"x", "y"}}},
		{"%v %v %v", []any{[]int64{-1, 2}, []uint64{3}, []float32{0.25, 1e-9, float32(math.NaN())}}},
		{"%v %s %q", []any{stringer{1, 2}, stringer{3, 4}, stringer{5, 6}}},
		{"%v %s %q", []any{err, err, err}},
		{"%s", []any{kind(1)}},
		{"%v %v", []any{true, false}},
		{"%q %q", []any{"ü\x00\xff", "\u2028"}},
		{"%v", []any{nil}},
		{"%v", []any{[]string(nil)}},
		{"%q", []any{[]string{}}},
		{"%d", []any{[]int(nil)}},
	}
	for _, c := range cases {
		want := fmt.Sprintf(c.format, c.args...)
		if got := Sprintf(c.format, c.args...); got != want {
			t.Errorf("Sprintf(%q): %q, fmt says %q", c.format, got, want)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	inner := fmt.Errorf("inner: %w", io.ErrUnexpectedEOF)
	err := Errorf("load: %d bytes: %w", 7, inner)
	if got, want := err.Error(), fmt.Errorf("load: %d bytes: %w", 7, inner).Error(); got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal("errors.Is does not see through %w")
	}
	if errors.Unwrap(Errorf("no wrap %v", inner)) != nil {
		t.Fatal("a v-verb operand is wrapped")
	}
	if errors.Is(Errorf("no wrap %v", inner), io.ErrUnexpectedEOF) {
		t.Fatal("a v-verb operand is wrapped")
	}
	two := Errorf("%w and %%w and %w", io.EOF, io.ErrClosedPipe)
	if !errors.Is(two, io.EOF) || !errors.Is(two, io.ErrClosedPipe) {
		t.Fatal("two %w operands")
	}
}

// TestBadCallsDoNotPanic: misuse prints a marker, as fmt does, and never panics.
func TestBadCallsDoNotPanic(t *testing.T) {
	for _, c := range []struct {
		format string
		args   []any
		want   string
	}{
		{"%d", nil, "%!d(MISSING)"},
		{"x", []any{1, "a"}, "x%!(EXTRA 1, a)"},
		{"%", nil, "%!(NOVERB)"},
		{"%x", []any{1}, "%!x(unsupported verb)"},
		{"%v", []any{struct{}{}}, "%!v(unsupported type)"},
		{"%v", []any{int32(1)}, "%!v(unsupported type)"},
		{"%q", []any{65}, "%!q(integer)"},
		{"%w", []any{"s"}, "%!w(not an error)"},
		{"%d", []any{"s"}, "%!d(string=s)"},
	} {
		if got := Sprintf(c.format, c.args...); got != c.want {
			t.Errorf("Sprintf(%q, %v) = %q, want %q", c.format, c.args, got, c.want)
		}
	}
	_ = Errorf("%w %w", nil, 3).Error()
}

// FuzzSameAsFmt compares with fmt on arbitrary formats over a fixed set of
// supported operands whenever the format uses only supported verbs.
func FuzzSameAsFmt(f *testing.F) {
	f.Add("a %d b %q c %v %s", "x", int64(3), 0.5)
	f.Add("%v%v%%%q", "\xff", int64(-1), math.Inf(1))
	f.Fuzz(func(t *testing.T, format, s string, i int64, x float64) {
		args := []any{s, i, x, []int{int(i), 2}, float32(x), []string{s}, stringer{1, 2}}
		n := 0
		for k := 0; k < len(format); k++ {
			if format[k] != '%' {
				continue
			}
			k++
			if k == len(format) {
				return
			}
			switch format[k] {
			case '%':
				continue
			case 'v':
			case 's', 'q':
				if n == 1 || n == 2 || n == 3 || n == 4 {
					return
				}
			case 'd':
				if n != 1 && n != 3 {
					return
				}
			default:
				return
			}
			n++
		}
		if n > len(args) {
			return
		}
		args = args[:n]
		if got, want := Sprintf(format, args...), fmt.Sprintf(format, args...); got != want {
			t.Fatalf("Sprintf(%q, %v) = %q, fmt says %q", format, args, got, want)
		}
	})
}
