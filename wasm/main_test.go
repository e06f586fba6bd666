//go:build js && wasm

package main

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
	"syscall/js"
	"testing"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
	"github.com/octave-project/octave/octcore/weights"
)

// testFile returns a model file of the mini architecture with random weights.
func testFile(t *testing.T, alpha float64) ([]byte, octcore.Graph, octcore.Params) {
	t.Helper()
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: alpha})
	if err != nil {
		t.Fatal(err)
	}
	ps := octcore.RandomParams(g, 3)
	var buf bytes.Buffer
	m := &weights.Model{Graph: g, Params: ps, Meta: weights.Metadata{
		Name: "mini", Labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		Input: weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0}, Std: []float32{1}},
	}}
	if err := weights.Write(&buf, m, weights.WriteOptions{DType: "float32"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), g, ps
}

func jsBytes(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

func isError(v js.Value) bool { return v.InstanceOf(js.Global().Get("Error")) }

func newAPI() (*api, js.Value) {
	a := &api{models: map[int]*model{}, next: 1, done: make(chan struct{})}
	return a, a.object()
}

func call(obj js.Value, name string, args ...any) js.Value { return obj.Call(name, args...) }

// tensorSrc is a tensor source object over the bytes of data.
func tensorSrc(data []byte, c, h, w int) map[string]any {
	return map[string]any{"kind": "tensor", "data": jsBytes(data), "channels": c, "height": h, "width": w}
}

func TestLoadClassifyMatchesNative(t *testing.T) {
	file, g, ps := testFile(t, 0.5)
	_, obj := newAPI()
	r := call(obj, "load", jsBytes(file))
	if isError(r) {
		t.Fatal(r.Get("message").String())
	}
	h := r.Get("handle").Int()
	info := r.Get("info").String()
	for _, want := range []string{`"name":"mini"`, `"alpha":0.5`, `"hh":`, `"layers":[`} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %s: %.300s", want, info)
		}
	}
	x := octcore.NewTensor(1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	res := call(obj, "classify", h, tensorSrc(floatBytes(x.Data), 1, 28, 28))
	if isError(res) {
		t.Fatal(res.Get("message").String())
	}
	got := make([]byte, res.Get("probabilities").Length())
	js.CopyBytesToGo(got, res.Get("probabilities"))

	// Native reference: the same graph and parameters, softmax written out.
	net, err := octcore.Build(g, ps)
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range out.H.Data {
		sum += math.Exp(float64(v))
	}
	p := make([]float32, len(got)/4)
	copy(floatBytes(p), got)
	if len(p) != 10 {
		t.Fatalf("%d probabilities, want 10", len(p))
	}
	for i, v := range out.H.Data {
		want := math.Exp(float64(v)) / sum
		if math.Abs(float64(p[i])-want) > 1e-5 {
			t.Errorf("p[%d] = %v, want %v", i, p[i], want)
		}
	}
}

func TestErrorsAndRecovery(t *testing.T) {
	file, _, _ := testFile(t, 0.25)
	a, obj := newAPI()
	bad := []struct {
		name string
		args []any
		want string
	}{
		{"load", []any{jsBytes([]byte("not a model"))}, "load:"},
		{"load", []any{"x"}, "must be a object"},
		{"load", nil, "got nothing"},
		{"classify", []any{7, tensorSrc(make([]byte, 4), 1, 1, 1)}, "no model with handle 7"},
		{"featureMaps", []any{1.5}, "whole number"},
		{"dispose", []any{99}, "no model with handle 99"},
	}
	for _, b := range bad {
		r := call(obj, b.name, b.args...)
		if !isError(r) || !strings.Contains(r.Get("message").String(), b.want) {
			t.Errorf("%s%v = %v, want an Error containing %q", b.name, b.args, r, b.want)
		}
	}
	h := call(obj, "load", jsBytes(file)).Get("handle").Int()
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{h, tensorSrc(make([]byte, 4*3*28*28), 3, 28, 28)}, "3 channels, the model expects 1"},
		{[]any{h, tensorSrc(make([]byte, 10), 1, 28, 28)}, "needs 784"},
		{[]any{h, tensorSrc(make([]byte, 4), 1, 0, 1)}, "whole number in 1.."},
		{[]any{h, tensorSrc(make([]byte, 4*28*28), 1, 28, 28), []any{"stem", "nope"}}, `unknown layer "nope"`},
		{[]any{h, tensorSrc(make([]byte, 4*28*28), 1, 28, 28), []any{1}}, "layers[0] must be a layer name"},
		{[]any{h, map[string]any{"kind": "bitmap"}}, `kind must be "tensor", "rgba" or "encoded", got "bitmap"`},
		{[]any{h, 5}, "argument 2 (input) must be a object"},
		{[]any{h, map[string]any{"kind": "rgba", "data": jsBytes(make([]byte, 12)), "width": 2, "height": 2}}, "need 16 RGBA bytes, got 12"},
		{[]any{h, map[string]any{"kind": "encoded", "data": jsBytes([]byte("GIF89a? no"))}}, "gif"},
		{[]any{h, map[string]any{"kind": "encoded", "data": jsBytes([]byte("hello"))}}, "unknown image format (supported: PNG, JPEG, GIF"},
		{[]any{h, map[string]any{"kind": "tensor", "data": jsBytes(make([]byte, 4*28*28)), "channels": 1, "height": 28, "width": 28,
			"low": map[string]any{"kind": "tensor"}}}, "takes no low part"},
	} {
		r := call(obj, "featureMaps", c.args...)
		if !isError(r) || !strings.Contains(r.Get("message").String(), c.want) {
			t.Errorf("featureMaps%v = %v, want an Error containing %q", c.args, r, c.want)
		}
	}

	// A panic inside a call comes back as an Error; the API still works.
	boom := export("boom", func([]js.Value) (any, error) { panic("kaboom") })
	r := boom.Invoke()
	if !isError(r) || !strings.Contains(r.Get("message").String(), "internal error: kaboom") {
		t.Fatalf("panic: got %v", r)
	}
	boom.Release()
	a.models[h].net = nil // the next call on this model panics inside octcore's receiver
	r = call(obj, "classify", h, tensorSrc(make([]byte, 4*28*28), 1, 28, 28))
	if !isError(r) || !strings.Contains(r.Get("message").String(), "internal error") {
		t.Fatalf("nil net: got %v", r)
	}
	h2 := call(obj, "load", jsBytes(file)).Get("handle").Int()
	r = call(obj, "featureMaps", h2, tensorSrc(make([]byte, 4*9*11), 1, 9, 11), []any{"stem", "stage2.conv1"})
	if isError(r) {
		t.Fatal(r.Get("message").String())
	}
	maps := r.Get("maps")
	if maps.Length() != 2 || maps.Index(1).Get("low").Get("height").Int() != 3 || maps.Index(0).Get("low").Truthy() {
		t.Errorf("feature maps of a 9x11 input: %v", js.Global().Get("JSON").Call("stringify", maps, []any{"layer", "high", "low", "channels", "height", "width"}))
	}
	if call(obj, "dispose", h2).Bool() != true || call(obj, "count").Int() != 1 {
		t.Errorf("dispose/count")
	}
}

// runNative runs x through a fresh native network of g and ps and returns
// its output vector.
func runNative(t *testing.T, g octcore.Graph, ps octcore.Params, x octcore.Feature) []float32 {
	t.Helper()
	net, err := octcore.Build(g, ps)
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.RunFeature(x)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out.H.Data...)
}

func jsFloats(t *testing.T, v js.Value) []float32 {
	t.Helper()
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	f := make([]float32, len(b)/4)
	copy(floatBytes(f), b)
	return f
}

// TestImageSources: RGBA pixels and a PNG file go through imageio.Input as
// natively; featureMaps with the output returns classify's probabilities
// and the logits of the native network.
func TestImageSources(t *testing.T) {
	file, g, ps := testFile(t, 0.5)
	_, obj := newAPI()
	h := call(obj, "load", jsBytes(file)).Get("handle").Int()
	img := image.NewNRGBA(image.Rect(0, 0, 37, 23))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + i/97)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	var enc bytes.Buffer
	if err := png.Encode(&enc, img); err != nil {
		t.Fatal(err)
	}
	in := weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0}, Std: []float32{1}}
	x, err := imageio.Input(img, in, imageio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logits := runNative(t, g, ps, octcore.Feature{H: x})
	want := append([]float32(nil), logits...)
	octcore.Softmax(want)
	for _, src := range []map[string]any{
		{"kind": "rgba", "data": jsBytes(img.Pix), "width": 37, "height": 23},
		{"kind": "encoded", "data": jsBytes(enc.Bytes())},
	} {
		r := call(obj, "classify", h, src)
		if isError(r) {
			t.Fatal(r.Get("message").String())
		}
		got := jsFloats(t, r.Get("probabilities"))
		fm := call(obj, "featureMaps", h, src, []any{"input"}, true)
		if isError(fm) {
			t.Fatal(fm.Get("message").String())
		}
		out := fm.Get("output")
		gotP, gotL := jsFloats(t, out.Get("probabilities")), jsFloats(t, out.Get("logits"))
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
				t.Errorf("%s: p[%d] = %v, native %v", src["kind"], i, got[i], want[i])
			}
			if gotP[i] != got[i] || math.Abs(float64(gotL[i]-logits[i])) > 1e-4 {
				t.Errorf("%s featureMaps output [%d]: p %v (classify %v), logit %v (native %v)", src["kind"], i, gotP[i], got[i], gotL[i], logits[i])
			}
		}
		// The "input" layer's map is the prepared input itself: 28x28.
		if m := fm.Get("maps").Index(0).Get("high"); m.Get("height").Int() != 28 || m.Get("width").Int() != 28 {
			t.Errorf("%s: input map %dx%d", src["kind"], m.Get("height").Int(), m.Get("width").Int())
		}
		// Without the output (fit), featureMaps runs at the image's own size.
		fm = call(obj, "featureMaps", h, src, []any{"input"})
		if m := fm.Get("maps").Index(0).Get("high"); m.Get("height").Int() != 23 || m.Get("width").Int() != 37 || fm.Get("output").Truthy() {
			t.Errorf("%s: own-size input map %dx%d", src["kind"], m.Get("height").Int(), m.Get("width").Int())
		}
	}
}

// TestBothOctaves: a network whose input layer has alpha_out > 0 takes a
// {high, low} tensor and computes what native RunFeature does; one part
// alone, or parts of the wrong shape, are refused saying why.
func TestBothOctaves(t *testing.T) {
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 4, AlphaOut: 0.5},
		{Name: "oct", Kind: "octconv", In: 4, Out: 6, Kernel: 3, Pad: 1, AlphaIn: 0.5, AlphaOut: 0, Bias: true},
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 6, Out: 3, Bias: true},
	}
	ps := octcore.RandomParams(g, 5)
	var buf bytes.Buffer
	if err := weights.Write(&buf, &weights.Model{Graph: g, Params: ps}, weights.WriteOptions{DType: "float32"}); err != nil {
		t.Fatal(err)
	}
	_, obj := newAPI()
	r := call(obj, "load", jsBytes(buf.Bytes()))
	if isError(r) {
		t.Fatal(r.Get("message").String())
	}
	h := r.Get("handle").Int()
	hi, lo := octcore.NewTensor(2, 7, 9), octcore.NewTensor(2, 4, 5)
	for i := range hi.Data {
		hi.Data[i] = float32(math.Sin(float64(i)))
	}
	for i := range lo.Data {
		lo.Data[i] = float32(math.Cos(float64(i)))
	}
	logits := runNative(t, g, ps, octcore.Feature{H: hi, L: lo})
	src := tensorSrc(floatBytes(hi.Data), 2, 7, 9)
	src["low"] = tensorSrc(floatBytes(lo.Data), 2, 4, 5)
	fm := call(obj, "featureMaps", h, src, nil, true)
	if isError(fm) {
		t.Fatal(fm.Get("message").String())
	}
	got := jsFloats(t, fm.Get("output").Get("logits"))
	for i := range logits {
		if d := math.Abs(float64(got[i] - logits[i])); d > 1e-5 {
			t.Errorf("logit %d = %v, native %v", i, got[i], logits[i])
		}
	}
	bad := tensorSrc(floatBytes(hi.Data), 2, 7, 9)
	bad["low"] = tensorSrc(make([]byte, 4*2*3*5), 2, 3, 5)
	for _, c := range []struct {
		src  any
		want string
	}{
		{tensorSrc(floatBytes(hi.Data), 2, 7, 9), "2 high and 2 low channels (alpha_out > 0): pass {high, low}"},
		{bad, "the low input is 3x5; a 7x9 high input needs 4x5"},
		{map[string]any{"kind": "rgba", "data": jsBytes(make([]byte, 16)), "width": 2, "height": 2}, "images cannot feed it"},
	} {
		r := call(obj, "classify", h, c.src)
		if !isError(r) || !strings.Contains(r.Get("message").String(), c.want) {
			t.Errorf("got %v, want an Error containing %q", r, c.want)
		}
	}
}
