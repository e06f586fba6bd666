//go:build js && wasm

package main

import (
	"bytes"
	"math"
	"strings"
	"syscall/js"
	"testing"

	"github.com/octave-project/octave/octcore"
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
	res := call(obj, "classify", h, jsBytes(floatBytes(x.Data)), 1, 28, 28)
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
		{"classify", []any{7, jsBytes(make([]byte, 4)), 1, 1, 1}, "no model with handle 7"},
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
		{[]any{h, jsBytes(make([]byte, 4*3*28*28)), 3, 28, 28}, "3 channels, the model expects 1"},
		{[]any{h, jsBytes(make([]byte, 10)), 1, 28, 28}, "needs 784"},
		{[]any{h, jsBytes(make([]byte, 4)), 1, 0, 1}, "whole number in 1.."},
		{[]any{h, jsBytes(make([]byte, 4*28*28)), 1, 28, 28, []any{"stem", "nope"}}, `unknown layer "nope"`},
		{[]any{h, jsBytes(make([]byte, 4*28*28)), 1, 28, 28, []any{1}}, "layers[0] must be a layer name"},
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
	r = call(obj, "classify", h, jsBytes(make([]byte, 4*28*28)), 1, 28, 28)
	if !isError(r) || !strings.Contains(r.Get("message").String(), "internal error") {
		t.Fatalf("nil net: got %v", r)
	}
	h2 := call(obj, "load", jsBytes(file)).Get("handle").Int()
	r = call(obj, "featureMaps", h2, jsBytes(make([]byte, 4*9*11)), 1, 9, 11, []any{"stem", "stage2.conv1"})
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
