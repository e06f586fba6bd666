package minijson

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// skipAll reads one value and the end of the input.
func skipAll(data []byte) error {
	d := NewDecoder(data, 0)
	if err := d.Skip(); err != nil {
		return err
	}
	return d.End()
}

// loneSurrogate reports whether err is the one rejection encoding/json does
// not share: a \u escape of half a surrogate pair.
func loneSurrogate(err error) bool {
	return err != nil && strings.Contains(err.Error(), "surrogate")
}

var validity = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `-12.25E-2`, `true`, `false`, `null`,
	` { "a" : [ 1 , 2 , { "b" : null } ] , "c" : "\u00e9\ud83d\ude00\n\"\\\/" } `,
	`{`, `}`, `[`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`,
	`01`, `1.`, `.5`, `1e`, `1e+`, `-`, `+1`, `0x10`, `NaN`, `Infinity`, `tru`, `nul`,
	`"a`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"\t\"", `"` + "\x01" + `"`, `[1] [2]`, `1 2`,
	`[[[[[]]]]]`, `"\ud800\udc00"`,
}

// TestValidityAsEncodingJSON: Skip accepts exactly what json.Valid accepts.
func TestValidityAsEncodingJSON(t *testing.T) {
	for _, s := range validity {
		got := skipAll([]byte(s))
		if want := json.Valid([]byte(s)); (got == nil) != want {
			t.Errorf("%q: minijson error %v, json.Valid %v", s, got, want)
		}
	}
}

func TestErrorsNameTheOffset(t *testing.T) {
	for _, c := range []struct {
		in   string
		base int
		at   int
		msg  string
	}{
		{`{"a":1,}`, 8, 15, "expected a string (an object key)"},
		{`[1, 2 x]`, 0, 6, "invalid character 'x', expected ',' or ']'"},
		{`"ab` + "\xff" + `"`, 100, 103, "invalid UTF-8"},
		{`"\ud800"`, 0, 1, "lone UTF-16 surrogate"},
		{`[1`, 0, 2, "unexpected end of JSON input"},
		{`1 2`, 0, 2, "after the JSON value"},
		{`[01]`, 0, 2, "expected ',' or ']'"},
		{strings.Repeat("[", MaxDepth+2), 0, MaxDepth + 1, "nested too deep"},
	} {
		err := func() error {
			d := NewDecoder([]byte(c.in), c.base)
			if err := d.Skip(); err != nil {
				return err
			}
			return d.End()
		}()
		var e *Error
		if !errors.As(err, &e) || e.Offset != c.at || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%.40q: %v, want %q at byte %d", c.in, err, c.msg, c.at)
		}
	}
}

func TestTypedReads(t *testing.T) {
	d := NewDecoder([]byte(`{"i":-7,"u":18446744073709551615,"f":0.1,"g":3.5e38,"b":true,"n":null,"s":"x\u0041"}`), 0)
	if err := d.ObjectStart(); err != nil {
		t.Fatal(err)
	}
	var got []any
	for {
		k, _, ok, err := d.NextKey()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		var v any
		switch k {
		case "i":
			v, err = d.Int(-10, 10)
		case "u":
			v, err = d.Uint()
		case "f":
			v, err = d.Float(32)
		case "g":
			_, err = d.Float(32)
			if err == nil {
				t.Fatal("3.5e38 fits a float32")
			}
			err = nil
			v = "skipped"
		case "b":
			v, err = d.Bool()
		case "n":
			v, err = d.Null()
		case "s":
			v, err = d.String()
		}
		if err != nil {
			t.Fatal(k, err)
		}
		got = append(got, v)
	}
	want := []any{int64(-7), uint64(math.MaxUint64), float64(float32(0.1)), "skipped", true, true, "xA"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d: %v (%T), want %v (%T)", i, got[i], got[i], want[i], want[i])
		}
	}
	for _, s := range []string{`1.5`, `1e2`, `11`, `-11`, `99999999999999999999`} {
		if _, err := NewDecoder([]byte(s), 0).Int(-10, 10); err == nil {
			t.Errorf("Int accepts %s", s)
		}
	}
	if _, err := NewDecoder([]byte(`-1`), 0).Uint(); err == nil {
		t.Error("Uint accepts -1")
	}
}

// TestWriterAsEncodingJSON: strings and floats are written as
// encoding/json.Marshal writes them.
func TestWriterAsEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "q\"b\\s/", "<a&b>", "\x00\x01\b\f\n\r\t\x1f\x7f", "é😀", "\u2028\u2029", "bad\xffutf8\xc3"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		got := AppendString(nil, s)
		if !utf8.ValidString(s) {
			// encoding/json v1 writes \ufffd, v2 (Go 1.27's default) the
			// character itself: compare what they read back as.
			var a, b string
			if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil || a != b {
				t.Errorf("AppendString(%q) = %s, encoding/json %s", s, got, want)
			}
			continue
		}
		if string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, 123456789012345678, 1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f, 64); string(got) != string(want) {
			t.Errorf("AppendFloat(%v, 64) = %s, encoding/json %s", f, got, want)
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) {
			continue
		}
		want, _ = json.Marshal(f32)
		if got := AppendFloat(nil, float64(f32), 32); string(got) != string(want) {
			t.Errorf("AppendFloat(%v, 32) = %s, encoding/json %s", f32, got, want)
		}
	}
	var w Writer
	w.BeginObject()
	w.Key("a")
	w.BeginArray()
	w.Int(1)
	w.Uint(2)
	w.Float(0.5, 64)
	w.BeginObject()
	w.EndObject()
	w.BeginArray()
	w.EndArray()
	w.EndArray()
	w.Key("b")
	w.Null()
	w.Key("c")
	w.Bool(false)
	w.Key("d")
	w.String("x")
	w.EndObject()
	if got, want := string(w.Bytes()), `{"a":[1,2,0.5,{},[]],"b":null,"c":false,"d":"x"}`; got != want || w.Err() != nil {
		t.Errorf("Writer: %s (%v), want %s", got, w.Err(), want)
	}
	w = Writer{}
	w.Float(math.NaN(), 64)
	if w.Err() == nil {
		t.Error("NaN written without an error")
	}
}

// TestWriterSlices: Strings, Ints and Float32s write what encoding/json
// writes for those slices, null for nil ones.
func TestWriterSlices(t *testing.T) {
	var w Writer
	w.BeginArray()
	w.Strings([]string{"a", "<b>"})
	w.Strings([]string{})
	w.Strings(nil)
	w.Ints([]int{1, -2})
	w.Ints([]int{})
	w.Ints(nil)
	w.Float32s([]float32{0.1, 1e-7, 3})
	w.Float32s([]float32{})
	w.Float32s(nil)
	w.EndArray()
	want, _ := json.Marshal([]any{
		[]string{"a", "<b>"}, []string{}, []string(nil),
		[]int{1, -2}, []int{}, []int(nil),
		[]float32{0.1, 1e-7, 3}, []float32{}, []float32(nil),
	})
	if got := string(w.Bytes()); got != string(want) || w.Err() != nil {
		t.Errorf("Writer slices: %s (%v), encoding/json %s", got, w.Err(), want)
	}
}

// FuzzDecoder: on arbitrary input Skip never panics and agrees with
// json.Valid (but for lone surrogates, which minijson rejects); every string
// it reads survives a write and a re-read unchanged.
func FuzzDecoder(f *testing.F) {
	for _, s := range validity {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := skipAll(data)
		if utf8.Valid(data) && !loneSurrogate(err) {
			if want := json.Valid(data); (err == nil) != want {
				t.Fatalf("%q: minijson error %v, json.Valid %v", data, err, want)
			}
		}
		if err == nil && utf8.Valid(data) {
			var v json.RawMessage // any would also check that numbers fit a float64
			if json.Unmarshal(data, &v) != nil {
				t.Fatalf("%q accepted by minijson, not by encoding/json", data)
			}
		}
		d := NewDecoder(data, 0)
		if s, err := d.String(); err == nil {
			if !utf8.ValidString(s) {
				t.Fatalf("%q read as invalid UTF-8 %q", data, s)
			}
			back, err := NewDecoder(AppendString(nil, s), 0).String()
			if err != nil || back != s {
				t.Fatalf("string %q: written and read back as %q, %v", s, back, err)
			}
			var viaJSON string
			if err := json.Unmarshal(AppendString(nil, s), &viaJSON); err != nil || viaJSON != s {
				t.Fatalf("string %q: encoding/json reads %q, %v", s, viaJSON, err)
			}
		}
	})
}
