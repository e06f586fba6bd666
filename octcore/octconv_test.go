package octcore

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
)

// tol is the relative tolerance of float32 sums against float64 references.
const tol = 2e-5

func TestConvMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 150; trial++ {
		k := []int{1, 2, 3, 5}[rng.Intn(4)]
		stride := 1 + rng.Intn(3)
		dil := 1 + rng.Intn(2)
		pad := rng.Intn(k + 1)
		groups := []int{1, 1, 2, 3}[rng.Intn(4)]
		cin := groups * (1 + rng.Intn(5))
		cout := groups * (1 + rng.Intn(6))
		if rng.Intn(5) == 0 { // depthwise
			cin = 1 + rng.Intn(7)
			cout, groups = cin, cin
		}
		h, w := 1+rng.Intn(17), 1+rng.Intn(17)
		if convOut(h, k, stride, pad, dil) == 0 || convOut(w, k, stride, pad, dil) == 0 {
			continue
		}
		bias := rng.Intn(2) == 0
		name := fmt.Sprintf("k%d s%d p%d d%d g%d %d->%d %dx%d bias=%v", k, stride, pad, dil, groups, cin, cout, h, w, bias)
		g := Graph{
			{Name: "input", Kind: "input", Out: cin},
			{Name: "c", Kind: "conv", In: cin, Out: cout, Kernel: k, Stride: stride, Pad: pad, Dilation: dil, Groups: groups, Bias: bias},
		}
		wt := randSlice(rng, cout*cin/groups*k*k)
		ps := Params{"c.weight": {Shape: []int{cout, cin / groups, k, k}, Data: wt}}
		var b []float32
		if bias {
			b = randSlice(rng, cout)
			ps["c.bias"] = &Param{Shape: []int{cout}, Data: b}
		}
		net, err := Build(g, ps)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := randTensor(rng, cin, h, w)
		y, err := net.Run(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := refConv(refFrom(x), wt, cout, k, stride, pad, dil, groups)
		if bias {
			for i := range want.v {
				want.v[i] += float64(b[i/(want.h*want.w)])
			}
		}
		compare(t, name, y.H, want, tol)
	}
}

var alphas = []float64{0, .125, .25, .5, .75, 1}

// octCase is one randomly drawn octconv layer.
type octCase struct {
	cin, cout, k, stride, pad, dil, groups, h, w int
	ai, ao                                       float64
	depthwise, bias                              bool
}

func (c octCase) String() string {
	return fmt.Sprintf("%d->%d k%d s%d p%d d%d g%d a %v->%v %dx%d dw=%v bias=%v",
		c.cin, c.cout, c.k, c.stride, c.pad, c.dil, c.groups, c.ai, c.ao, c.h, c.w, c.depthwise, c.bias)
}

func drawOct(rng *rand.Rand) octCase {
	for {
		c := octCase{stride: 1 + rng.Intn(2), dil: 1, groups: 1}
		c.k = []int{1, 3, 3, 5}[rng.Intn(4)]
		if c.k > 1 && rng.Intn(4) == 0 {
			c.dil = 2
		}
		c.pad = c.dil * (c.k - 1) / 2 // "same" padding keeps the octave relation
		c.ai, c.ao = alphas[rng.Intn(len(alphas))], alphas[rng.Intn(len(alphas))]
		c.cin, c.cout = 1+rng.Intn(12), 1+rng.Intn(12)
		switch rng.Intn(6) {
		case 0: // depthwise
			c.depthwise = true
			c.ao = c.ai
			c.cout = c.cin
			c.groups = c.cin
		case 1: // grouped: channels that split evenly
			c.groups = 2
			c.cin, c.cout = 8*(1+rng.Intn(2)), 8*(1+rng.Intn(2))
		}
		c.h, c.w = 1+rng.Intn(15), 1+rng.Intn(15)
		c.bias = rng.Intn(2) == 0
		cHi, cLi := Split(c.cin, c.ai)
		cHo, cLo := Split(c.cout, c.ao)
		if c.groups > 1 && !c.depthwise && (cHi%2 != 0 || cLi%2 != 0 || cHo%2 != 0 || cLo%2 != 0) {
			continue
		}
		if cHi == 0 && c.h%2 == 1 || cHi == 0 && c.w%2 == 1 {
			continue // without a high part the full size is twice the low one
		}
		return c
	}
}

// runOct builds the single-layer network of c with random weights, runs it on
// a random octave feature and returns the engine's and the reference's outputs.
func runOct(t *testing.T, rng *rand.Rand, c octCase) (Feature, *refMap, *refMap) {
	t.Helper()
	net, ws, bias := buildOct(t, rng, c)
	return runOctOn(t, rng, net, c, ws, bias)
}

// buildOct builds case c's layer with random weights; it returns them by
// path ("hh", "hl", "lh", "ll") and the bias (nil without one).
func buildOct(t *testing.T, rng *rand.Rand, c octCase) (*Net, map[string][]float32, []float32) {
	t.Helper()
	cHi, cLi := Split(c.cin, c.ai)
	cHo, cLo := Split(c.cout, c.ao)
	g := Graph{
		{Name: "input", Kind: "input", Out: c.cin, AlphaOut: c.ai},
		{Name: "oct", Kind: "octconv", In: c.cin, Out: c.cout, Kernel: c.k, Stride: c.stride, Pad: c.pad,
			Dilation: c.dil, Groups: c.groups, AlphaIn: c.ai, AlphaOut: c.ao, Bias: c.bias},
	}
	ps := Params{}
	ws := map[string][]float32{}
	kk := c.k * c.k
	for _, p := range []struct {
		name      string
		out, in   int
		depthwise bool
	}{{"hh", cHo, cHi, true}, {"hl", cLo, cHi, false}, {"lh", cHo, cLi, false}, {"ll", cLo, cLi, true}} {
		if p.out == 0 || p.in == 0 || (c.depthwise && !p.depthwise) {
			continue
		}
		inG := p.in / c.groups
		if c.depthwise {
			inG = 1
		}
		wt := randSlice(rng, p.out*inG*kk)
		ws[p.name] = wt
		ps["oct."+p.name+".weight"] = &Param{Shape: []int{p.out, inG, c.k, c.k}, Data: wt}
	}
	var bias []float32
	if c.bias {
		bias = randSlice(rng, c.cout)
		ps["oct.bias"] = &Param{Shape: []int{c.cout}, Data: bias}
	}
	net, err := Build(g, ps)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	return net, ws, bias
}

// runOctOn runs net, built by buildOct for c, on a random input of c's size
// and returns its output with the reference's.
func runOctOn(t *testing.T, rng *rand.Rand, net *Net, c octCase, ws map[string][]float32, bias []float32) (Feature, *refMap, *refMap) {
	t.Helper()
	cHi, cLi := Split(c.cin, c.ai)
	cHo, cLo := Split(c.cout, c.ao)
	var x Feature
	var xh, xl *refMap
	if cHi > 0 {
		x.H = randTensor(rng, cHi, c.h, c.w)
		xh = refFrom(x.H)
	}
	if cLi > 0 {
		x.L = randTensor(rng, cLi, half(c.h), half(c.w))
		xl = refFrom(x.L)
	}
	y, err := net.RunFeature(x)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	groups := c.groups
	yh, yl := refOct(xh, xl, ws, cHo, cLo, c.k, c.stride, c.pad, c.dil, groups, c.depthwise)
	if c.bias {
		addBias := func(m *refMap, b []float32) {
			if m == nil {
				return
			}
			for i := range m.v {
				m.v[i] += float64(b[i/(m.h*m.w)])
			}
		}
		addBias(yh, bias[:cHo])
		addBias(yl, bias[cHo:])
	}
	return y, yh, yl
}

func TestOctConvMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 300; trial++ {
		c := drawOct(rng)
		y, yh, yl := runOct(t, rng, c)
		compare(t, c.String()+" high", y.H, yh, tol)
		compare(t, c.String()+" low", y.L, yl, tol)
	}
}

// One network run at one size, another and the first again: a layer keeps
// per-size state between runs (its row offsets), which must follow the input.
func TestOctConvRunsAtChangingSizes(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	for trial := 0; trial < 60; trial++ {
		c := drawOct(rng)
		net, ws, bias := buildOct(t, rng, c)
		h0, w0 := c.h, c.w
		for _, size := range [][2]int{{h0, w0}, {h0 + 3, w0 + 2}, {h0, w0}} {
			c.h, c.w = size[0], size[1]
			if c.ai == 1 && (c.h%2 == 1 || c.w%2 == 1) {
				continue
			}
			y, yh, yl := runOctOn(t, rng, net, c, ws, bias)
			compare(t, c.String()+" high", y.H, yh, tol)
			compare(t, c.String()+" low", y.L, yl, tol)
		}
	}
}

// Layers wide enough (more than compactMinRows output rows) that small maps
// run in the compact layout, against the reference: the random cases above
// have too few channels for it.
func TestOctConvCompactLayout(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	for _, a := range []float64{0, .5} {
		for _, stride := range []int{1, 2} {
			for _, size := range [][2]int{{7, 7}, {9, 6}, {14, 13}} {
				c := octCase{cin: 40, cout: 40, k: 3, pad: 1, dil: 1, groups: 1, stride: stride,
					ai: a, ao: a, h: size[0], w: size[1], bias: true}
				y, yh, yl := runOct(t, rng, c)
				compare(t, c.String()+" high", y.H, yh, tol)
				compare(t, c.String()+" low", y.L, yl, tol)
			}
		}
	}
}

// Every combination of the paper's alphas, both strides, odd and even sizes.
func TestOctConvAlphaGrid(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, ai := range alphas {
		for _, ao := range alphas {
			for _, stride := range []int{1, 2} {
				for _, size := range [][2]int{{7, 7}, {8, 6}, {9, 4}, {1, 1}, {2, 3}} {
					c := octCase{cin: 16, cout: 8, k: 3, pad: 1, dil: 1, groups: 1, stride: stride,
						ai: ai, ao: ao, h: size[0], w: size[1], bias: true}
					if ai == 1 && (c.h%2 == 1 || c.w%2 == 1) {
						continue
					}
					y, yh, yl := runOct(t, rng, c)
					compare(t, c.String()+" high", y.H, yh, tol)
					compare(t, c.String()+" low", y.L, yl, tol)
				}
			}
		}
	}
}

// An octconv with alpha 0 in and out at stride 1 is the plain convolution.
func TestOctAlphaZeroIsConv(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	wt := randSlice(rng, 6*5*3*3)
	b := randSlice(rng, 6)
	conv := Graph{{Name: "input", Kind: "input", Out: 5},
		{Name: "c", Kind: "conv", In: 5, Out: 6, Kernel: 3, Pad: 1, Bias: true}}
	oct := Graph{{Name: "input", Kind: "input", Out: 5},
		{Name: "c", Kind: "octconv", In: 5, Out: 6, Kernel: 3, Pad: 1, Bias: true}}
	n1, err := Build(conv, Params{"c.weight": {Shape: []int{6, 5, 3, 3}, Data: wt}, "c.bias": {Shape: []int{6}, Data: b}})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := Build(oct, Params{"c.hh.weight": {Shape: []int{6, 5, 3, 3}, Data: wt}, "c.bias": {Shape: []int{6}, Data: b}})
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, 5, 11, 13)
	y1, _ := n1.Run(x)
	y1c := y1.H.Clone()
	y2, _ := n2.Run(x)
	if y2.L != nil {
		t.Fatal("alpha 0 output has a low part")
	}
	for i := range y1c.Data {
		if y1c.Data[i] != y2.H.Data[i] {
			t.Fatalf("element %d: conv %v, octconv %v", i, y1c.Data[i], y2.H.Data[i])
		}
	}
}

func TestPool2AndUpsample(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, s := range [][2]int{{1, 1}, {1, 2}, {7, 7}, {8, 8}, {5, 6}, {3, 9}} {
		x := randTensor(rng, 3, s[0], s[1])
		got := NewTensor(3, half(s[0]), half(s[1]))
		Pool2(got.Data, x.Data, 3, s[0], s[1])
		compare(t, fmt.Sprintf("pool2 %v", s), got, refPool2(refFrom(x)), 1e-6)
		// upsample the pooled map back, cropped to the original size
		up := NewTensor(3, s[0], s[1])
		Upsample2Add(up.Data, got.Data, 3, s[0], s[1], got.H, got.W)
		compare(t, fmt.Sprintf("up2 %v", s), up, refUp2(refFrom(got), s[0], s[1]), 1e-6)
	}
	// A 7x7 map has a 4x4 low octave.
	if half(7) != 4 {
		t.Fatal("7x7 must pool to 4x4")
	}
}

// BatchNorm folded into the conv, a residual add and ReLU, against the
// explicit sequence on the reference.
func TestFoldedBNResidualReLU(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	const cin, cout, h, w = 6, 8, 9, 10
	g := Graph{
		{Name: "input", Kind: "input", Out: cin},
		{Name: "a", Kind: "octconv", In: cin, Out: cout, Kernel: 1, AlphaOut: .5},
		{Name: "b", Kind: "octconv", In: cout, Out: cout, Kernel: 3, Pad: 1, AlphaIn: .5, AlphaOut: .5, BN: true, Act: "relu", Add: "a"},
	}
	ps := Params{}
	ws := map[string][]float32{}
	add := func(name string, shape ...int) []float32 {
		d := randSlice(rng, size(shape))
		ps[name] = &Param{Shape: shape, Data: d}
		return d
	}
	a := map[string][]float32{"hh": add("a.hh.weight", 4, 6, 1, 1), "hl": add("a.hl.weight", 4, 6, 1, 1)}
	for _, p := range []string{"hh", "hl", "lh", "ll"} {
		ws[p] = add("b."+p+".weight", 4, 4, 3, 3)
	}
	gamma, beta, mean := add("b.bn.weight", cout), add("b.bn.bias", cout), add("b.bn.running_mean", cout)
	vr := make([]float32, cout)
	for i := range vr {
		vr[i] = 0.5 + rng.Float32()
	}
	ps["b.bn.running_var"] = &Param{Shape: []int{cout}, Data: vr}
	net, err := Build(g, ps)
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, cin, h, w)
	y, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	ah, al := refOct(refFrom(x), nil, a, 4, 4, 1, 1, 0, 1, 1, false)
	bh, bl := refOct(ah, al, ws, 4, 4, 3, 1, 1, 1, 1, false)
	post := func(m, res *refMap, c0 int) {
		for i := range m.v {
			c := c0 + i/(m.h*m.w)
			v := (m.v[i]-float64(mean[c]))/math.Sqrt(float64(vr[c])+1e-5)*float64(gamma[c]) + float64(beta[c])
			v += res.v[i]
			m.v[i] = math.Max(v, 0)
		}
	}
	post(bh, ah, 0)
	post(bl, al, 4)
	compare(t, "high", y.H, bh, tol)
	compare(t, "low", y.L, bl, tol)
	// The intermediate layer's output stays readable.
	fa, err := net.Output("a")
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "layer a high", fa.H, ah, tol)
	compare(t, "layer a low", fa.L, al, tol)
}

// Shapes that do not fit give errors naming the layer, never a panic.
func TestBadShapesNameTheLayer(t *testing.T) {
	in := Layer{Name: "input", Kind: "input", Out: 8}
	cases := []struct {
		g    Graph
		want string
	}{
		{Graph{in, {Name: "c1", Kind: "octconv", In: 7, Out: 8, Kernel: 3, Pad: 1}}, `"c1"`},
		{Graph{in, {Name: "c2", Kind: "octconv", In: 8, Out: 8, AlphaIn: 1.5}}, "alpha"},
		{Graph{in, {Name: "c3", Kind: "octconv", In: 8, Out: 8, AlphaOut: -0.1}}, "alpha"},
		{Graph{in, {Name: "c4", Kind: "octconv", In: 8, Out: 9, Groups: 2}}, "groups"},
		{Graph{in, {Name: "c5", Kind: "octconv", In: 8, Out: 8, Stride: 3}}, "stride"},
		{Graph{in, {Name: "c6", Kind: "octconv", In: 8, Out: 8, Groups: 8, AlphaOut: .5}}, "depthwise"},
		{Graph{in, {Name: "c7", Kind: "conv", In: 8, Out: 0}}, "out"},
		{Graph{in, {Name: "c8", Kind: "wobble"}}, "unknown layer kind"},
		{Graph{in, {Name: "c9", Kind: "conv", In: 8, Out: 4, Inputs: []string{"nope"}}}, "nope"},
		{Graph{{Name: "x", Kind: "conv"}}, "input"},
		{Graph{}, "empty"},
		{Graph{in, {Name: "c10", Kind: "octconv", In: 8, Out: 8, Kernel: 3, AlphaOut: .5}}, "octave relation"},
		{Graph{in, {Name: "c11", Kind: "octconv", In: 8, Out: 8, Kernel: 15}}, "smaller than the kernel"},
		{Graph{in, {Name: "c12", Kind: "octconv", In: 8, Out: 8, AlphaOut: .5},
			{Name: "c13", Kind: "conv", In: 8, Out: 8}}, "vanilla input"},
	}
	for _, c := range cases {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			_, err = CostOf(c.g, 8, 8)
			return err
		}()
		if err == nil || strings.HasPrefix(err.Error(), "panic") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("graph %+v: error %v, want one containing %q", c.g[len(c.g)-1], err, c.want)
		}
	}
}

func TestBadParamsAndInputs(t *testing.T) {
	g := Graph{{Name: "input", Kind: "input", Out: 2},
		{Name: "c", Kind: "octconv", In: 2, Out: 4, Kernel: 3, Pad: 1, AlphaOut: .5}}
	good := func() Params {
		return Params{
			"c.hh.weight": {Shape: []int{2, 2, 3, 3}, Data: make([]float32, 36)},
			"c.hl.weight": {Shape: []int{2, 2, 3, 3}, Data: make([]float32, 36)},
		}
	}
	if _, err := Build(g, good()); err != nil {
		t.Fatal(err)
	}
	p := good()
	delete(p, "c.hl.weight")
	if _, err := Build(g, p); err == nil || !strings.Contains(err.Error(), "c.hl.weight") {
		t.Errorf("missing tensor: %v", err)
	}
	p = good()
	p["c.hl.weight"].Shape = []int{2, 2, 1, 1}
	if _, err := Build(g, p); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong shape: %v", err)
	}
	p = good()
	p["extra"] = &Param{Shape: []int{1}, Data: []float32{1}}
	if _, err := Build(g, p); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("extra tensor: %v", err)
	}
	net, _ := Build(g, good())
	for _, x := range []*Tensor{nil, NewTensor(3, 4, 4), NewTensor(2, 0, 4), {C: 2, H: 4, W: 4, Data: make([]float32, 5)}} {
		if _, err := net.Run(x); err == nil {
			t.Errorf("input %+v: no error", x)
		}
	}
	if _, err := net.Run(NewTensor(2, 5, 3)); err != nil {
		t.Errorf("odd input after errors: %v", err)
	}
}

// Max and average pooling (padding never counted) against explicit windows.
func TestPoolingMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for trial := 0; trial < 60; trial++ {
		k := 1 + rng.Intn(4)
		s := 1 + rng.Intn(3)
		p := rng.Intn(k/2 + 1)
		h, w := 1+rng.Intn(13), 1+rng.Intn(13)
		for _, kind := range []string{"maxpool", "avgpool"} {
			g := Graph{{Name: "input", Kind: "input", Out: 3}, {Name: "p", Kind: kind, Kernel: k, Stride: s, Pad: p}}
			net, err := Build(g, Params{})
			if err != nil {
				t.Fatal(err)
			}
			x := randTensor(rng, 3, h, w)
			y, err := net.Run(x)
			if err != nil {
				if convOut(h, k, s, p, 1) == 0 || convOut(w, k, s, p, 1) == 0 {
					continue
				}
				t.Fatalf("%s k%d s%d p%d %dx%d: %v", kind, k, s, p, h, w, err)
			}
			want := newRef(3, y.H.H, y.H.W)
			for c := 0; c < 3; c++ {
				for oy := 0; oy < y.H.H; oy++ {
					for ox := 0; ox < y.H.W; ox++ {
						best, sum, n := math.Inf(-1), 0.0, 0
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								iy, ix := oy*s-p+ky, ox*s-p+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								v := float64(x.At(c, iy, ix))
								best = math.Max(best, v)
								sum += v
								n++
							}
						}
						v := best
						if kind == "avgpool" {
							v = sum / float64(n)
						}
						want.v[(c*want.h+oy)*want.w+ox] = v
					}
				}
			}
			compare(t, fmt.Sprintf("%s k%d s%d p%d %dx%d", kind, k, s, p, h, w), y.H, want, 1e-6)
		}
	}
}

// TestDepthwise3x3 checks the vector path of 3x3 depthwise convolutions
// (padding 1, stride 1 and 2: depthwise3x3 and dwConv3) against the float64
// reference at every width from 1 to 40, below, at and past each build's
// vector width and its overlapped last vector, with bias and ReLU6.
func TestDepthwise3x3(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, stride := range []int{1, 2} {
		for w := 1; w <= 40; w++ {
			h := 1 + rng.Intn(9)
			c := 1 + rng.Intn(3)
			name := fmt.Sprintf("dw3x3 s%d c%d %dx%d", stride, c, h, w)
			g := Graph{
				{Name: "input", Kind: "input", Out: c},
				{Name: "c", Kind: "conv", In: c, Out: c, Kernel: 3, Stride: stride, Pad: 1, Groups: c, Bias: true, Act: "relu6"},
			}
			wt := randSlice(rng, c*9)
			for i := range wt {
				wt[i] *= 3 // reach both ends of ReLU6
			}
			b := randSlice(rng, c)
			ps := Params{"c.weight": {Shape: []int{c, 1, 3, 3}, Data: wt}, "c.bias": {Shape: []int{c}, Data: b}}
			net, err := Build(g, ps)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			x := randTensor(rng, c, h, w)
			y, err := net.Run(x)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := refConv(refFrom(x), wt, c, 3, stride, 1, 1, c)
			clipped := 0
			for i := range want.v {
				v := want.v[i] + float64(b[i/(want.h*want.w)])
				if v < 0 || v > 6 {
					clipped++
				}
				want.v[i] = math.Min(math.Max(v, 0), 6)
			}
			compare(t, name, y.H, want, tol)
			if w == 40 && clipped == 0 {
				t.Fatalf("%s: no output reached ReLU6's bounds", name)
			}
		}
	}
}
