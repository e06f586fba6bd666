package weights

import (
	"math"

	"github.com/octave-project/octave/internal/errfmt"
	"github.com/octave-project/octave/internal/minijson"
	"github.com/octave-project/octave/octcore"
)

// This file reads and writes the JSON of a model file with minijson rather
// than encoding/json, which would cost the WebAssembly build about half a
// megabyte. Keys match exactly (encoding/json would also accept other case);
// unknown keys of the metadata values, duplicate keys and null in place of an
// array element are errors. TestLayerJSONFields keeps the field lists here in
// step with the json tags of octcore.Layer and InputSpec.

func errorf(format string, args ...any) error { return errfmt.Errorf(format, args...) }

func sprintf(format string, args ...any) string { return errfmt.Sprintf(format, args...) }

// jsonErr returns a minijson error at offset at (of the decoder's input).
func jsonErr(at int, msg string) error { return &minijson.Error{Offset: at, Msg: msg} }

// within prefixes the message of a minijson error with ctx, keeping its
// offset.
func within(ctx string, err error) error {
	if e, ok := err.(*minijson.Error); ok {
		return &minijson.Error{Offset: e.Offset, Msg: ctx + ": " + e.Msg}
	}
	return err
}

// dupKey is a key that appears twice in one object: valid JSON, but
// ambiguous, so an error here.
type dupKey struct {
	what, key string
	at        int
}

func (e *dupKey) Error() string {
	return sprintf("%s: key %q appears twice (byte %d)", e.what, e.key, e.at)
}

// object reads an object whose keys must be distinct, calling field for
// each; field reads the value.
func object(d *minijson.Decoder, what string, field func(key string, at int) error) error {
	if err := d.ObjectStart(); err != nil {
		return within(what, err)
	}
	seen := map[string]bool{}
	for {
		k, at, ok, err := d.NextKey()
		if err != nil {
			return within(what, err)
		}
		if !ok {
			return nil
		}
		if seen[k] {
			return &dupKey{what, k, at}
		}
		seen[k] = true
		if err := field(k, at); err != nil {
			return err
		}
	}
}

// array reads an array, calling elem for each element.
func array(d *minijson.Decoder, what string, elem func(i int) error) error {
	if err := d.ArrayStart(); err != nil {
		return within(what, err)
	}
	for i := 0; ; i++ {
		ok, err := d.NextElem()
		if err != nil {
			return within(what, err)
		}
		if !ok {
			return nil
		}
		if err := elem(i); err != nil {
			return err
		}
	}
}

// Typed field readers: null leaves the zero value, as encoding/json does.

func readString(d *minijson.Decoder, what string, v *string) error {
	if null, err := d.Null(); null || err != nil {
		return within(what, err)
	}
	s, err := d.String()
	*v = s
	return within(what, err)
}

func readInt(d *minijson.Decoder, what string, v *int) error {
	if null, err := d.Null(); null || err != nil {
		return within(what, err)
	}
	n, err := d.Int(math.MinInt, math.MaxInt)
	*v = int(n)
	return within(what, err)
}

func readFloat(d *minijson.Decoder, what string, v *float64) error {
	if null, err := d.Null(); null || err != nil {
		return within(what, err)
	}
	f, err := d.Float(64)
	*v = f
	return within(what, err)
}

func readBool(d *minijson.Decoder, what string, v *bool) error {
	if null, err := d.Null(); null || err != nil {
		return within(what, err)
	}
	b, err := d.Bool()
	*v = b
	return within(what, err)
}

func readStrings(d *minijson.Decoder, what string, v *[]string) error {
	if null, err := d.Null(); null || err != nil {
		return within(what, err)
	}
	out := []string{}
	err := array(d, what, func(i int) error {
		s, err := d.String()
		out = append(out, s)
		return within(sprintf("%s[%d]", what, i), err)
	})
	*v = out
	return err
}

func readFloat32s(d *minijson.Decoder, what string, v *[]float32) error {
	if null, err := d.Null(); null || err != nil {
		return within(what, err)
	}
	out := []float32{}
	err := array(d, what, func(i int) error {
		f, err := d.Float(32)
		out = append(out, float32(f))
		return within(sprintf("%s[%d]", what, i), err)
	})
	*v = out
	return err
}

// readGraph reads the JSON list of layers.
func readGraph(d *minijson.Decoder, g *octcore.Graph) error {
	out := octcore.Graph{}
	err := array(d, "the layer list", func(i int) error {
		var l octcore.Layer
		what := sprintf("layer %d", i)
		err := object(d, what, func(k string, at int) error {
			f := sprintf("layer %d, field %q", i, k)
			switch k {
			case "name":
				return readString(d, f, &l.Name)
			case "kind":
				return readString(d, f, &l.Kind)
			case "inputs":
				return readStrings(d, f, &l.Inputs)
			case "in":
				return readInt(d, f, &l.In)
			case "out":
				return readInt(d, f, &l.Out)
			case "kernel":
				return readInt(d, f, &l.Kernel)
			case "stride":
				return readInt(d, f, &l.Stride)
			case "pad":
				return readInt(d, f, &l.Pad)
			case "dilation":
				return readInt(d, f, &l.Dilation)
			case "groups":
				return readInt(d, f, &l.Groups)
			case "alpha_in":
				return readFloat(d, f, &l.AlphaIn)
			case "alpha_out":
				return readFloat(d, f, &l.AlphaOut)
			case "bias":
				return readBool(d, f, &l.Bias)
			case "bn":
				return readBool(d, f, &l.BN)
			case "eps":
				return readFloat(d, f, &l.Eps)
			case "act":
				return readString(d, f, &l.Act)
			case "add":
				return readString(d, f, &l.Add)
			}
			return jsonErr(at, sprintf("%s: unknown field %q", what, k))
		})
		out = append(out, l)
		return err
	})
	*g = out
	return err
}

// readInput reads an InputSpec.
func readInput(d *minijson.Decoder, s *InputSpec) error {
	return object(d, "the input object", func(k string, at int) error {
		f := sprintf("field %q", k)
		switch k {
		case "channels":
			return readInt(d, f, &s.Channels)
		case "height":
			return readInt(d, f, &s.Height)
		case "width":
			return readInt(d, f, &s.Width)
		case "mean":
			return readFloat32s(d, f, &s.Mean)
		case "std":
			return readFloat32s(d, f, &s.Std)
		case "resize_shorter":
			return readInt(d, f, &s.ResizeShorter)
		case "crop":
			return readString(d, f, &s.Crop)
		}
		return jsonErr(at, sprintf("unknown field %q of the input object", k))
	})
}

// strictJSON decodes s, the JSON of a metadata value, into v: an
// *octcore.Graph, an *InputSpec or a *[]string. It refuses unknown fields and
// trailing data; errors name the byte offset within s.
func strictJSON(s string, v any) error {
	d := minijson.NewDecoder([]byte(s), 0)
	var err error
	switch v := v.(type) {
	case *octcore.Graph:
		err = readGraph(d, v)
	case *InputSpec:
		err = readInput(d, v)
	case *[]string:
		err = readStrings(d, "the label list", v)
	default:
		return errorf("strictJSON: unsupported type") // a bug of this package
	}
	if err == nil {
		err = d.End()
	}
	if dup, ok := err.(*dupKey); ok {
		return errorf("%s: key %q appears twice (byte %d of the value)", dup.what, dup.key, dup.at)
	}
	if e, ok := err.(*minijson.Error); ok {
		if e.Offset >= len(s) {
			return errorf("invalid JSON: the value ends early (%d bytes): %s", len(s), e.Msg)
		}
		return errorf("invalid JSON at byte %d of the value: %s", e.Offset, e.Msg)
	}
	return err
}

// jsonString returns v as compact JSON, as encoding/json.Marshal would write
// it: v is an octcore.Graph, an InputSpec or a []string.
func jsonString(v any) (string, error) {
	var w minijson.Writer
	switch v := v.(type) {
	case octcore.Graph:
		writeGraph(&w, v)
	case InputSpec:
		w.BeginObject()
		w.Key("channels")
		w.Int(int64(v.Channels))
		w.Key("height")
		w.Int(int64(v.Height))
		w.Key("width")
		w.Int(int64(v.Width))
		w.Key("mean")
		w.Float32s(v.Mean)
		w.Key("std")
		w.Float32s(v.Std)
		if v.ResizeShorter != 0 {
			w.Key("resize_shorter")
			w.Int(int64(v.ResizeShorter))
		}
		if v.Crop != "" {
			w.Key("crop")
			w.String(v.Crop)
		}
		w.EndObject()
	case []string:
		w.Strings(v)
	default:
		return "", errorf("jsonString: unsupported type") // a bug of this package
	}
	return string(w.Bytes()), w.Err()
}

// writeGraph writes g with the omitempty rules of octcore.Layer's tags.
func writeGraph(w *minijson.Writer, g octcore.Graph) {
	if g == nil {
		w.Null()
		return
	}
	w.BeginArray()
	for i := range g {
		l := &g[i]
		w.BeginObject()
		w.Key("name")
		w.String(l.Name)
		w.Key("kind")
		w.String(l.Kind)
		if len(l.Inputs) > 0 {
			w.Key("inputs")
			w.Strings(l.Inputs)
		}
		for _, f := range [...]struct {
			k string
			v int
		}{{"in", l.In}, {"out", l.Out}, {"kernel", l.Kernel}, {"stride", l.Stride}, {"pad", l.Pad}, {"dilation", l.Dilation}, {"groups", l.Groups}} {
			if f.v != 0 {
				w.Key(f.k)
				w.Int(int64(f.v))
			}
		}
		if l.AlphaIn != 0 {
			w.Key("alpha_in")
			w.Float(l.AlphaIn, 64)
		}
		if l.AlphaOut != 0 {
			w.Key("alpha_out")
			w.Float(l.AlphaOut, 64)
		}
		if l.Bias {
			w.Key("bias")
			w.Bool(true)
		}
		if l.BN {
			w.Key("bn")
			w.Bool(true)
		}
		if l.Eps != 0 {
			w.Key("eps")
			w.Float(l.Eps, 64)
		}
		if l.Act != "" {
			w.Key("act")
			w.String(l.Act)
		}
		if l.Add != "" {
			w.Key("add")
			w.String(l.Add)
		}
		w.EndObject()
	}
	w.EndArray()
}
