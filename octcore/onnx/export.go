// Package onnx exports an Octave network to an ONNX model (IR version 8,
// opset 17), so that other engines can run the very same network with the
// very same weights. It writes the protocol buffers wire format by hand: the
// few messages a model needs (ModelProto, GraphProto, NodeProto,
// TensorProto, ValueInfoProto, AttributeProto) and nothing else.
//
// An octconv layer becomes the sub-convolutions of its paths, following
// docs/FORMAT.md §3.1: pool2 is AveragePool 2x2 stride 2 with ceil_mode=1 and
// count_include_pad=0; up2 is Resize (nearest, asymmetric, floor) by 2
// followed by a Slice that crops odd sizes; the paths into one output
// branch are summed with Add. BatchNorm inside conv and octconv layers is
// folded into the weights first (weights.FoldBN); a standalone bn layer
// becomes BatchNormalization per branch.
//
// The model has one input, "input" [1, C, H, W], and one output per part of
// the last layer: "output" (the high or only part, flattened to [1, N] when
// the last layer is gap, linear or softmax) and "output_low" when the last
// layer has a low part.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// Opset is the ONNX operator set version of exported models.
const Opset = 17

// IRVersion is the ONNX IR version of exported models.
const IRVersion = 8

// feature names the ONNX values that hold one layer's output parts ("" when
// the part is absent).
type feature struct{ h, l string }

type exporter struct {
	nodes  []node
	inits  []initializer
	names  map[string]bool
	n      int
	params octcore.Params
}

func (e *exporter) fresh(prefix string) string {
	for {
		e.n++
		s := fmt.Sprintf("%s_%d", prefix, e.n)
		if !e.names[s] {
			e.names[s] = true
			return s
		}
	}
}

// add appends a node and returns its (single) output name.
func (e *exporter) add(op, name string, inputs []string, attrs ...attr) string {
	out := e.fresh(name)
	e.nodes = append(e.nodes, node{op: op, name: out, inputs: inputs, outputs: []string{out}, attrs: attrs})
	return out
}

func (e *exporter) floats(name string, dims []int64, data []float32) string {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	e.names[name] = true
	e.inits = append(e.inits, initializer{name: name, dims: dims, dtype: dtFloat, raw: raw})
	return name
}

func (e *exporter) int64s(name string, data ...int64) string {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	name = e.fresh(name)
	e.inits = append(e.inits, initializer{name: name, dims: []int64{int64(len(data))}, dtype: dtInt64, raw: raw})
	return name
}

func dims(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, v := range shape {
		d[i] = int64(v)
	}
	return d
}

// param returns the initializer name of parameter name, adding it once.
func (e *exporter) param(name string) (string, error) {
	p, ok := e.params[name]
	if !ok || p == nil {
		return "", fmt.Errorf("onnx: missing parameter %q", name)
	}
	if e.names[name] {
		return name, nil
	}
	return e.floats(name, dims(p.Shape), p.Data), nil
}

// slice returns values [lo, hi) of parameter name as a new initializer.
func (e *exporter) paramSlice(name string, lo, hi int) (string, error) {
	p, ok := e.params[name]
	if !ok || p == nil || len(p.Data) < hi {
		return "", fmt.Errorf("onnx: missing parameter %q of %d values", name, hi)
	}
	return e.floats(e.fresh(name), []int64{int64(hi - lo)}, p.Data[lo:hi]), nil
}

// Export returns the ONNX model of network g with parameters ps for a fixed
// h x w input. g and ps are not modified.
func Export(g octcore.Graph, ps octcore.Params, h, w int) ([]byte, error) {
	g, ps, err := weights.FoldBN(g, ps)
	if err != nil {
		return nil, err
	}
	spec, err := octcore.Compile(g)
	if err != nil {
		return nil, err
	}
	if _, err := spec.Build(ps); err != nil {
		return nil, err
	}
	cost, err := spec.Cost(h, w)
	if err != nil {
		return nil, err
	}
	layers := spec.Layers()
	if g[0].AlphaOut != 0 {
		return nil, fmt.Errorf("onnx: input layer %q has alpha_out %v: octave inputs are not exported", g[0].Name, g[0].AlphaOut)
	}
	e := &exporter{names: map[string]bool{"input": true}, params: ps}
	outs := make(map[string]feature, len(g))
	flat := make(map[string]bool) // values already [1, N]
	outs[g[0].Name] = feature{h: "input"}
	var last feature
	for i := 1; i < len(g); i++ {
		l := g[i]
		inName := g[i-1].Name
		if len(l.Inputs) > 0 {
			inName = l.Inputs[0]
		}
		x := outs[inName]
		lc := cost.Layers[i]
		var y feature
		switch l.Kind {
		case "conv", "octconv":
			y, err = e.conv(layers[i], x, lc, outs)
		case "bn":
			y, err = e.bn(l, x, cost.Layers[indexOf(g, inName)])
		case "relu":
			y = e.perBranch(x, func(s string) string { return e.add("Relu", l.Name, []string{s}) })
		case "relu6":
			y = e.perBranch(x, func(s string) string { return e.act(l.Name, s, "relu6") })
		case "add":
			b := outs[l.Inputs[1]]
			y = feature{h: e.sum(l.Name, x.h, b.h), l: e.sum(l.Name, x.l, b.l)}
			y = e.perBranch(y, func(s string) string { return e.act(l.Name, s, l.Act) })
		case "maxpool", "avgpool":
			k, s, p := int64(max(l.Kernel, 1)), int64(max(l.Stride, 1)), int64(l.Pad)
			attrs := []attr{intsAttr("kernel_shape", k, k), intsAttr("strides", s, s), intsAttr("pads", p, p, p, p)}
			op := "MaxPool"
			if l.Kind == "avgpool" {
				op = "AveragePool"
				attrs = append(attrs, intAttr("count_include_pad", 0))
			}
			y = e.perBranch(x, func(v string) string { return e.add(op, l.Name, []string{v}, attrs...) })
		case "gap":
			y = e.perBranch(x, func(v string) string { return e.add("GlobalAveragePool", l.Name, []string{v}) })
			y = feature{h: e.concatFlat(l.Name, y, flat)}
			flat[y.h] = true
		case "linear":
			v := e.concatFlat(l.Name, x, flat)
			wn, err1 := e.param(l.Name + ".weight")
			bn, err2 := e.param(l.Name + ".bias")
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("onnx: layer %q: %v %v", l.Name, err1, err2)
			}
			o := e.add("Gemm", l.Name, []string{v, wn, bn}, intAttr("transB", 1))
			o = e.act(l.Name, o, l.Act)
			y = feature{h: o}
			flat[o] = true
		case "softmax":
			v := e.concatFlat(l.Name, x, flat)
			y = feature{h: e.add("Softmax", l.Name, []string{v}, intAttr("axis", 1))}
			flat[y.h] = true
		default:
			return nil, fmt.Errorf("onnx: layer %d %q: kind %q is not exported", i, l.Name, l.Kind)
		}
		if err != nil {
			return nil, err
		}
		outs[l.Name] = y
		last = y
	}
	// Rename the last values to the graph's outputs with Identity nodes.
	lastCost := cost.Layers[len(cost.Layers)-1]
	var outputs []buf
	for _, p := range []struct {
		v, name string
		shape   []int
	}{{last.h, "output", lastCost.OutHigh}, {last.l, "output_low", lastCost.OutLow}} {
		if p.v == "" {
			continue
		}
		e.nodes = append(e.nodes, node{op: "Identity", name: p.name, inputs: []string{p.v}, outputs: []string{p.name}})
		d := append([]int64{1}, dims(p.shape)...)
		if flat[p.v] {
			d = []int64{1, int64(p.shape[0] * p.shape[1] * p.shape[2])}
		}
		outputs = append(outputs, valueInfo(p.name, d))
	}

	var gb buf
	for i := range e.nodes {
		gb.msg(graphNode, e.nodes[i].encode())
	}
	gb.str(graphName, "octave")
	for i := range e.inits {
		gb.msg(graphInitializer, e.inits[i].encode())
	}
	gb.msg(graphInput, valueInfo("input", []int64{1, int64(g[0].Out), int64(h), int64(w)}))
	for _, o := range outputs {
		gb.msg(graphOutput, o)
	}
	var opset buf
	opset.str(opsetDomain, "")
	opset.int(opsetVersion, Opset)
	var mb buf
	mb.int(modelIRVersion, IRVersion)
	mb.str(modelProducer, "octave")
	mb.str(modelProducerVer, "1")
	mb.str(modelDoc, fmt.Sprintf("Octave network exported for a %dx%d input", h, w))
	mb.msg(modelGraph, gb)
	mb.msg(modelOpset, opset)
	return mb, nil
}

func indexOf(g octcore.Graph, name string) int {
	for i := range g {
		if g[i].Name == name {
			return i
		}
	}
	return 0
}

// perBranch applies f to each present part.
func (e *exporter) perBranch(x feature, f func(string) string) feature {
	var y feature
	if x.h != "" {
		y.h = f(x.h)
	}
	if x.l != "" {
		y.l = f(x.l)
	}
	return y
}

// sum adds two values; either may be "".
func (e *exporter) sum(name, a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return e.add("Add", name, []string{a, b})
}

// act applies an activation by name ("" or "none": none).
func (e *exporter) act(name, v, act string) string {
	switch act {
	case "relu":
		return e.add("Relu", name, []string{v})
	case "relu6":
		lo := e.floats(e.fresh(name+".min"), nil, []float32{0})
		hi := e.floats(e.fresh(name+".max"), nil, []float32{6})
		return e.add("Clip", name, []string{v, lo, hi})
	}
	return v
}

// concatFlat flattens each part to [1, n] and concatenates high then low.
func (e *exporter) concatFlat(name string, x feature, flat map[string]bool) string {
	f := func(v string) string {
		if flat[v] {
			return v
		}
		return e.add("Flatten", name, []string{v}, intAttr("axis", 1))
	}
	if x.l == "" {
		return f(x.h)
	}
	if x.h == "" {
		return f(x.l)
	}
	return e.add("Concat", name, []string{f(x.h), f(x.l)}, intAttr("axis", 1))
}

// pool2 is OctConv's 2x2 average pool: stride 2, ceil mode, padding excluded.
func (e *exporter) pool2(name, v string) string {
	return e.add("AveragePool", name+".pool2", []string{v},
		intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2),
		intAttr("ceil_mode", 1), intAttr("count_include_pad", 0))
}

// up2 is nearest-neighbour x2 upsampling cropped to h x w.
func (e *exporter) up2(name, v string, h, w int) string {
	scales := e.floats(e.fresh(name+".scales"), []int64{4}, []float32{1, 1, 2, 2})
	u := e.add("Resize", name+".up2", []string{v, "", scales},
		strAttr("mode", "nearest"), strAttr("coordinate_transformation_mode", "asymmetric"),
		strAttr("nearest_mode", "floor"))
	if h%2 == 0 && w%2 == 0 {
		return u
	}
	starts := e.int64s(name+".crop_starts", 0, 0)
	ends := e.int64s(name+".crop_ends", int64(h), int64(w))
	axes := e.int64s(name+".crop_axes", 2, 3)
	return e.add("Slice", name+".crop", []string{u, starts, ends, axes})
}

// convNode adds one convolution of v with parameter wname (and bias, when
// not "").
func (e *exporter) convNode(name, v, wname, bias string, l octcore.Layer, stride, groups int) (string, error) {
	wv, err := e.param(wname)
	if err != nil {
		return "", fmt.Errorf("onnx: layer %q: %v", l.Name, err)
	}
	k, p, d := int64(max(l.Kernel, 1)), int64(l.Pad), int64(max(l.Dilation, 1))
	in := []string{v, wv}
	if bias != "" {
		in = append(in, bias)
	}
	return e.add("Conv", name, in,
		intsAttr("kernel_shape", k, k), intsAttr("strides", int64(stride), int64(stride)),
		intsAttr("pads", p, p, p, p), intsAttr("dilations", d, d), intAttr("group", int64(groups))), nil
}

func (e *exporter) conv(ls octcore.LayerSpec, x feature, lc octcore.LayerCost, outs map[string]feature) (feature, error) {
	l := ls.Layer
	groups, stride := l.Groups, l.Stride
	var y feature
	if l.Kind == "conv" {
		bias := ""
		if l.Bias {
			var err error
			if bias, err = e.param(l.Name + ".bias"); err != nil {
				return y, err
			}
		}
		v, err := e.convNode(l.Name, x.h, l.Name+".weight", bias, l, stride, groups)
		if err != nil {
			return y, err
		}
		y.h = v
	} else {
		cHo, cLo := ls.OutHigh, ls.OutLow
		depthwise := ls.Depthwise
		var bH, bL string
		if l.Bias {
			var err error
			if cHo > 0 {
				if bH, err = e.paramSlice(l.Name+".bias", 0, cHo); err != nil {
					return y, err
				}
			}
			if cLo > 0 {
				if bL, err = e.paramSlice(l.Name+".bias", cHo, cHo+cLo); err != nil {
					return y, err
				}
			}
		}
		gH, gL := groups, groups
		if depthwise {
			gH, gL = cHo, cLo
		}
		// Each path's source, pooled as octcore.Paths says: one chain of
		// pool2 per input part, made once and shared by the paths.
		src := [2][3]string{{x.h}, {x.l}}
		var need [2]int
		for _, p := range ls.Paths {
			need[b2i(p.FromLow)] = max(need[b2i(p.FromLow)], p.Pools(stride))
		}
		for part := range src {
			for lv := 1; lv <= need[part]; lv++ {
				src[part][lv] = e.pool2(l.Name, src[part][lv-1])
			}
		}
		// Into each output part, the path within its octave first (it
		// carries the bias): hh and lh into the high part, ll and hl into
		// the low.
		var sumH, sumL []string
		for _, toLow := range []bool{false, true} {
			bias, groups, sum := &bH, gH, &sumH
			if toLow {
				bias, groups, sum = &bL, gL, &sumL
			}
			for _, within := range []bool{true, false} {
				for _, p := range ls.Paths {
					if p.ToLow != toLow || (p.FromLow == p.ToLow) != within {
						continue
					}
					v, err := e.convNode(l.Name+"."+p.Name, src[b2i(p.FromLow)][p.Pools(stride)], p.Weight(l.Name), *bias, l, 1, groups)
					if err != nil {
						return y, err
					}
					*bias = "" // added once
					if p.Up(stride) {
						v = e.up2(l.Name+"."+p.Name, v, lc.OutHigh[1], lc.OutHigh[2])
					}
					*sum = append(*sum, v)
				}
			}
		}
		for _, v := range sumH {
			y.h = e.sum(l.Name+".sum_h", y.h, v)
		}
		for _, v := range sumL {
			y.l = e.sum(l.Name+".sum_l", y.l, v)
		}
	}
	if l.Add != "" {
		r := outs[l.Add]
		y.h = e.sum(l.Name+".residual", y.h, r.h)
		y.l = e.sum(l.Name+".residual", y.l, r.l)
	}
	y = e.perBranch(y, func(v string) string { return e.act(l.Name, v, l.Act) })
	return y, nil
}

// bn is a standalone BatchNorm layer: its channels are high first.
func (e *exporter) bn(l octcore.Layer, x feature, in octcore.LayerCost) (feature, error) {
	cH := in.OutHigh[0]
	cL := 0
	if in.OutLow != nil {
		cL = in.OutLow[0]
	}
	eps := l.Eps
	if eps == 0 {
		eps = 1e-5
	}
	part := func(v string, lo, hi int) (string, error) {
		in := []string{v}
		for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			n, err := e.paramSlice(l.Name+"."+s, lo, hi)
			if err != nil {
				return "", err
			}
			in = append(in, n)
		}
		return e.add("BatchNormalization", l.Name, in, floatAttr("epsilon", float32(eps))), nil
	}
	var y feature
	var err error
	if x.h != "" {
		if y.h, err = part(x.h, 0, cH); err != nil {
			return y, err
		}
	}
	if x.l != "" {
		if y.l, err = part(x.l, cH, cH+cL); err != nil {
			return y, err
		}
	}
	return y, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
