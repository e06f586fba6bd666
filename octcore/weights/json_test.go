package weights

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// jsonTags returns the JSON names of the fields of a struct type.
func jsonTags(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		if name, _, _ := strings.Cut(tag, ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestLayerJSONFields: the hand-written JSON of json.go knows every field of
// octcore.Layer and InputSpec: a value with every field set survives a write
// and a read, and is written as encoding/json writes it.
func TestLayerJSONFields(t *testing.T) {
	full := octcore.Layer{Name: "n", Kind: "k", Inputs: []string{"a", "b"}, In: 1, Out: 2, Kernel: 3, Stride: 4, Pad: 5,
		Dilation: 6, Groups: 7, AlphaIn: 0.25, AlphaOut: 0.125, Bias: true, BN: true, Eps: 1e-5, Act: "relu", Add: "x"}
	// Every field set: no zero field left for a field this test forgot.
	v := reflect.ValueOf(full)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Fatalf("field %s of the test layer is zero: set it", v.Type().Field(i).Name)
		}
	}
	g := octcore.Graph{full, {Name: "only", Kind: "relu"}}
	got, err := jsonString(g)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(g)
	if got != string(want) {
		t.Fatalf("graph JSON\n %s\nencoding/json\n %s", got, want)
	}
	for _, name := range jsonTags(reflect.TypeOf(full)) {
		if !strings.Contains(got, `"`+name+`":`) {
			t.Errorf("Layer field %q is not written", name)
		}
	}
	var back octcore.Graph
	if err := strictJSON(got, &back); err != nil || !reflect.DeepEqual(back, g) {
		t.Fatalf("read back %+v, %v", back, err)
	}

	in := InputSpec{Channels: 3, Height: 4, Width: 5, Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{1, 2, 1e-7},
		ResizeShorter: 6, Crop: CropCenter}
	for v, i := reflect.ValueOf(in), 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Fatalf("field %s of the test input is zero: set it", v.Type().Field(i).Name)
		}
	}
	got, _ = jsonString(in)
	want, _ = json.Marshal(in)
	if got != string(want) {
		t.Fatalf("input JSON %s, encoding/json %s", got, want)
	}
	for _, name := range jsonTags(reflect.TypeOf(in)) {
		if !strings.Contains(got, `"`+name+`":`) {
			t.Errorf("InputSpec field %q is not written", name)
		}
	}
	var inBack InputSpec
	if err := strictJSON(got, &inBack); err != nil || !reflect.DeepEqual(inBack, in) {
		t.Fatalf("read back %+v, %v", inBack, err)
	}
	labels := []string{"a<b", "ü", "\"q\""}
	got, _ = jsonString(labels)
	want, _ = json.Marshal(labels)
	if got != string(want) {
		t.Fatalf("labels JSON %s, encoding/json %s", got, want)
	}
}

// TestArchitecturesJSONAsEncodingJSON: every architecture's graph is written
// byte for byte as encoding/json writes it.
func TestArchitecturesJSONAsEncodingJSON(t *testing.T) {
	for _, name := range octcore.ArchNames() {
		g, err := octcore.Arch(name, octcore.ArchOptions{Alpha: 0.25, Classes: 10})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := jsonString(g)
		want, _ := json.Marshal(g)
		if got != string(want) {
			t.Errorf("%s: graph JSON differs from encoding/json's", name)
		}
	}
}

func TestStrictJSONErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		v    any
		want []string
	}{
		{`[{"name":"a","kind":"input","oot":1}]`, new(octcore.Graph), []string{`unknown field "oot"`, "byte 28", "layer 0"}},
		{`[{"name":"a","Name":"b"}]`, new(octcore.Graph), []string{`unknown field "Name"`}},
		{`[{"name":"a","name":"b"}]`, new(octcore.Graph), []string{`"name" appears twice`, "byte 13"}},
		{`[{"name":"a","in":1.5}]`, new(octcore.Graph), []string{`layer 0, field "in"`, "1.5", "byte 18"}},
		{`[{"name":"a","in":"1"}]`, new(octcore.Graph), []string{`layer 0, field "in"`, "byte 18"}},
		{`[null]`, new(octcore.Graph), []string{"layer 0", "byte 1"}},
		{`[{"name":"a"}] x`, new(octcore.Graph), []string{"after the JSON value", "byte 15"}},
		{`[{"name":"a"`, new(octcore.Graph), []string{"ends early", "12 bytes"}},
		{`{"channels":1,"mean":[1e39]}`, new(InputSpec), []string{`field "mean"[0]`, "1e39"}},
		{`{"channels":1,"size":2}`, new(InputSpec), []string{`unknown field "size"`}},
		{`["a",1]`, new([]string), []string{"label list[1]", "byte 5"}},
		{`["a\ud800"]`, new([]string), []string{"surrogate", "byte 3"}},
	} {
		err := strictJSON(c.in, c.v)
		if err == nil {
			t.Errorf("%s: accepted", c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.in, err, w)
			}
		}
	}
}

// FuzzMetadataJSON: strictJSON never panics; what it accepts encoding/json
// accepts too (strictJSON is the stricter), with the same result, and it
// survives a write and a re-read.
func FuzzMetadataJSON(f *testing.F) {
	g, _ := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5, Classes: 10})
	s, _ := jsonString(g)
	f.Add(s, uint8(0))
	f.Add(`{"channels":3,"height":8,"width":8,"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]}`, uint8(1))
	f.Add(`["a","b\u00e9"]`, uint8(2))
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		var mine, theirs any
		switch which % 3 {
		case 0:
			mine, theirs = new(octcore.Graph), new(octcore.Graph)
		case 1:
			mine, theirs = new(InputSpec), new(InputSpec)
		default:
			mine, theirs = new([]string), new([]string)
		}
		if err := strictJSON(s, mine); err != nil {
			return
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(theirs); err != nil {
			t.Fatalf("%q: accepted here, encoding/json says %v", s, err)
		}
		m, th := reflect.ValueOf(mine).Elem().Interface(), reflect.ValueOf(theirs).Elem().Interface()
		if !reflect.DeepEqual(m, th) {
			// encoding/json leaves nil where an empty list is read as empty.
			a, _ := json.Marshal(m)
			b, _ := json.Marshal(th)
			if string(a) != string(b) {
				t.Fatalf("%q: read as %+v, encoding/json reads %+v", s, m, th)
			}
		}
		out, err := jsonString(m)
		if err != nil {
			return // NaN cannot come from JSON; nothing else fails
		}
		want, _ := json.Marshal(m)
		if out != string(want) {
			t.Fatalf("%+v written as %s, encoding/json writes %s", m, out, want)
		}
	})
}
