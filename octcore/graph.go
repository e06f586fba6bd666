package octcore

// Layer is one entry of a network's plain layer list. Kind selects the
// operation; the other fields are read where the kind needs them:
//
//	input     Out = channels of the input; AlphaOut > 0 makes it an octave
//	          feature (see [Net.RunFeature])
//	conv      vanilla 2-D convolution: In, Out, Kernel, Stride, Pad, Dilation, Groups, Bias, BN, Act, Add
//	octconv   octave convolution: as conv, plus AlphaIn and AlphaOut; Stride 1 or 2
//	bn        BatchNorm (inference) per branch
//	relu, relu6
//	add       per-branch sum of Inputs[0] and Inputs[1], then Act
//	maxpool, avgpool   Kernel, Stride, Pad; per branch (avgpool excludes padding)
//	gap       global average pool; H channels first, then L channels
//	linear    fully connected: In = flattened inputs, Out
//	softmax
//
// Inputs names the layers whose outputs this layer reads; empty means the
// previous layer. Add (conv, octconv) names a layer whose output is added
// per branch before the activation: the residual of a ResNet block, fused.
//
// Parameters are named after the layer (see [Params]).
type Layer struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Inputs   []string `json:"inputs,omitempty"`
	In       int      `json:"in,omitempty"`
	Out      int      `json:"out,omitempty"`
	Kernel   int      `json:"kernel,omitempty"`
	Stride   int      `json:"stride,omitempty"`
	Pad      int      `json:"pad,omitempty"`
	Dilation int      `json:"dilation,omitempty"`
	Groups   int      `json:"groups,omitempty"`
	AlphaIn  float64  `json:"alpha_in,omitempty"`
	AlphaOut float64  `json:"alpha_out,omitempty"`
	Bias     bool     `json:"bias,omitempty"`
	BN       bool     `json:"bn,omitempty"`
	Eps      float64  `json:"eps,omitempty"`
	Act      string   `json:"act,omitempty"`
	Add      string   `json:"add,omitempty"`
}

// Graph is a network: a plain list of layers, the first of kind "input".
type Graph []Layer

// Shape is the shape of a Feature: the channel counts of both parts and the
// full-resolution size. The low part, when present, is ceil(H/2) x ceil(W/2),
// except where a layer says otherwise (LowH, LowW hold the actual size).
type Shape struct {
	CH, CL     int // high and low channels
	H, W       int // high (full) resolution
	LowH, LowW int // low resolution
}

// Channels returns CH + CL.
func (s Shape) Channels() int { return s.CH + s.CL }

// Elems returns the number of values in a feature of this shape.
func (s Shape) Elems() int { return s.CH*s.H*s.W + s.CL*s.LowH*s.LowW }

func (s Shape) String() string {
	if s.CL == 0 {
		return sprintf("%dx%dx%d", s.CH, s.H, s.W)
	}
	return sprintf("H %dx%dx%d + L %dx%dx%d", s.CH, s.H, s.W, s.CL, s.LowH, s.LowW)
}

// LayerCost is the cost of one layer for one input size.
type LayerCost struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	AlphaIn  float64 `json:"alpha_in"`
	AlphaOut float64 `json:"alpha_out"`
	Out      Shape   `json:"-"`
	// OutHigh and OutLow are [c, h, w] of the output parts (OutLow nil when absent).
	OutHigh []int `json:"high"`
	OutLow  []int `json:"low"`
	Params  int64 `json:"params"`
	MACs    int64 `json:"macs"`
	// Multiply-adds by path; a vanilla layer counts as H->H.
	HH int64 `json:"hh"`
	HL int64 `json:"hl"`
	LH int64 `json:"lh"`
	LL int64 `json:"ll"`
	// Activations is the number of output values of the layer.
	Activations int64 `json:"activations"`
}

// Cost is the cost of a network for one input size.
type Cost struct {
	Params      int64       `json:"params"`
	MACs        int64       `json:"macs"`
	Activations int64       `json:"activations"`
	Layers      []LayerCost `json:"layers"`
}

// layerError formats an error that names the layer.
func layerError(i int, l *Layer, format string, args ...any) error {
	return errorf("octcore: layer %d %q (%s): %s", i, l.Name, l.Kind, sprintf(format, args...))
}

// resolved is a checked layer: its defaults applied and its inputs resolved.
type resolved struct {
	Layer
	inputs []int // layer indices
	addIdx int   // -1 when none
	act    Activation
	// octconv channel split
	cHi, cLi, cHo, cLo int
	depthwise          bool
}

const maxChannels = 1 << 16

// check validates g and resolves names and defaults. It does not need an
// input size.
func (g Graph) check() ([]resolved, error) {
	if len(g) == 0 {
		return nil, errorf("octcore: empty graph")
	}
	if g[0].Kind != "input" {
		return nil, errorf("octcore: layer 0 %q must be of kind \"input\", not %q", g[0].Name, g[0].Kind)
	}
	index := map[string]int{}
	rs := make([]resolved, len(g))
	for i := range g {
		l := g[i]
		r := &rs[i]
		r.Layer = l
		r.addIdx = -1
		if l.Name == "" {
			return nil, layerError(i, &l, "empty name")
		}
		if _, dup := index[l.Name]; dup {
			return nil, layerError(i, &l, "duplicate layer name")
		}
		act, ok := ParseActivation(l.Act)
		if !ok {
			return nil, layerError(i, &l, "unknown activation %q", l.Act)
		}
		r.act = act
		if i > 0 {
			names := l.Inputs
			if len(names) == 0 {
				names = []string{g[i-1].Name}
			}
			for _, n := range names {
				j, ok := index[n]
				if !ok {
					return nil, layerError(i, &l, "input %q is not an earlier layer", n)
				}
				r.inputs = append(r.inputs, j)
			}
		}
		if l.Add != "" {
			j, ok := index[l.Add]
			if !ok {
				return nil, layerError(i, &l, "add %q is not an earlier layer", l.Add)
			}
			r.addIdx = j
		}
		if r.Kernel == 0 {
			r.Kernel = 1
		}
		if r.Stride == 0 {
			r.Stride = 1
		}
		if r.Dilation == 0 {
			r.Dilation = 1
		}
		if r.Groups == 0 {
			r.Groups = 1
		}
		if r.Eps == 0 {
			r.Eps = 1e-5
		}
		if r.Kernel < 0 || r.Stride < 0 || r.Pad < 0 || r.Dilation < 0 || r.Groups < 0 ||
			r.Kernel > 64 || r.Stride > 64 || r.Pad > 64 || r.Dilation > 64 {
			return nil, layerError(i, &l, "kernel %d, stride %d, pad %d, dilation %d, groups %d out of range",
				r.Kernel, r.Stride, r.Pad, r.Dilation, r.Groups)
		}
		if r.In < 0 || r.Out < 0 || r.In > maxChannels || r.Out > maxChannels {
			return nil, layerError(i, &l, "channels in %d, out %d out of range", r.In, r.Out)
		}
		want := 1
		switch l.Kind {
		case "input":
			want = 0
			if i != 0 {
				return nil, layerError(i, &l, "only layer 0 may be the input")
			}
			if l.Out <= 0 {
				return nil, layerError(i, &l, "input needs out > 0 channels")
			}
		case "add":
			want = 2
			if len(l.Inputs) != 2 {
				return nil, layerError(i, &l, "add needs exactly two inputs, got %d", len(l.Inputs))
			}
		case "conv", "octconv":
			if err := r.checkConv(i); err != nil {
				return nil, err
			}
		case "linear":
			if r.In <= 0 || r.Out <= 0 {
				return nil, layerError(i, &l, "linear needs in > 0 and out > 0")
			}
		case "maxpool", "avgpool":
			if r.Pad*2 > r.Kernel {
				return nil, layerError(i, &l, "pad %d is more than half the kernel %d", r.Pad, r.Kernel)
			}
		case "bn", "relu", "relu6", "gap", "softmax":
		default:
			return nil, layerError(i, &l, "unknown layer kind %q", l.Kind)
		}
		if len(r.inputs) != want {
			return nil, layerError(i, &l, "%s takes %d input(s), got %d", l.Kind, want, len(r.inputs))
		}
		index[l.Name] = i
	}
	return rs, nil
}

func (r *resolved) checkConv(i int) error {
	l := &r.Layer
	if r.In <= 0 || r.Out <= 0 {
		return layerError(i, l, "needs in > 0 and out > 0 channels, got in %d out %d", r.In, r.Out)
	}
	if r.Kernel == 0 || r.Stride == 0 || r.Dilation == 0 || r.Groups == 0 {
		return layerError(i, l, "kernel, stride, dilation and groups must be positive")
	}
	if r.Kind == "conv" {
		if r.AlphaIn != 0 || r.AlphaOut != 0 {
			return layerError(i, l, "a vanilla conv has no alpha; use kind octconv")
		}
	}
	if !(r.AlphaIn >= 0 && r.AlphaIn <= 1) || !(r.AlphaOut >= 0 && r.AlphaOut <= 1) {
		return layerError(i, l, "alpha_in %v and alpha_out %v must lie in [0, 1]", r.AlphaIn, r.AlphaOut)
	}
	if r.Kind == "octconv" && r.Stride != 1 && r.Stride != 2 {
		return layerError(i, l, "octconv stride must be 1 or 2, got %d", r.Stride)
	}
	r.cHi, r.cLi = Split(r.In, r.AlphaIn)
	r.cHo, r.cLo = Split(r.Out, r.AlphaOut)
	g := r.Groups
	if r.In%g != 0 || r.Out%g != 0 {
		return layerError(i, l, "groups %d do not divide in %d and out %d", g, r.In, r.Out)
	}
	r.depthwise = g > 1 && g == r.In && g == r.Out
	if r.Kind == "octconv" {
		if r.depthwise {
			if r.cHi != r.cHo || r.cLi != r.cLo {
				return layerError(i, l, "a depthwise octconv needs alpha_in == alpha_out (split %d+%d in, %d+%d out)",
					r.cHi, r.cLi, r.cHo, r.cLo)
			}
		} else {
			for _, c := range []int{r.cHi, r.cLi, r.cHo, r.cLo} {
				if c%g != 0 {
					return layerError(i, l, "groups %d do not divide the octave split (in %d+%d, out %d+%d)",
						g, r.cHi, r.cLi, r.cHo, r.cLo)
				}
			}
		}
	}
	return nil
}

// infer computes every layer's output shape and cost for an h x w input.
func infer(rs []resolved, h, w int) ([]Shape, Cost, error) {
	shapes := make([]Shape, len(rs))
	var total Cost
	for i := range rs {
		r := &rs[i]
		var in Shape
		if len(r.inputs) > 0 {
			in = shapes[r.inputs[0]]
		}
		lc := LayerCost{Name: r.Name, Kind: r.Kind, AlphaIn: r.AlphaIn, AlphaOut: r.AlphaOut}
		var out Shape
		switch r.Kind {
		case "input":
			if h <= 0 || w <= 0 {
				return nil, Cost{}, errorf("octcore: input size %dx%d must be positive", h, w)
			}
			ch, cl := Split(r.Out, r.AlphaOut)
			out = Shape{CH: ch, CL: cl, H: h, W: w, LowH: half(h), LowW: half(w)}
		case "conv":
			if in.CL != 0 {
				return nil, Cost{}, layerError(i, &r.Layer, "a vanilla conv needs a vanilla input, got %v (use octconv with alpha_in > 0)", in)
			}
			if in.CH != r.In {
				return nil, Cost{}, layerError(i, &r.Layer, "expects %d input channels, got %d", r.In, in.CH)
			}
			oh := convOut(in.H, r.Kernel, r.Stride, r.Pad, r.Dilation)
			ow := convOut(in.W, r.Kernel, r.Stride, r.Pad, r.Dilation)
			if oh == 0 || ow == 0 {
				return nil, Cost{}, layerError(i, &r.Layer, "a %dx%d input is smaller than the kernel's reach", in.H, in.W)
			}
			out = Shape{CH: r.Out, H: oh, W: ow, LowH: half(oh), LowW: half(ow)}
			lc.HH = int64(r.Out) * int64(r.In/r.Groups) * int64(r.Kernel*r.Kernel) * int64(oh*ow)
			lc.Params = int64(r.Out) * int64(r.In/r.Groups) * int64(r.Kernel*r.Kernel)
		case "octconv":
			if in.CH != r.cHi || in.CL != r.cLi {
				return nil, Cost{}, layerError(i, &r.Layer, "%s, but the input is %v",
					splitNote("alpha_in", r.In, r.AlphaIn), in)
			}
			var err error
			out, err = r.octShape(i, in, &lc)
			if err != nil {
				return nil, Cost{}, err
			}
			lc.Params = int64(r.Out) * int64(r.In/r.Groups) * int64(r.Kernel*r.Kernel)
		case "bn", "relu", "relu6":
			out = in
			if r.Kind == "bn" {
				lc.Params = 2 * int64(in.Channels())
			}
		case "add":
			b := shapes[r.inputs[1]]
			if in != b {
				return nil, Cost{}, layerError(i, &r.Layer, "adds %v to %v: shapes differ", in, b)
			}
			out = in
		case "maxpool", "avgpool":
			oh := convOut(in.H, r.Kernel, r.Stride, r.Pad, 1)
			ow := convOut(in.W, r.Kernel, r.Stride, r.Pad, 1)
			out = Shape{CH: in.CH, CL: in.CL, H: oh, W: ow}
			out.LowH = convOut(in.LowH, r.Kernel, r.Stride, r.Pad, 1)
			out.LowW = convOut(in.LowW, r.Kernel, r.Stride, r.Pad, 1)
			if oh == 0 || ow == 0 || (in.CL > 0 && (out.LowH == 0 || out.LowW == 0)) {
				return nil, Cost{}, layerError(i, &r.Layer, "a %v input is smaller than the pooling window", in)
			}
		case "gap":
			out = Shape{CH: in.Channels(), H: 1, W: 1, LowH: 1, LowW: 1}
		case "linear":
			if n := in.Elems(); n != r.In {
				return nil, Cost{}, layerError(i, &r.Layer, "expects %d inputs, got %v = %d values", r.In, in, n)
			}
			out = Shape{CH: r.Out, H: 1, W: 1, LowH: 1, LowW: 1}
			lc.HH = int64(r.In) * int64(r.Out)
			lc.Params = lc.HH
		case "softmax":
			out = Shape{CH: in.Elems(), H: 1, W: 1, LowH: 1, LowW: 1}
		}
		if r.addIdx >= 0 && shapes[r.addIdx] != out {
			return nil, Cost{}, layerError(i, &r.Layer, "residual %q has shape %v, output is %v", rs[r.addIdx].Name, shapes[r.addIdx], out)
		}
		if r.Kind == "conv" || r.Kind == "octconv" || r.Kind == "linear" {
			if r.Bias || r.Kind == "linear" {
				lc.Params += int64(r.Out)
			}
			if r.BN {
				lc.Params += 2 * int64(r.Out)
			}
		}
		if float64(out.Elems()) > 1<<31 {
			return nil, Cost{}, layerError(i, &r.Layer, "output %v is too large", out)
		}
		shapes[i] = out
		lc.Out = out
		lc.OutHigh = []int{out.CH, out.H, out.W}
		if out.CL > 0 {
			lc.OutLow = []int{out.CL, out.LowH, out.LowW}
		}
		lc.MACs = lc.HH + lc.HL + lc.LH + lc.LL
		lc.Activations = int64(out.Elems())
		total.Params += lc.Params
		total.MACs += lc.MACs
		total.Activations += lc.Activations
		total.Layers = append(total.Layers, lc)
	}
	return shapes, total, nil
}

// octShape computes the output shape and the MACs per path of an octconv.
func (r *resolved) octShape(i int, in Shape, lc *LayerCost) (Shape, error) {
	k, p, d := r.Kernel, r.Pad, r.Dilation
	kk := int64(k * k)
	// Resolution at which each output branch is computed.
	hh, hw := in.H, in.W // high inputs of H->H
	lh, lw := in.LowH, in.LowW
	if r.Stride == 2 {
		hh, hw = half(in.H), half(in.W)
		lh, lw = half(in.LowH), half(in.LowW)
		// pool2 of the high input must match the low input, which feeds L->H.
		if r.cLi > 0 && (hh != in.LowH || hw != in.LowW) {
			return Shape{}, layerError(i, &r.Layer, "pooled high %dx%d differs from low %dx%d", hh, hw, in.LowH, in.LowW)
		}
	}
	out := Shape{CH: r.cHo, CL: r.cLo}
	out.H, out.W = convOut(hh, k, 1, p, d), convOut(hw, k, 1, p, d)
	out.LowH, out.LowW = convOut(lh, k, 1, p, d), convOut(lw, k, 1, p, d)
	if out.H == 0 || out.W == 0 || out.LowH == 0 || out.LowW == 0 {
		return Shape{}, layerError(i, &r.Layer, "a %v input is smaller than the kernel's reach", in)
	}
	if out.LowH != half(out.H) || out.LowW != half(out.W) {
		return Shape{}, layerError(i, &r.Layer, "kernel %d with pad %d does not keep the octave relation (high %dx%d, low %dx%d)",
			k, p, out.H, out.W, out.LowH, out.LowW)
	}
	hp := int64(out.H * out.W)
	lp := int64(out.LowH * out.LowW)
	// Each path's product runs at its output part's resolution, but an
	// upsampled one (L->H at stride 1) at the low input's.
	macs := [len(Paths)]*int64{&lc.HH, &lc.HL, &lc.LH, &lc.LL}
	for pi, pa := range Paths {
		ok, cout, cin := r.path(pa)
		if !ok {
			continue
		}
		px := hp
		if pa.ToLow || pa.Up(r.Stride) {
			px = lp
		}
		*macs[pi] = int64(cout) * int64(cin) * kk * px
	}
	return out, nil
}

// CostOf returns the parameters, multiply-adds and activations of g for an
// h x w input, per layer and in total.
func CostOf(g Graph, h, w int) (Cost, error) {
	s, err := Compile(g)
	if err != nil {
		return Cost{}, err
	}
	return s.Cost(h, w)
}

// OctRatio returns the multiply-adds of an octconv layer relative to the
// vanilla convolution with the same shapes, ignoring rounding of channel
// counts: (1-ai)(1-ao) + ai*ao/4 + (ai(1-ao) + (1-ai)ao)/4.
func OctRatio(alphaIn, alphaOut float64) float64 {
	ai, ao := alphaIn, alphaOut
	return (1-ai)*(1-ao) + ai*ao/4 + (ai*(1-ao)+(1-ai)*ao)/4
}

// OctMemory returns the activation memory of an octave feature relative to a
// vanilla one: 1 - 0.75*alpha.
func OctMemory(alpha float64) float64 { return 1 - 0.75*alpha }
