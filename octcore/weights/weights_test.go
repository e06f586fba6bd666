package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// miniModel returns oct-resnet-mini at alpha 0.5 with random weights and a
// BatchNorm that is not the identity, so that folding has work to do.
func miniModel(t testing.TB, seed int64) *Model {
	t.Helper()
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5, Width: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	p := octcore.RandomParams(g, seed)
	rng := rand.New(rand.NewSource(seed))
	specs, err := octcore.ParamSpecs(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		d := p[s.Name].Data
		for i := range d {
			switch s.Role {
			case "bn.weight":
				d[i] = float32(0.5 + rng.Float64())
			case "bn.bias", "bn.running_mean", "bias":
				d[i] = float32(rng.NormFloat64() * 0.1)
			case "bn.running_var":
				d[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	labels := make([]string, 10)
	for i := range labels {
		labels[i] = fmt.Sprintf("class %d", i)
	}
	return &Model{Graph: g, Params: p, Meta: Metadata{
		Name:   "mini test",
		Labels: labels,
		Input:  InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.25}, Std: []float32{0.5}},
		Provenance: map[string]string{
			"dataset": "none (random weights)",
			"seed":    fmt.Sprint(seed),
		},
	}}
}

func randInput(seed int64, c, h, w int) *octcore.Tensor {
	rng := rand.New(rand.NewSource(seed))
	x := octcore.NewTensor(c, h, w)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

func run(t testing.TB, m *Model, x *octcore.Tensor) []float32 {
	t.Helper()
	n, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	y, err := n.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.H.Data...)
}

func encode(t testing.TB, m *Model, dt string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, m, WriteOptions{DType: dt}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRoundTripFloat32 checks that a float32 file reproduces the network
// exactly: the same graph, bit-identical parameters and outputs.
func TestRoundTripFloat32(t *testing.T) {
	m := miniModel(t, 1)
	data := encode(t, m, "float32")
	got, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Graph, m.Graph) {
		t.Errorf("graph differs after the round trip")
	}
	if !reflect.DeepEqual(got.Params, m.Params) {
		t.Errorf("parameters differ after the round trip")
	}
	want := m.Meta
	want.Format = FormatVersion
	want.DataSHA256 = dataDigest(data)
	if !reflect.DeepEqual(got.Meta, want) {
		t.Errorf("metadata: got %+v, want %+v", got.Meta, want)
	}
	x := randInput(2, 1, 28, 28)
	a, b := run(t, m, x), run(t, got, x)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("output %d: %v after the round trip, %v before", i, b[i], a[i])
		}
	}
}

// TestRoundTripInt8Weights checks every dequantized weight against the bound
// of symmetric rounding. With s = max|w_row| / 127 (computed here, not read
// from the file) every |w/s| <= 127, so rounding to the nearest integer moves
// w by at most s/2; the float32 product s*q adds at most one rounding of
// |s*q| <= 127.5 s, a relative 2^-24, so |w' - w| <= s/2 + 128 s 2^-24.
// Biases are float32 and must match the folded ones exactly.
func TestRoundTripInt8Weights(t *testing.T) {
	m := miniModel(t, 3)
	got, err := Load(encode(t, m, "int8"))
	if err != nil {
		t.Fatal(err)
	}
	fg, fp, err := FoldBN(m.Graph, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Graph, fg) {
		t.Fatalf("int8 file graph is not the folded graph")
	}
	specs, _ := octcore.ParamSpecs(fg)
	for _, s := range specs {
		w, q := fp[s.Name].Data, got.Params[s.Name].Data
		if s.Role != "weight" {
			if !reflect.DeepEqual(w, q) {
				t.Errorf("%s (%s) changed: it is stored as float32", s.Name, s.Role)
			}
			continue
		}
		rows := s.Shape[0]
		cols := len(w) / rows
		for r := 0; r < rows; r++ {
			amax := 0.0
			for _, v := range w[r*cols : (r+1)*cols] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			sc := amax / 127
			bound := sc/2 + 128*sc*math.Pow(2, -24)
			for k := r * cols; k < (r+1)*cols; k++ {
				if d := math.Abs(float64(q[k]) - float64(w[k])); d > bound {
					t.Fatalf("%s[%d]: %v dequantized from %v, error %g > bound %g", s.Name, k, q[k], w[k], d, bound)
				}
			}
		}
	}
}

// TestRoundTripInt8Linear bounds a whole network's output error: for
// input -> gap -> linear, y_o = sum_k w_ok g_k + b_o with g the channel means,
// so |y'_o - y_o| <= sum_k |w'_ok - w_ok| |g_k| <= (s_o/2) sum_k |g_k|
// (per-weight bound above), plus float32 rounding of the two sums, at most
// 2 * K * 2^-24 * sum_k |w_ok g_k| each, with K the number of terms.
func TestRoundTripInt8Linear(t *testing.T) {
	const c, classes = 16, 5
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: c},
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: c, Out: classes},
	}
	m := &Model{Graph: g, Params: octcore.RandomParams(g, 4)}
	got, err := Load(encode(t, m, ""))
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(5, c, 7, 9)
	a, b := run(t, m, x), run(t, got, x)
	// Channel means computed here, in float64.
	gm := make([]float64, c)
	for ch := 0; ch < c; ch++ {
		for _, v := range x.Channel(ch) {
			gm[ch] += float64(v)
		}
		gm[ch] /= float64(7 * 9)
	}
	w := m.Params["fc.weight"].Data
	for o := 0; o < classes; o++ {
		amax, sumG, sumWG := 0.0, 0.0, 0.0
		for k := 0; k < c; k++ {
			amax = math.Max(amax, math.Abs(float64(w[o*c+k])))
			sumG += math.Abs(gm[k])
			sumWG += math.Abs(float64(w[o*c+k]) * gm[k])
		}
		bound := amax/127/2*sumG + 4*float64(c+63)*math.Pow(2, -24)*(sumWG+amax*sumG)
		if d := math.Abs(float64(a[o]) - float64(b[o])); d > bound {
			t.Errorf("output %d: int8 %v, float32 %v: error %g > bound %g", o, b[o], a[o], d, bound)
		}
	}
}

// TestRoundTripFloat16 checks float16 weights: a normal half has 11
// significant bits, so rounding to nearest errs by at most 2^-11 relative;
// values below 2^-14 (subnormal) err by at most 2^-25 absolute.
func TestRoundTripFloat16(t *testing.T) {
	m := miniModel(t, 6)
	got, err := Load(encode(t, m, "float16"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Graph, m.Graph) {
		t.Fatal("float16 keeps the graph (BN is not folded)")
	}
	specs, _ := octcore.ParamSpecs(m.Graph)
	for _, s := range specs {
		w, h := m.Params[s.Name].Data, got.Params[s.Name].Data
		for i := range w {
			d := math.Abs(float64(w[i]) - float64(h[i]))
			if s.Role != "weight" && d != 0 {
				t.Fatalf("%s is float32 in the file but changed", s.Name)
			}
			if d > math.Max(math.Abs(float64(w[i]))*math.Pow(2, -11), math.Pow(2, -25)) {
				t.Fatalf("%s[%d]: %v -> %v", s.Name, i, w[i], h[i])
			}
		}
	}
}

// TestFoldBN compares the folded network with the original one, whose
// BatchNorm the engine applies itself.
func TestFoldBN(t *testing.T) {
	m := miniModel(t, 7)
	fg, fp, err := FoldBN(m.Graph, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range fg {
		if l.BN {
			t.Errorf("layer %d %q still has BN", i, l.Name)
		}
		if (l.Kind == "conv" || l.Kind == "octconv") && !l.Bias {
			t.Errorf("layer %d %q has no bias after folding", i, l.Name)
		}
	}
	if !m.Graph[1].BN {
		t.Fatal("FoldBN modified its input graph")
	}
	x := randInput(8, 1, 28, 28)
	a := run(t, m, x)
	b := run(t, &Model{Graph: fg, Params: fp}, x)
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > 1e-4*(1+math.Abs(float64(a[i]))) {
			t.Errorf("output %d: folded %v, original %v", i, b[i], a[i])
		}
	}
}

// TestFloat16Bits checks conversions against bit patterns from the IEEE 754
// binary16 definition.
func TestFloat16Bits(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff},           // largest finite half
		{65520, 0x7c00},           // halfway to 65536: rounds to infinity
		{1e10, 0x7c00},            // overflow
		{0.1, 0x2e66},             // 0.0999755859375
		{1.0 / (1 << 14), 0x0400}, // smallest normal
		{1.0 / (1 << 24), 0x0001}, // smallest subnormal
		{1.0 / (1 << 25), 0x0000}, // tie between 0 and 2^-24: to even
		{1.5 / (1 << 25), 0x0001}, // above the tie
		{3.0 / (1 << 25), 0x0002}, // tie between 1 and 2 ulps: to even
		{1 + 1.0/(1<<11), 0x3c00}, // tie: to even
		{1 + 3.0/(1<<11), 0x3c02}, // tie: to even (up)
		{float32(math.Inf(-1)), 0xfc00},
	}
	for _, c := range cases {
		if got := Float32ToFloat16(c.f); got != c.h {
			t.Errorf("Float32ToFloat16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	back := map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x03ff: 1023.0 / (1 << 24), 0x2e66: 0.0999755859375}
	for h, f := range back {
		if got := Float16ToFloat32(h); got != f {
			t.Errorf("Float16ToFloat32(%#04x) = %v, want %v", h, got, f)
		}
	}
	if v := Float16ToFloat32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("0x7e00 is NaN, got %v", v)
	}
	// Every finite half survives the trip back.
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 {
			continue
		}
		if got := Float32ToFloat16(Float16ToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("half %#04x -> %v -> %#04x", h, Float16ToFloat32(uint16(h)), got)
		}
	}
}

// tensorJSON describes one header entry of a hand-assembled file.
type tensorJSON struct {
	name, dtype string
	shape       []int
	begin, end  int
}

// assemble builds a file byte by byte: the length, the header JSON written
// here by hand, the data. It does not use the writer.
func assemble(meta map[string]string, ts []tensorJSON, data []byte) []byte {
	var h bytes.Buffer
	h.WriteString("{")
	if meta != nil {
		mj, _ := json.Marshal(meta)
		h.WriteString(`"__metadata__":`)
		h.Write(mj)
	}
	for i, t := range ts {
		if i > 0 || meta != nil {
			h.WriteString(",")
		}
		sj, _ := json.Marshal(t.shape)
		fmt.Fprintf(&h, `%q:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, t.name, t.dtype, sj, t.begin, t.end)
	}
	h.WriteString("}")
	out := make([]byte, 8, 8+h.Len()+len(data))
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	return append(out, data...)
}

func le32(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// handGraph is input(1) -> conv "c" (1 -> 2, 1x1, bias).
const handGraph = `[{"name":"input","kind":"input","out":1},{"name":"c","kind":"conv","in":1,"out":2,"kernel":1,"bias":true}]`

// TestHandAssembled loads a file written byte by byte in the test: an int8
// 1x1 conv with weights q = [3, -127], scales [0.5, 0.25] and bias
// [1, -1]. Channel o of the output is scale[o]*q[o]*x + bias[o]:
// 1.5x + 1 and -31.75x - 1.
func TestHandAssembled(t *testing.T) {
	var data []byte
	data = append(data, le32(1, -1)...)        // c.bias        [0, 8)
	data = append(data, le32(0.5, 0.25)...)    // c.weight.scale [8, 16)
	data = append(data, 3, byte(0x81))         // c.weight I8 3, -127 [16, 18)
	data = append(data, []byte("padding!")...) // unreferenced bytes are allowed
	f := assemble(map[string]string{
		"format": "octave/1",
		"graph":  handGraph,
		"input":  `{"channels":1,"height":1,"width":2,"mean":[0],"std":[1]}`,
		"name":   "hand",
		"author": "the test",
	}, []tensorJSON{
		{"c.bias", "F32", []int{2}, 0, 8},
		{"c.weight.scale", "F32", []int{2}, 8, 16},
		{"c.weight", "I8", []int{2, 1, 1, 1}, 16, 18},
	}, data)
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Name != "hand" || m.Meta.Provenance["author"] != "the test" || m.Meta.Input.Width != 2 {
		t.Errorf("metadata: %+v", m.Meta)
	}
	x, _ := octcore.TensorFrom(1, 1, 2, []float32{2, -4})
	y := run(t, m, x)
	want := []float32{1.5*2 + 1, 1.5*-4 + 1, -31.75*2 - 1, -31.75*-4 - 1}
	if !reflect.DeepEqual(y, want) {
		t.Errorf("output %v, want %v", y, want)
	}
}

// TestWriteBad checks that Write refuses what Load would refuse.
func TestWriteBad(t *testing.T) {
	bad := func(f func(m *Model)) error {
		m := miniModel(t, 11)
		f(m)
		return Write(io.Discard, m, WriteOptions{DType: "float32"})
	}
	cases := []struct {
		name string
		f    func(m *Model)
		want string
	}{
		{"missing", func(m *Model) { delete(m.Params, "fc.bias") }, `missing parameter "fc.bias"`},
		{"extra", func(m *Model) { m.Params["x"] = &octcore.Param{Shape: []int{1}, Data: []float32{1}} }, `"x"`},
		{"shape", func(m *Model) { m.Params["fc.bias"].Shape = []int{5, 2} }, `"fc.bias" has shape [5 2]`},
		{"NaN", func(m *Model) { m.Params["stem.weight"].Data[3] = float32(math.NaN()) }, "element 3 is NaN"},
		{"variance", func(m *Model) { m.Params["stem.bn.running_var"].Data[1] = -1 }, "variance"},
		{"reserved", func(m *Model) { m.Meta.Provenance["graph"] = "x" }, `"graph" is reserved`},
		{"input", func(m *Model) { m.Meta.Input.Channels = 3 }, "3 channels"},
		{"dtype", func(m *Model) {}, ""},
	}
	for _, c := range cases {
		err := bad(c.f)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if err := Write(io.Discard, miniModel(t, 1), WriteOptions{DType: "int4"}); err == nil || !strings.Contains(err.Error(), "int4") {
		t.Errorf("dtype int4: %v", err)
	}
}
