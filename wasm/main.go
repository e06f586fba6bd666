//go:build js && wasm

// Command wasm is Octave compiled to WebAssembly: thin syscall/js bindings
// over octcore, used by web/octave.js. Build it with cmd/buildwasm.
//
// On start it publishes one object on globalThis under the name given as its
// first argument ("__octave" without one) and keeps running until exit() is
// called. Every function of that object is synchronous and never throws: it
// returns its result, or a JavaScript Error that says what was wrong. A Go
// panic inside a call is recovered and returned as an Error too; the instance
// stays usable.
//
//	simd                                boolean: the build uses SIMD128 kernels
//	load(bytes: Uint8Array)             {handle: number, info: string (JSON)}
//	classify(handle, src)               {probabilities: Uint8Array (float32 bytes), ms}
//	featureMaps(handle, src, layers?: string[], output?: boolean)
//	                                    {ms, maps: [{layer, kind, ms, high, low}], output?},
//	                                    high/low {channels, height, width, offset, length} or null;
//	                                    output {logits, probabilities} (float32 bytes) when asked
//	dispose(handle)                     true, or an Error for an unknown handle
//	count()                             the number of loaded models
//	exit()                              ends the program
//
// src is the input, one of
//
//	{kind: "tensor", data, channels, height, width, low?: {data, channels, height, width}}
//	    values already normalized, float32 little-endian bytes in a Uint8Array;
//	    low is the low-frequency part, for a model whose input layer has alpha_out > 0
//	{kind: "rgba", data, width, height, fit?, size?, longer?}
//	    pixels as ImageData holds them (Uint8Array, 4 bytes a pixel, not premultiplied)
//	{kind: "encoded", data, fit?, size?, longer?}
//	    an image file (PNG, JPEG, GIF), decoded here
//
// Images become the input through octcore/imageio, as in the CLI and the HTTP
// server: with fit, the model's input size and preprocessing (imageio.Input);
// without, their own size. size {width, height} stretches to that size
// instead; longer scales the longer side for models that take any size.
package main

import (
	"errors"
	"image"
	"os"
	"runtime"
	"slices"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
)

// api holds the loaded models by handle.
type api struct {
	models map[int]*model
	next   int
	done   chan struct{}
}

func main() {
	key := "__octave"
	if len(os.Args) > 1 && os.Args[1] != "" {
		key = os.Args[1]
	}
	a := &api{models: map[int]*model{}, next: 1, done: make(chan struct{})}
	obj := a.object()
	js.Global().Set(key, obj)
	<-a.done
	js.Global().Delete(key)
}

// object builds the JavaScript object of the API.
func (a *api) object() js.Value {
	obj := js.Global().Get("Object").New()
	obj.Set("simd", octcore.SIMD)
	obj.Set("load", export("load", a.load))
	obj.Set("classify", export("classify", a.classify))
	obj.Set("featureMaps", export("featureMaps", a.featureMaps))
	obj.Set("dispose", export("dispose", a.dispose))
	obj.Set("count", export("count", func(args []js.Value) (any, error) { return len(a.models), nil }))
	obj.Set("exit", export("exit", func(args []js.Value) (any, error) {
		select {
		case <-a.done:
		default:
			close(a.done)
		}
		return true, nil
	}))
	return obj
}

// export wraps f as a JavaScript function that returns f's result or an
// Error, recovering any panic.
func export(name string, f func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				ret = jsError(errorf("%s: internal error: %v", name, r))
				// A panic can leave large temporaries behind: collect them now.
				// (debug.FreeOSMemory would do no more: wasm memory never
				// shrinks, and runtime/debug would pull fmt into this binary.)
				runtime.GC()
			}
		}()
		v, err := f(args)
		if err != nil {
			return jsError(errorf("%s: %w", name, err))
		}
		return v
	})
}

func jsError(err error) js.Value {
	return js.Global().Get("Error").New(err.Error())
}

// arg checks that args has an i-th value of JavaScript type t.
func arg(args []js.Value, i int, what string, t js.Type) (js.Value, error) {
	if i >= len(args) || args[i].Type() != t {
		got := "nothing"
		if i < len(args) {
			got = args[i].Type().String()
		}
		return js.Value{}, errorf("argument %d (%s) must be a %s, got %s", i+1, what, t, got)
	}
	return args[i], nil
}

// intArg reads the i-th argument as a whole number in [lo, hi].
func intArg(args []js.Value, i int, what string, lo, hi int) (int, error) {
	v, err := arg(args, i, what, js.TypeNumber)
	if err != nil {
		return 0, err
	}
	f := v.Float()
	if f != float64(int(f)) || int(f) < lo || int(f) > hi {
		return 0, errorf("argument %d (%s) must be a whole number in %d..%d, got %v", i+1, what, lo, hi, f)
	}
	return int(f), nil
}

// bytesArg reads the i-th argument, a Uint8Array.
func bytesArg(args []js.Value, i int, what string) (js.Value, int, error) {
	v, err := arg(args, i, what, js.TypeObject)
	if err != nil {
		return js.Value{}, 0, err
	}
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return js.Value{}, 0, errorf("argument %d (%s) must be a Uint8Array", i+1, what)
	}
	return v, v.Get("length").Int(), nil
}

func (a *api) model(args []js.Value) (*model, int, error) {
	h, err := intArg(args, 0, "model handle", 1, 1<<30)
	if err != nil {
		return nil, 0, err
	}
	m, ok := a.models[h]
	if !ok {
		return nil, h, errorf("no model with handle %d: it was disposed or never loaded", h)
	}
	return m, h, nil
}

func (a *api) load(args []js.Value) (any, error) {
	v, n, err := bytesArg(args, 0, "model file")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("the model file is empty")
	}
	data := make([]byte, n)
	js.CopyBytesToGo(data, v)
	m, err := loadModel(data)
	if err != nil {
		return nil, err
	}
	return a.add(m)
}

// add registers m and returns its handle and description.
func (a *api) add(m *model) (any, error) {
	info, err := m.infoJSON()
	if err != nil {
		return nil, err
	}
	h := a.next
	a.next++
	a.models[h] = m
	return map[string]any{"handle": h, "info": info}, nil
}

// modelInput reads (handle, src) from args[0:2]: the model and its input.
func (a *api) modelInput(args []js.Value, fit bool) (*model, octcore.Feature, error) {
	m, _, err := a.model(args)
	if err != nil {
		return nil, octcore.Feature{}, err
	}
	src, err := arg(args, 1, "input", js.TypeObject)
	if err != nil {
		return nil, octcore.Feature{}, err
	}
	x, err := m.source(src, fit)
	return m, x, err
}

// source turns a src object (see the package comment) into the network's
// input.
func (m *model) source(src js.Value, fit bool) (octcore.Feature, error) {
	kind := src.Get("kind")
	if kind.Type() != js.TypeString {
		return octcore.Feature{}, errorf("the input's kind must be \"tensor\", \"rgba\" or \"encoded\", got %s", kind.Type())
	}
	if f := src.Get("fit"); f.Type() == js.TypeBoolean {
		fit = f.Bool()
	}
	switch k := kind.String(); k {
	case "tensor":
		return m.tensorSource(src)
	case "rgba", "encoded":
		if cH, cL := m.net.InputSplit(); cL > 0 {
			return octcore.Feature{}, errorf("the model's input layer takes %d high and %d low channels (alpha_out > 0): images cannot feed it, pass a {high, low} tensor", cH, cL)
		}
		data, n, err := bytesField(src, "data", "the input's data")
		if err != nil {
			return octcore.Feature{}, err
		}
		if n == 0 {
			return octcore.Feature{}, errorf("the input's data is empty")
		}
		m.pix = slices.Grow(m.pix[:0], n)[:n]
		js.CopyBytesToGo(m.pix, data)
		var img image.Image
		if k == "rgba" {
			w, err := intField(src, "width", 1, imageio.MaxSide)
			if err != nil {
				return octcore.Feature{}, err
			}
			h, err := intField(src, "height", 1, imageio.MaxSide)
			if err != nil {
				return octcore.Feature{}, err
			}
			if img, err = imageio.Pixels(m.pix, w, h); err != nil {
				return octcore.Feature{}, err
			}
		} else if img, _, err = imageio.Decode(m.pix); err != nil {
			return octcore.Feature{}, err
		}
		var o imageio.Options
		if sz := src.Get("size"); sz.Truthy() {
			if o.Width, err = intField(sz, "width", 1, imageio.MaxSide); err != nil {
				return octcore.Feature{}, errorf("size: %w", err)
			}
			if o.Height, err = intField(sz, "height", 1, imageio.MaxSide); err != nil {
				return octcore.Feature{}, errorf("size: %w", err)
			}
		}
		if l := src.Get("longer"); l.Truthy() {
			if o.Longer, err = intField(src, "longer", 1, imageio.MaxSide); err != nil {
				return octcore.Feature{}, err
			}
		}
		in := m.info.Input
		if !fit { // the image's own size (or the caller's), the model's channels and normalization
			in.Height, in.Width, in.ResizeShorter, in.Crop = 0, 0, 0, ""
		}
		x, err := imageio.Input(img, in, o)
		if err != nil {
			return octcore.Feature{}, err
		}
		return octcore.Feature{H: x}, nil
	default:
		return octcore.Feature{}, errorf("the input's kind must be \"tensor\", \"rgba\" or \"encoded\", got %q", k)
	}
}

// tensorSource reads a tensor input: its high part straight into the
// network's input buffer, its low part (if any) into a tensor of its own.
func (m *model) tensorSource(src js.Value) (octcore.Feature, error) {
	cH, cL := m.net.InputSplit()
	lowV := src.Get("low")
	hasLow := lowV.Truthy()
	if cL > 0 && !hasLow {
		return octcore.Feature{}, errorf("the model's input layer takes %d high and %d low channels (alpha_out > 0): pass {high, low}", cH, cL)
	}
	if cL == 0 && hasLow {
		return octcore.Feature{}, errorf("the model's input layer takes no low part (alpha_out = 0): pass one tensor")
	}
	c, h, w, v, err := tensorFields(src, "")
	if err != nil {
		return octcore.Feature{}, err
	}
	if c != cH {
		if hasLow {
			return octcore.Feature{}, errorf("the high input has %d channels, the model expects %d", c, cH)
		}
		return octcore.Feature{}, errorf("the input has %d channels, the model expects %d", c, cH)
	}
	x, err := m.input(c, h, w)
	if err != nil {
		return octcore.Feature{}, err
	}
	js.CopyBytesToGo(floatBytes(x.Data), v)
	f := octcore.Feature{H: x}
	if hasLow {
		c, lh, lw, v, err := tensorFields(lowV, "low ")
		if err != nil {
			return octcore.Feature{}, err
		}
		if c != cL {
			return octcore.Feature{}, errorf("the low input has %d channels, the model expects %d", c, cL)
		}
		if lh != (h+1)/2 || lw != (w+1)/2 {
			return octcore.Feature{}, errorf("the low input is %dx%d; a %dx%d high input needs %dx%d (half, rounded up)", lh, lw, h, w, (h+1)/2, (w+1)/2)
		}
		f.L = octcore.NewTensor(c, lh, lw)
		js.CopyBytesToGo(floatBytes(f.L.Data), v)
	}
	return f, nil
}

// tensorFields reads {data, channels, height, width} and checks the size.
func tensorFields(t js.Value, what string) (c, h, w int, data js.Value, err error) {
	if t.Type() != js.TypeObject {
		return 0, 0, 0, js.Value{}, errorf("the %sinput must be an object, got %s", what, t.Type())
	}
	if c, err = intField(t, "channels", 1, 1<<16); err == nil {
		if h, err = intField(t, "height", 1, 1<<16); err == nil {
			w, err = intField(t, "width", 1, 1<<16)
		}
	}
	if err != nil {
		return 0, 0, 0, js.Value{}, errorf("%sinput: %w", what, err)
	}
	data, n, err := bytesField(t, "data", "the "+what+"input's data")
	if err != nil {
		return 0, 0, 0, js.Value{}, err
	}
	if n != 4*c*h*w {
		return 0, 0, 0, js.Value{}, errorf("the %sinput holds %d float32 values (%d bytes), a %dx%dx%d tensor needs %d", what, n/4, n, c, h, w, c*h*w)
	}
	return c, h, w, data, nil
}

// intField reads o[name] as a whole number in [lo, hi].
func intField(o js.Value, name string, lo, hi int) (int, error) {
	v := o.Get(name)
	if v.Type() != js.TypeNumber {
		return 0, errorf("%s must be a number, got %s", name, v.Type())
	}
	f := v.Float()
	if f != float64(int(f)) || int(f) < lo || int(f) > hi {
		return 0, errorf("%s must be a whole number in %d..%d, got %v", name, lo, hi, f)
	}
	return int(f), nil
}

// bytesField reads o[name], a Uint8Array.
func bytesField(o js.Value, name, what string) (js.Value, int, error) {
	v := o.Get(name)
	if v.Type() != js.TypeObject || !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return js.Value{}, 0, errorf("%s must be a Uint8Array, got %s", what, v.Type())
	}
	return v, v.Get("length").Int(), nil
}

func (a *api) classify(args []js.Value) (any, error) {
	m, x, err := a.modelInput(args, true)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := m.net.RunFeature(x); err != nil {
		return nil, err
	}
	el := time.Since(t0)
	_, p, err := m.scores()
	if err != nil {
		return nil, err
	}
	return map[string]any{"probabilities": toJS(p), "ms": ms(el)}, nil
}

func (a *api) featureMaps(args []js.Value) (any, error) {
	output := len(args) > 3 && args[3].Truthy()
	// With the output, images are prepared as for classify.
	m, x, err := a.modelInput(args, output)
	if err != nil {
		return nil, err
	}
	var names []string
	if len(args) > 2 && !args[2].IsUndefined() && !args[2].IsNull() {
		l := args[2]
		if !l.InstanceOf(js.Global().Get("Array")) {
			return nil, errorf("argument 3 (layers) must be an array of layer names, got %s", l.Type())
		}
		for i := 0; i < l.Length(); i++ {
			e := l.Index(i)
			if e.Type() != js.TypeString {
				return nil, errorf("layers[%d] must be a layer name (string), got %s", i, e.Type())
			}
			names = append(names, e.String())
		}
	}
	maps, total, err := m.featureMaps(x, names)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(maps))
	for i, lm := range maps {
		out[i] = map[string]any{
			"layer": lm.Layer, "kind": lm.Kind, "ms": ms(lm.Time),
			"high": tensorJS(lm.High), "low": tensorJS(lm.Low),
		}
	}
	r := map[string]any{"ms": ms(total), "maps": out}
	if output {
		logits, p, err := m.scores()
		if err != nil {
			return nil, err
		}
		r["output"] = map[string]any{"logits": toJS(logits), "probabilities": toJS(p)}
	}
	return r, nil
}

func (a *api) dispose(args []js.Value) (any, error) {
	_, h, err := a.model(args)
	if err != nil {
		return nil, err
	}
	delete(a.models, h)
	return true, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// floatBytes views v as its bytes (wasm is little-endian, as JavaScript's
// typed arrays are on every platform that runs it).
func floatBytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// toJS copies v into a new JavaScript Uint8Array.
func toJS(v []float32) js.Value {
	u := js.Global().Get("Uint8Array").New(4 * len(v))
	js.CopyBytesToJS(u, floatBytes(v))
	return u
}

// tensorJS describes t for JavaScript: its shape, and where its values lie
// in the instance's memory ("offset" in bytes, "length" in floats). The
// caller copies them out before it calls into Go again (octave-backend.js).
// Creating the array here (toJS) was most of the call's overhead for large
// maps, most of it in the copy into the new array: a typed array made from Go
// stays referenced until Go's next garbage collection, so, it seems, every
// call writes to memory fresh from the system. (bench/RESULTS.md, Go / call
// table: the conv's call overhead in Node fell from 0.70 to 0.44 ms with this
// and the input changes.)
func tensorJS(t *octcore.Tensor) any {
	if t == nil || t.C == 0 {
		return nil
	}
	return map[string]any{"channels": t.C, "height": t.H, "width": t.W,
		"offset": int(uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))), "length": len(t.Data)}
}
