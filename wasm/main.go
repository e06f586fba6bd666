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
//	classify(handle, x, c, h, w)        {probabilities: Uint8Array (float32 bytes), ms}
//	featureMaps(handle, x, c, h, w, layers?: string[])
//	                                    {ms, maps: [{layer, kind, ms, high, low}]},
//	                                    high/low {channels, height, width, data: Uint8Array (float32 bytes)} or null
//	dispose(handle)                     true, or an Error for an unknown handle
//	count()                             the number of loaded models
//	exit()                              ends the program
//
// x is the input tensor, channels x height x width float32 values, already
// normalized, given as a Uint8Array over their little-endian bytes.
package main

import (
	"errors"
	"os"
	"runtime"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/octave-project/octave/octcore"
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

// modelInput reads (handle, x, c, h, w) from args[0:5]: the model, and x
// copied into its input buffer.
func (a *api) modelInput(args []js.Value) (*model, *octcore.Tensor, error) {
	m, _, err := a.model(args)
	if err != nil {
		return nil, nil, err
	}
	v, n, err := bytesArg(args, 1, "input tensor")
	if err != nil {
		return nil, nil, err
	}
	c, err := intArg(args, 2, "channels", 1, 1<<16)
	if err != nil {
		return nil, nil, err
	}
	h, err := intArg(args, 3, "height", 1, 1<<16)
	if err != nil {
		return nil, nil, err
	}
	w, err := intArg(args, 4, "width", 1, 1<<16)
	if err != nil {
		return nil, nil, err
	}
	if n != 4*c*h*w {
		return nil, nil, errorf("the input holds %d float32 values (%d bytes), a %dx%dx%d tensor needs %d", n/4, n, c, h, w, c*h*w)
	}
	x, err := m.input(c, h, w)
	if err != nil {
		return nil, nil, err
	}
	js.CopyBytesToGo(floatBytes(x.Data), v)
	return m, x, nil
}

func (a *api) classify(args []js.Value) (any, error) {
	m, x, err := a.modelInput(args)
	if err != nil {
		return nil, err
	}
	p, el, err := m.classify(x)
	if err != nil {
		return nil, err
	}
	return map[string]any{"probabilities": toJS(p), "ms": ms(el)}, nil
}

func (a *api) featureMaps(args []js.Value) (any, error) {
	m, x, err := a.modelInput(args)
	if err != nil {
		return nil, err
	}
	var names []string
	if len(args) > 5 && !args[5].IsUndefined() && !args[5].IsNull() {
		l := args[5]
		if !l.InstanceOf(js.Global().Get("Array")) {
			return nil, errorf("argument 6 (layers) must be an array of layer names, got %s", l.Type())
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
	return map[string]any{"ms": ms(total), "maps": out}, nil
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
