package octcore

import (
	"math"
	"sort"
	"strings"
	"time"
)

// Param is a named float32 tensor of a network's parameters, row-major.
type Param struct {
	Shape []int
	Data  []float32
}

// Params holds a network's parameters by name. For a layer named N:
//
//	conv      N.weight [out, in/groups, k, k]; N.bias [out]
//	octconv   N.hh.weight [cHout, cHin/groups, k, k], N.hl.weight [cLout, cHin/groups, k, k],
//	          N.lh.weight [cHout, cLin/groups, k, k], N.ll.weight [cLout, cLin/groups, k, k]
//	          (a path is present only when both its sides have channels; a depthwise
//	          octconv has N.hh.weight [cH, 1, k, k] and N.ll.weight [cL, 1, k, k]);
//	          N.bias [out], high channels first
//	conv, octconv with BN: N.bn.weight, N.bn.bias, N.bn.running_mean, N.bn.running_var [out]
//	bn        N.weight, N.bias, N.running_mean, N.running_var [channels], high first
//	linear    N.weight [out, in]; N.bias [out]
type Params map[string]*Param

// Size returns the number of elements that shape holds.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

type paramReader struct {
	ps   Params
	used map[string]bool
}

// get returns the data of parameter name after checking its shape.
func (pr *paramReader) get(i int, l *Layer, name string, shape ...int) ([]float32, error) {
	p, ok := pr.ps[name]
	if !ok || p == nil {
		return nil, layerError(i, l, "missing parameter %q of shape %v", name, shape)
	}
	pr.used[name] = true
	if len(p.Shape) != len(shape) {
		return nil, layerError(i, l, "parameter %q has shape %v, want %v", name, p.Shape, shape)
	}
	for k := range shape {
		if p.Shape[k] != shape[k] {
			return nil, layerError(i, l, "parameter %q has shape %v, want %v", name, p.Shape, shape)
		}
	}
	if len(p.Data) != size(shape) {
		return nil, layerError(i, l, "parameter %q holds %d values, shape %v needs %d", name, len(p.Data), shape, size(shape))
	}
	return p.Data, nil
}

// Net is a built network ready to run. A Net is not safe for concurrent use:
// it owns one arena of buffers, reused by every run of the same input size.
type Net struct {
	graph Graph
	rs    []resolved
	ops   []op

	// The plan for the current input size.
	inH, inW int
	shapes   []Shape
	cost     Cost
	outs     []Feature
	ws       workspace
	times    []time.Duration
	ran      bool
}

// op is one compiled layer.
type op interface {
	forward(n *Net, i int) error
}

// workspace holds scratch buffers that grow to the largest need and are then
// reused.
type workspace struct {
	bufs   [numBufs][]float32
	tile   []float32
	tens   [numBufs]Tensor // headers of pooled and low-resolution maps
	srcs   [2]*Tensor
	counts [2]int
}

const (
	bufCol = iota
	bufLow
	bufPool
	bufPool2
	bufPool3
	bufPad
	bufWide // and bufWide+1: one wide output per product of a conv call
	bufWide2
	bufUp
	bufWinoV // Winograd: transformed input (winograd.go)
	bufWinoM // Winograd: the products, before the output transform
	bufWinoT // Winograd: a transform's row scratch
	numBufs
)

func (ws *workspace) buf(slot, n int) []float32 {
	if cap(ws.bufs[slot]) < n {
		ws.bufs[slot] = make([]float32, n)
	}
	return ws.bufs[slot][:n]
}

// Build checks g, folds BatchNorm into the convolutions, packs the weights and
// returns the runnable network: [Compile] then [Spec.Build]. Every error
// names the layer it is about. Parameters that no layer uses are an error too.
func Build(g Graph, ps Params) (*Net, error) {
	s, err := Compile(g)
	if err != nil {
		return nil, err
	}
	return s.Build(ps)
}

// Build folds BatchNorm into the convolutions of the compiled graph, packs
// the weights ps and returns the runnable network, without checking the
// graph again. Every error names the layer it is about; parameters that are
// missing, of the wrong size or used by no layer are errors.
func (s *Spec) Build(ps Params) (*Net, error) {
	var err error
	rs := s.layers
	n := &Net{graph: append(Graph(nil), s.Graph...), rs: rs, ops: make([]op, len(rs))}
	pr := &paramReader{ps: ps, used: map[string]bool{}}
	for i := range rs {
		r := &rs[i]
		var o op
		switch r.Kind {
		case "input":
			o = inputOp{}
		case "conv", "octconv":
			o, err = buildConv(i, r, pr)
		case "bn":
			o, err = buildBN(i, r, pr)
		case "relu":
			o = actOp{ActReLU}
		case "relu6":
			o = actOp{ActReLU6}
		case "add":
			o = addOp{r.act}
		case "maxpool", "avgpool":
			o = poolOp{r.Kind == "maxpool"}
		case "gap":
			o = gapOp{}
		case "linear":
			o, err = buildLinear(i, r, pr)
		case "softmax":
			o = softmaxOp{}
		}
		if err != nil {
			return nil, err
		}
		n.ops[i] = o
	}
	var extra []string
	for name := range ps {
		if !pr.used[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 5 {
			extra = append(extra[:5], sprintf("and %d more", len(extra)-5))
		}
		return nil, errorf("octcore: parameters used by no layer: %s", strings.Join(extra, ", "))
	}
	return n, nil
}

// Graph returns the layer list the network was built from.
func (n *Net) Graph() Graph { return n.graph }

// InputChannels returns the channel count the network expects (both parts).
func (n *Net) InputChannels() int { return n.rs[0].Out }

// InputSplit returns the channels of the input's high and low parts: the
// input layer's channels split by its alpha_out (low = 0 for an image
// input). A network with low > 0 runs on both octaves through [Net.RunFeature]:
// the high part at full resolution, the low part at half (rounded up).
func (n *Net) InputSplit() (high, low int) { return Split(n.rs[0].Out, n.rs[0].AlphaOut) }

// MaxInputPixels bounds the input size that Run accepts: 16 megapixels.
const MaxInputPixels = 1 << 24

// MaxActivations bounds the values that all layers of a network output
// together for one input, which Run allocates once per input size: 2^26,
// 256 MiB of float32 (oct-resnet152 at 224x224 needs 15 million).
const MaxActivations = 1 << 26

// plan sizes every output for an h x w input, reusing the current plan when
// the size is unchanged.
func (n *Net) plan(h, w int) error {
	if n.shapes != nil && h == n.inH && w == n.inW {
		return nil
	}
	if h <= 0 || w <= 0 || h*w > MaxInputPixels {
		return errorf("octcore: input size %dx%d is outside 1..%d pixels", h, w, MaxInputPixels)
	}
	shapes, cost, err := infer(n.rs, h, w)
	if err != nil {
		return err
	}
	if cost.Activations > MaxActivations {
		return errorf("octcore: a %dx%d input needs %d activations, more than the limit of %d", h, w, cost.Activations, MaxActivations)
	}
	n.inH, n.inW, n.shapes, n.cost = h, w, shapes, cost
	n.outs = make([]Feature, len(shapes))
	for i, s := range shapes {
		var f Feature
		if s.CH > 0 {
			f.H = newSlackTensor(s.CH, s.H, s.W)
		}
		if s.CL > 0 {
			f.L = newSlackTensor(s.CL, s.LowH, s.LowW)
		}
		n.outs[i] = f
	}
	n.times = make([]time.Duration, len(shapes))
	n.ran = false
	return nil
}

// layerClock times the layers; tests may swap in a CPU-time clock.
var layerClock = monotonic

// clockBase anchors monotonic. time.Since reads the monotonic clock, which in
// js/wasm is performance.now() (sub-millisecond); UnixNano would read the wall
// clock, which js/wasm gives in whole milliseconds.
var clockBase = time.Now()

func monotonic() time.Duration { return time.Since(clockBase) }

// newSlackTensor allocates a tensor whose storage has room for a register
// tile's reads past its end, so that a convolution can read it in place.
func newSlackTensor(c, h, w int) *Tensor {
	return &Tensor{C: c, H: h, W: w, Data: make([]float32, c*h*w, c*h*w+64)}
}

// Run runs the network on x (channels x height x width, already normalized)
// and returns the output of the last layer. The returned feature, like every
// layer output, is owned by the Net and overwritten by the next Run.
func (n *Net) Run(x *Tensor) (Feature, error) {
	return n.RunFeature(Feature{H: x})
}

// InputTensor returns the tensor that Run copies an h x w input into, with
// the network planned for that size. A caller that fills its data and passes
// it to Run saves that copy. The data stays valid until the network runs at
// another size.
func (n *Net) InputTensor(h, w int) (*Tensor, error) {
	if cH, _ := Split(n.rs[0].Out, n.rs[0].AlphaOut); cH == 0 {
		return nil, errorf("octcore: the network takes no high input part")
	}
	if err := n.plan(h, w); err != nil {
		return nil, err
	}
	t := *n.outs[0].H
	return &t, nil
}

// sameStart reports whether a and b start at the same element.
func sameStart(a, b []float32) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

// RunFeature runs the network on an octave feature: a network whose input
// layer has alpha_out > 0 takes a high part of full resolution and a low part
// of half resolution (ceil mode). Run(x) is RunFeature(Feature{H: x}).
func (n *Net) RunFeature(x Feature) (Feature, error) {
	in := n.rs[0]
	cH, cL := Split(in.Out, in.AlphaOut)
	if x.H == nil && cH > 0 {
		return Feature{}, errorf("octcore: nil input")
	}
	h, w := 0, 0
	for _, p := range []struct {
		t    *Tensor
		c    int
		part string
	}{{x.H, cH, "high"}, {x.L, cL, "low"}} {
		if p.t == nil {
			if p.c > 0 {
				return Feature{}, errorf("octcore: the network expects a %s input part of %d channels", p.part, p.c)
			}
			continue
		}
		if p.t.C != p.c {
			return Feature{}, errorf("octcore: %s input has %d channels, the network expects %d", p.part, p.t.C, p.c)
		}
		if p.t.H <= 0 || p.t.W <= 0 || len(p.t.Data) != p.t.C*p.t.H*p.t.W {
			return Feature{}, errorf("octcore: %s input holds %d values, shape %dx%dx%d needs %d",
				p.part, len(p.t.Data), p.t.C, p.t.H, p.t.W, p.t.C*p.t.H*p.t.W)
		}
	}
	if x.H != nil {
		h, w = x.H.H, x.H.W
	} else {
		h, w = 2*x.L.H, 2*x.L.W
	}
	if x.L != nil && (x.L.H != half(h) || x.L.W != half(w)) {
		return Feature{}, errorf("octcore: low input is %dx%d, a %dx%d high input needs %dx%d", x.L.H, x.L.W, h, w, half(h), half(w))
	}
	if err := n.plan(h, w); err != nil {
		return Feature{}, err
	}
	if x.H != nil && !sameStart(n.outs[0].H.Data, x.H.Data) {
		copy(n.outs[0].H.Data, x.H.Data)
	}
	if x.L != nil {
		copy(n.outs[0].L.Data, x.L.Data)
	}
	if n.ws.tile == nil {
		n.ws.tile = make([]float32, max(MR*nr, 64*MR))
	}
	for i := 1; i < len(n.ops); i++ {
		t0 := layerClock()
		if err := n.ops[i].forward(n, i); err != nil {
			return Feature{}, err
		}
		n.times[i] = layerClock() - t0
	}
	n.ran = true
	return n.outs[len(n.outs)-1], nil
}

// Output returns the output of the layer called name from the last Run.
func (n *Net) Output(name string) (Feature, error) {
	if !n.ran {
		return Feature{}, errorf("octcore: the network has not run yet")
	}
	for i := range n.rs {
		if n.rs[i].Name == name {
			return n.outs[i], nil
		}
	}
	return Feature{}, errorf("octcore: no layer named %q", name)
}

// LayerTimes returns the wall-clock time of each layer in the last Run, in
// layer order (the input layer takes no time).
func (n *Net) LayerTimes() []time.Duration { return n.times }

// Cost returns the cost of the network for an h x w input.
func (n *Net) Cost(h, w int) (Cost, error) {
	_, c, err := infer(n.rs, h, w)
	return c, err
}

// in returns the input feature of layer i.
func (n *Net) in(i, k int) Feature { return n.outs[n.rs[i].inputs[k]] }

// residual returns the feature added by layer i before its activation.
func (n *Net) residual(i int) Feature {
	if n.rs[i].addIdx < 0 {
		return Feature{}
	}
	return n.outs[n.rs[i].addIdx]
}

type inputOp struct{}

func (inputOp) forward(*Net, int) error { return nil }

// eachPart calls f on the high and the low parts of out (and of in, at the
// same part), skipping absent parts.
func eachPart(out, in Feature, f func(dst, src *Tensor)) {
	if out.H != nil {
		f(out.H, in.H)
	}
	if out.L != nil {
		f(out.L, in.L)
	}
}

type actOp struct{ act Activation }

func (o actOp) forward(n *Net, i int) error {
	eachPart(n.outs[i], n.in(i, 0), func(dst, src *Tensor) {
		copy(dst.Data, src.Data)
		applyAct(dst.Data, o.act)
	})
	return nil
}

type addOp struct{ act Activation }

func (o addOp) forward(n *Net, i int) error {
	a, b := n.in(i, 0), n.in(i, 1)
	out := n.outs[i]
	add := func(dst, x, y *Tensor) {
		for j := range dst.Data {
			dst.Data[j] = x.Data[j] + y.Data[j]
		}
		applyAct(dst.Data, o.act)
	}
	if out.H != nil {
		add(out.H, a.H, b.H)
	}
	if out.L != nil {
		add(out.L, a.L, b.L)
	}
	return nil
}

type poolOp struct{ isMax bool }

func (o poolOp) forward(n *Net, i int) error {
	r := &n.rs[i]
	eachPart(n.outs[i], n.in(i, 0), func(dst, src *Tensor) {
		poolGeneric(dst.Data, src.Data, src.C, src.H, src.W, r.Kernel, r.Stride, r.Pad, dst.H, dst.W, o.isMax)
	})
	return nil
}

type gapOp struct{}

func (gapOp) forward(n *Net, i int) error {
	in, out := n.in(i, 0), n.outs[i].H.Data
	k := 0
	for _, t := range []*Tensor{in.H, in.L} {
		if t == nil {
			continue
		}
		hw := t.H * t.W
		for c := 0; c < t.C; c++ {
			var s float32
			for _, v := range t.Data[c*hw : (c+1)*hw] {
				s += v
			}
			out[k] = s / float32(hw)
			k++
		}
	}
	return nil
}

type softmaxOp struct{}

func (softmaxOp) forward(n *Net, i int) error {
	in, out := n.in(i, 0), n.outs[i].H.Data
	k := copy(out, flatH(in))
	if in.L != nil {
		copy(out[k:], in.L.Data)
	}
	Softmax(out)
	return nil
}

func flatH(f Feature) []float32 {
	if f.H == nil {
		return nil
	}
	return f.H.Data
}

type bnOp struct{ scale, shift []float32 }

func buildBN(i int, r *resolved, pr *paramReader) (op, error) {
	// The channel count is only known from the input; BN layers state it in Out
	// or In, or it is read from the parameter itself.
	p, ok := pr.ps[r.Name+".weight"]
	if !ok || len(p.Shape) != 1 {
		return nil, layerError(i, &r.Layer, "missing parameter %q of shape [channels]", r.Name+".weight")
	}
	c := p.Shape[0]
	scale, shift, err := readBN(i, r, pr, r.Name, c)
	if err != nil {
		return nil, err
	}
	return bnOp{scale, shift}, nil
}

// readBN reads the four BatchNorm tensors prefix.{weight,bias,running_mean,
// running_var} and returns the per-channel affine map they amount to.
func readBN(i int, r *resolved, pr *paramReader, prefix string, c int) (scale, shift []float32, err error) {
	var t [4][]float32
	for k, s := range []string{"weight", "bias", "running_mean", "running_var"} {
		if t[k], err = pr.get(i, &r.Layer, prefix+"."+s, c); err != nil {
			return nil, nil, err
		}
	}
	scale, shift = make([]float32, c), make([]float32, c)
	for o := 0; o < c; o++ {
		v := float64(t[3][o])
		if v < 0 || math.IsNaN(v) {
			return nil, nil, layerError(i, &r.Layer, "%s.running_var[%d] = %v is not a variance", prefix, o, v)
		}
		s := float64(t[0][o]) / math.Sqrt(v+r.Eps)
		scale[o] = float32(s)
		shift[o] = float32(float64(t[1][o]) - float64(t[2][o])*s)
	}
	return scale, shift, nil
}

func (o bnOp) forward(n *Net, i int) error {
	in, out := n.in(i, 0), n.outs[i]
	if in.Channels() != len(o.scale) {
		return layerError(i, &n.rs[i].Layer, "batchnorm has %d channels, input has %d", len(o.scale), in.Channels())
	}
	c0 := 0
	eachPart(out, in, func(dst, src *Tensor) {
		hw := src.H * src.W
		for c := 0; c < src.C; c++ {
			s, b := o.scale[c0+c], o.shift[c0+c]
			d, x := dst.Data[c*hw:(c+1)*hw], src.Data[c*hw:(c+1)*hw]
			for j := range d {
				d[j] = x[j]*s + b
			}
		}
		c0 += src.C
	})
	return nil
}

type linearOp struct {
	in, out int
	w, b    []float32
}

func buildLinear(i int, r *resolved, pr *paramReader) (op, error) {
	w, err := pr.get(i, &r.Layer, r.Name+".weight", r.Out, r.In)
	if err != nil {
		return nil, err
	}
	b, err := pr.get(i, &r.Layer, r.Name+".bias", r.Out)
	if err != nil {
		return nil, err
	}
	return &linearOp{in: r.In, out: r.Out, w: w, b: b}, nil
}

func (o *linearOp) forward(n *Net, i int) error {
	in := n.in(i, 0)
	x := flatH(in)
	if in.L != nil {
		x = n.ws.buf(bufPool, o.in)
		k := copy(x, flatH(in))
		copy(x[k:], in.L.Data)
	}
	out := n.outs[i].H.Data
	for m := 0; m < o.out; m++ {
		out[m] = dot(o.w[m*o.in:(m+1)*o.in], x) + o.b[m]
	}
	act := n.rs[i].act
	applyAct(out, act)
	return nil
}
