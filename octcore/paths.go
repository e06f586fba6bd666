package octcore

// An octave convolution (Chen et al., "Drop an Octave", ICCV 2019) is up to
// four convolutions, one per path from a part of its input (high: full
// resolution, low: half) to a part of its output. At stride 1
//
//	Y_H = f(X_H; W_HH) + up2(f(X_L; W_LH))
//	Y_L = f(X_L; W_LL) + f(pool2(X_H); W_HL)
//
// and at stride 2, where every path's convolution still runs at stride 1 on
// a pooled source (so L->H needs no upsampling: the high output has the low
// input's resolution),
//
//	Y_H = f(pool2(X_H); W_HH) + f(X_L; W_LH)
//	Y_L = f(pool2(X_L); W_LL) + f(pool2(pool2(X_H)); W_HL)
//
// pool2 is the 2x2 average pool of stride 2 (ceil mode, padding excluded) and
// up2 the nearest-neighbour x2 upsampling cropped to the high output's size
// (docs/FORMAT.md §3.1). A path exists when both of its parts have channels;
// a depthwise octconv (groups = in = out channels) has only H->H and L->L.
//
// [Paths] is the one table of this: the engine's weights and cost, the
// parameter list of a graph, the trainer and the ONNX exporter all read it.

// Path is one of an octave convolution's four paths.
type Path struct {
	// Name is "hh", "hl", "lh" or "ll": the path's weight tensor is
	// "<layer>.<Name>.weight".
	Name string
	// FromLow: the source is the low part of the input; ToLow: the result
	// goes to the low part of the output.
	FromLow, ToLow bool
}

// Paths lists the four paths in the order of a layer's weight tensors.
var Paths = [4]Path{
	{"hh", false, false},
	{"hl", false, true},
	{"lh", true, false},
	{"ll", true, true},
}

// Indices of the paths in [Paths].
const (
	pathHH = iota
	pathHL
	pathLH
	pathLL
)

// Pools returns how many times pool2 is applied to the path's source before
// its (stride 1) convolution, for a layer of the given stride (1 or 2).
func (p Path) Pools(stride int) int {
	n := 0
	if !p.FromLow && p.ToLow {
		n++ // H->L: the high input brought to the low resolution
	}
	if stride == 2 && !(p.FromLow && !p.ToLow) {
		n++ // stride 2 as a pool, except for L->H, whose source already has the high output's resolution
	}
	return n
}

// Up reports whether the path's result is upsampled (up2) into its output:
// L->H at stride 1.
func (p Path) Up(stride int) bool { return p.FromLow && !p.ToLow && stride == 1 }

// Channels returns the input and output channels of the path for a layer
// whose input splits into cHi + cLi and output into cHo + cLo channels.
func (p Path) Channels(cHi, cLi, cHo, cLo int) (in, out int) {
	in, out = cHi, cHo
	if p.FromLow {
		in = cLi
	}
	if p.ToLow {
		out = cLo
	}
	return in, out
}

// Exists reports whether the path is part of such a layer: both parts have
// channels, and a depthwise layer keeps to its own octave.
func (p Path) Exists(cHi, cLi, cHo, cLo int, depthwise bool) bool {
	in, out := p.Channels(cHi, cLi, cHo, cLo)
	return in > 0 && out > 0 && (!depthwise || p.FromLow == p.ToLow)
}

// Weight returns the name of the path's weight tensor in layer layer.
func (p Path) Weight(layer string) string { return layer + "." + p.Name + ".weight" }

// path reports whether path p exists in the conv or octconv layer r (a
// vanilla conv has only H->H) and gives the shape of its weight: out
// channels and input channels per group (1 when depthwise).
func (r *resolved) path(p Path) (ok bool, out, inPerGroup int) {
	if !p.Exists(r.cHi, r.cLi, r.cHo, r.cLo, r.depthwise) {
		return false, 0, 0
	}
	in, out := p.Channels(r.cHi, r.cLi, r.cHo, r.cLo)
	if r.depthwise {
		return true, out, 1
	}
	return true, out, in / r.Groups
}
