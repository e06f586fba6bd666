package octcore

// Spec is the checked form of a [Graph]: every layer's defaults applied, its
// inputs resolved, its octave channel split and paths ([Paths]) worked out,
// and the parameter tensors the graph needs listed. [Spec.Build] (and so
// [Build]), [Spec.Cost] ([CostOf]) and [ParamSpecs] all start from it, so a
// graph is checked once, in one place. A Spec is not modified by its methods
// and may be shared.
type Spec struct {
	// Graph is a copy of the layer list the spec was compiled from; it must
	// not be modified.
	Graph Graph
	// Params lists, in layer order, every parameter tensor the graph needs
	// (nil when ParamsErr is set).
	Params []ParamSpec
	// ParamsErr is why Params could not be listed: a standalone bn layer's
	// channel count is read at a nominal 32x32 input (see [ParamSpecs]).
	ParamsErr error

	layers []resolved
}

// Compile checks g and returns its spec. It needs no input size; shapes and
// cost, which do, come from [Spec.Shapes] and [Spec.Cost]. Every error names
// the layer it is about.
func Compile(g Graph) (*Spec, error) {
	rs, err := g.check()
	if err != nil {
		return nil, err
	}
	ps, perr := paramSpecs(rs)
	return &Spec{Graph: append(Graph(nil), g...), Params: ps, ParamsErr: perr, layers: rs}, nil
}

// Cost returns the parameters, multiply-adds and activations of the network
// for an h x w input, per layer and in total.
func (s *Spec) Cost(h, w int) (Cost, error) {
	_, c, err := infer(s.layers, h, w)
	return c, err
}

// Shapes returns the output shape of every layer for an h x w input.
func (s *Spec) Shapes(h, w int) ([]Shape, error) {
	sh, _, err := infer(s.layers, h, w)
	return sh, err
}

// LayerSpec is one checked layer of a [Spec].
type LayerSpec struct {
	// Layer has its defaults applied: Kernel, Stride, Dilation and Groups
	// at least 1, Eps 1e-5.
	Layer
	// InputIndex holds the indices of the layers it reads (Inputs resolved;
	// the previous layer by default), AddIndex that of its residual, -1 when
	// none.
	InputIndex []int
	AddIndex   int
	Activation Activation
	// For conv and octconv: the input's and the output's channels by part
	// (a vanilla conv's all high), whether it is depthwise, and its paths
	// in the order of [Paths].
	InHigh, InLow, OutHigh, OutLow int
	Depthwise                      bool
	Paths                          []Path
}

// Layers returns the checked layers, in graph order (a copy: the spec stays
// as it is).
func (s *Spec) Layers() []LayerSpec {
	out := make([]LayerSpec, len(s.layers))
	for i := range s.layers {
		r := &s.layers[i]
		l := LayerSpec{Layer: r.Layer, InputIndex: append([]int(nil), r.inputs...), AddIndex: r.addIdx, Activation: r.act}
		l.Inputs = append([]string(nil), r.Inputs...)
		if r.Kind == "conv" || r.Kind == "octconv" {
			l.InHigh, l.InLow, l.OutHigh, l.OutLow, l.Depthwise = r.cHi, r.cLi, r.cHo, r.cLo, r.depthwise
			for _, p := range Paths {
				if ok, _, _ := r.path(p); ok {
					l.Paths = append(l.Paths, p)
				}
			}
		}
		out[i] = l
	}
	return out
}
