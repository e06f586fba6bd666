package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"runtime"
	"strings"
	"testing"
)

// smallGraph is input(1) -> conv "c" (1 -> 2, 3x3, bias) -> gap -> linear "fc" (2 -> 3).
const smallGraph = `[{"name":"input","kind":"input","out":1},` +
	`{"name":"c","kind":"conv","in":1,"out":2,"kernel":3,"pad":1,"bias":true,"act":"relu"},` +
	`{"name":"gap","kind":"gap"},{"name":"fc","kind":"linear","in":2,"out":3}]`

func smallMeta() map[string]string {
	return map[string]string{"format": "octave/1", "graph": smallGraph}
}

// smallTensors lays out the four tensors of smallGraph as float32, 116 bytes.
func smallTensors() []tensorJSON {
	return []tensorJSON{
		{"c.weight", "F32", []int{2, 1, 3, 3}, 0, 72},
		{"c.bias", "F32", []int{2}, 72, 80},
		{"fc.weight", "F32", []int{3, 2}, 80, 104},
		{"fc.bias", "F32", []int{3}, 104, 116},
	}
}

func smallData() []byte {
	v := make([]float32, 29)
	for i := range v {
		v[i] = float32(i) / 10
	}
	return le32(v...)
}

// TestLoadSmall checks that the base file of the bad-file cases is valid.
func TestLoadSmall(t *testing.T) {
	m, err := Load(assemble(smallMeta(), smallTensors(), smallData()))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Params["fc.bias"].Data; got[2] != float32(28)/10 {
		t.Errorf("fc.bias = %v", got)
	}
	if _, err := m.Build(); err != nil {
		t.Fatal(err)
	}
}

// withTensor returns smallTensors with entry name changed by f (or removed
// when f returns false).
func withTensor(name string, f func(*tensorJSON) bool) []tensorJSON {
	var out []tensorJSON
	for _, t := range smallTensors() {
		if t.name == name && !f(&t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func withMeta(k, v string) map[string]string {
	m := smallMeta()
	if v == "" {
		delete(m, k)
	} else {
		m[k] = v
	}
	return m
}

// int8File makes c.weight I8 with the given scales.
func int8File(s0, s1 float32, q0 byte) []byte {
	ts := withTensor("c.weight", func(t *tensorJSON) bool { t.dtype, t.begin, t.end = "I8", 116, 134; return true })
	ts = append(ts, tensorJSON{"c.weight.scale", "F32", []int{2}, 136, 144})
	data := append(smallData(), make([]byte, 28)...)
	data[116] = q0
	copy(data[136:], le32(s0, s1))
	return assemble(smallMeta(), ts, data)
}

// TestLoadBad checks that every class of bad file gives an error that names
// what is wrong and where.
func TestLoadBad(t *testing.T) {
	valid := assemble(smallMeta(), smallTensors(), smallData())
	longHeader := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(longHeader, uint64(len(valid)))
	hugeHeader := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(hugeHeader, math.MaxUint64)
	badJSON := []byte{6, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'a', '"', ':', ' '}
	trailing := append([]byte(nil), valid...)
	hl := binary.LittleEndian.Uint64(trailing)
	trailing[8+hl-1] = 'x' // the closing brace becomes garbage

	cases := []struct {
		name string
		file []byte
		want []string // substrings of the error
	}{
		{"empty", nil, []string{"truncated", "0 bytes"}},
		{"truncated length", valid[:5], []string{"truncated", "5 bytes"}},
		{"truncated data", valid[:len(valid)-1], []string{`"fc.bias"`, "run past the data section", "file bytes"}},
		{"truncated header", valid[:20], []string{"header length", "runs past the end"}},
		{"header length beyond the file", longHeader, []string{"header length", "runs past the end"}},
		{"header length 2^64-1", hugeHeader, []string{"header length", "runs past the end"}},
		{"invalid JSON", badJSON, []string{"invalid JSON", "file byte"}},
		{"header not an object", assembleRaw(`[1,2]`, nil), []string{"not a JSON object"}},
		{"garbage after the header", trailing, []string{"invalid JSON"}},
		{"duplicate key", assembleRaw(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4)),
			[]string{`"a"`, "twice", "byte"}},
		{"unknown dtype", assemble(smallMeta(), withTensor("c.bias", func(t *tensorJSON) bool { t.dtype = "Q4"; return true }), smallData()),
			[]string{`"c.bias"`, `unknown dtype "Q4"`, "header byte"}},
		{"shape not matching its layer", assemble(smallMeta(), withTensor("c.weight", func(t *tensorJSON) bool { t.shape = []int{2, 1, 1, 9}; return true }), smallData()),
			[]string{`"c.weight"`, "[2 1 1 9]", `layer 1 "c" (conv)`, "[2 1 3 3]"}},
		{"shape not matching its bytes", assemble(smallMeta(), withTensor("c.bias", func(t *tensorJSON) bool { t.shape = []int{3}; return true }), smallData()),
			[]string{`"c.bias"`, "needs 12 bytes", "span 8"}},
		{"offsets out of range", assemble(smallMeta(), withTensor("fc.bias", func(t *tensorJSON) bool { t.begin, t.end = 112, 124; return true }), smallData()),
			[]string{`"fc.bias"`, "[112, 124]", "116 bytes"}},
		{"offsets reversed", assemble(smallMeta(), withTensor("fc.bias", func(t *tensorJSON) bool { t.begin, t.end = 116, 104; return true }), smallData()),
			[]string{`"fc.bias"`, "end before they begin"}},
		{"offsets overlapping", assemble(smallMeta(), withTensor("fc.bias", func(t *tensorJSON) bool { t.begin, t.end = 100, 112; return true }), smallData()),
			[]string{`"fc.weight"`, `"fc.bias"`, "overlap", "file bytes"}},
		{"NaN scale", int8File(float32(math.NaN()), 1, 1), []string{`"c.weight.scale"`, "element 0 is NaN", "file byte"}},
		{"Inf scale", int8File(1, float32(math.Inf(1)), 1), []string{`"c.weight.scale"`, "element 1 is +Inf", "file byte"}},
		{"negative scale", int8File(1, -1, 1), []string{`"c.weight.scale"`, "scale[1] = -1"}},
		{"int8 -128", int8File(1, 1, 0x80), []string{`"c.weight"`, "-128", "file byte"}},
		{"int8 without scale", assemble(smallMeta(), withTensor("c.weight", func(t *tensorJSON) bool { t.dtype, t.end = "I8", 18; return true }), smallData()),
			[]string{`"c.weight"`, `"c.weight.scale" is missing`}},
		{"NaN weight", assemble(smallMeta(), smallTensors(), append(le32(float32(math.NaN())), smallData()[4:]...)),
			[]string{`"c.weight"`, "element 0 is NaN", "file byte"}},
		{"negative variance", assemble(withMeta("graph", strings.Replace(smallGraph, `{"name":"gap","kind":"gap"}`, `{"name":"b","kind":"bn"},{"name":"gap","kind":"gap"}`, 1)),
			append(smallTensors(), tensorJSON{"b.weight", "F32", []int{2}, 116, 124}, tensorJSON{"b.bias", "F32", []int{2}, 124, 132},
				tensorJSON{"b.running_mean", "F32", []int{2}, 132, 140}, tensorJSON{"b.running_var", "F32", []int{2}, 140, 148}),
			append(smallData(), le32(1, 1, 0, 0, 0, 0, 1, -1)...)),
			[]string{`"b.running_var"`, "element 1 is -1", "variance", `layer 2 "b" (bn)`, "file byte"}},
		{"missing tensor", assemble(smallMeta(), withTensor("fc.bias", func(*tensorJSON) bool { return false }), smallData()),
			[]string{`missing tensor "fc.bias"`, `layer 3 "fc" (linear)`}},
		{"extra tensor", assemble(smallMeta(), append(smallTensors(), tensorJSON{"junk", "F32", []int{0}, 116, 116}), smallData()),
			[]string{`extra tensor "junk"`, "no layer"}},
		{"extra scale", assemble(smallMeta(), append(smallTensors(), tensorJSON{"c.bias.scale", "F32", []int{1}, 116, 120}), append(smallData(), 0, 0, 0, 0)),
			[]string{`extra tensor "c.bias.scale"`, "not an I8 tensor"}},
		{"unknown layer kind", assemble(withMeta("graph", strings.Replace(smallGraph, `"gap"}`, `"deconv"}`, 1)), smallTensors(), smallData()),
			[]string{"graph", `unknown layer kind "deconv"`, `"gap"`}},
		{"unknown layer field", assemble(withMeta("graph", strings.Replace(smallGraph, `"pad":1`, `"padding":1`, 1)), smallTensors(), smallData()),
			[]string{"graph", `unknown field "padding"`}},
		{"graph not JSON", assemble(withMeta("graph", "[{"), smallTensors(), smallData()), []string{"graph", "JSON"}},
		{"absurd shape", assemble(smallMeta(), append(smallTensors(), tensorJSON{"big", "F32", []int{1 << 40, 1 << 40}, 116, 116}), smallData()),
			[]string{`"big"`, "out of range"}},
		{"absurd product", assemble(smallMeta(), append(smallTensors(), tensorJSON{"big", "F32", []int{1 << 30, 1 << 30}, 116, 116}), smallData()),
			[]string{`"big"`, "too many elements"}},
		{"absurd rank", assemble(smallMeta(), append(smallTensors(), tensorJSON{"big", "F32", make([]int, 20), 116, 116}), smallData()),
			[]string{`"big"`, "20 dimensions"}},
		{"absurd layer", assemble(withMeta("graph", strings.Replace(smallGraph, `"in":1,"out":2`, `"in":1,"out":1000000000`, 1)), smallTensors(), smallData()),
			[]string{"graph", `"c"`, "out of range"}},
		{"absurd layer claimed by a tensor", assemble(withMeta("graph", strings.Replace(smallGraph, `"in":1,"out":2,"kernel":3`, `"in":60000,"out":60000,"kernel":60`, 1)),
			withTensor("c.weight", func(t *tensorJSON) bool { t.shape = []int{60000, 60000, 60, 60}; return true }), smallData()),
			[]string{`"c.weight"`, "[60000 60000 60 60]", "too many elements"}},
		{"no metadata", assemble(nil, smallTensors(), smallData()), []string{"no __metadata__"}},
		{"metadata not strings", assembleRaw(`{"__metadata__":{"format":1}}`, nil), []string{"__metadata__", "strings"}},
		{"no format", assemble(withMeta("format", ""), smallTensors(), smallData()), []string{`no "format"`}},
		{"other format", assemble(withMeta("format", "gguf"), smallTensors(), smallData()), []string{`"gguf"`, "octave/1"}},
		{"no graph", assemble(withMeta("graph", ""), smallTensors(), smallData()), []string{`no "graph"`}},
		{"labels count", assemble(withMeta("labels", `["a","b"]`), smallTensors(), smallData()), []string{"labels", "2 classes", "3 values"}},
		{"input channels", assemble(withMeta("input", `{"channels":3,"height":8,"width":8,"mean":[0,0,0],"std":[1,1,1]}`), smallTensors(), smallData()),
			[]string{"input", "3 channels", "1"}},
		{"input std zero", assemble(withMeta("input", `{"channels":1,"height":8,"width":8,"mean":[0],"std":[0]}`), smallTensors(), smallData()),
			[]string{"input", "std[0]"}},
		{"input absurd size", assemble(withMeta("input", `{"channels":1,"height":100000,"width":8,"mean":[0],"std":[1]}`), smallTensors(), smallData()),
			[]string{"input", "100000x8"}},
		{"input crop unknown", assemble(withMeta("input", `{"channels":1,"height":8,"width":8,"mean":[0],"std":[1],"crop":"top"}`), smallTensors(), smallData()),
			[]string{"input", `crop "top"`, `"center"`}},
		{"input crop without size", assemble(withMeta("input", `{"channels":1,"height":0,"width":0,"mean":[0],"std":[1],"crop":"center"}`), smallTensors(), smallData()),
			[]string{"input", `crop "center"`, "height and width"}},
		{"input resize without crop", assemble(withMeta("input", `{"channels":1,"height":8,"width":8,"mean":[0],"std":[1],"resize_shorter":10}`), smallTensors(), smallData()),
			[]string{"input", "resize_shorter 10", `crop "center"`}},
		{"input resize below crop", assemble(withMeta("input", `{"channels":1,"height":8,"width":12,"mean":[0],"std":[1],"resize_shorter":10,"crop":"center"}`), smallTensors(), smallData()),
			[]string{"input", "resize_shorter 10", "8x12 crop"}},
		{"input resize negative", assemble(withMeta("input", `{"channels":1,"height":0,"width":0,"mean":[0],"std":[1],"resize_shorter":-1}`), smallTensors(), smallData()),
			[]string{"input", "resize_shorter -1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.file)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// assembleRaw builds a file from a literal header and data.
func assembleRaw(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

// TestLoadAllocation checks that a small file cannot make the loader allocate
// much: a header that claims a huge tensor over few bytes is refused before
// anything is decoded.
func TestLoadAllocation(t *testing.T) {
	f := assemble(withMeta("graph", strings.Replace(smallGraph, `"in":1,"out":2,"kernel":3`, `"in":60000,"out":60000,"kernel":60`, 1)),
		withTensor("c.weight", func(t *tensorJSON) bool { t.shape = []int{60000, 60000, 60, 60}; t.end = 72; return true }), smallData())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Load(f); err == nil {
		t.Fatal("no error")
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("loading a %d-byte file allocated %d bytes", len(f), n)
	}
}

// TestLoadSplitMismatch checks that a tensor shaped by another channel split
// (floor(alpha*c + 1e-9) gives 63 low channels of 90 at alpha 0.7, PyTorch's
// int(alpha*c) gives 62) fails with an error that explains the split.
func TestLoadSplitMismatch(t *testing.T) {
	graph := `[{"name":"input","kind":"input","out":2},` +
		`{"name":"o","kind":"octconv","in":2,"out":90,"kernel":1,"alpha_out":0.7},` +
		`{"name":"gap","kind":"gap"},{"name":"fc","kind":"linear","in":90,"out":1}]`
	meta := map[string]string{"format": "octave/1", "graph": graph}
	// Tensors as a writer with the old split would lay them out: 27 high, 63 low.
	shapes := []struct {
		name  string
		shape []int
	}{{"o.hh.weight", []int{27, 2, 1, 1}}, {"o.hl.weight", []int{63, 2, 1, 1}}, {"fc.weight", []int{1, 90}}, {"fc.bias", []int{1}}}
	var ts []tensorJSON
	off := 0
	for _, s := range shapes {
		n := 4
		for _, d := range s.shape {
			n *= d
		}
		ts = append(ts, tensorJSON{s.name, "F32", s.shape, off, off + n})
		off += n
	}
	_, err := Load(assemble(meta, ts, make([]byte, off)))
	if err == nil {
		t.Fatal("a file split 27 + 63 loaded as alpha 0.7 of 90 channels")
	}
	for _, want := range []string{`"o.hh.weight"`, "[28 2 1 1]",
		"alpha_out 0.7 of 90 channels gives 62 low channels, int(alpha*c), and 28 high", "the tensor has 27"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
