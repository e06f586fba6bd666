// Package train trains OctConv networks described by an [octcore.Graph] on
// the CPU, in pure Go: batched forward and backward passes for the layers
// that the small Oct-ResNet uses (conv and octconv with fused BatchNorm in
// training mode, ReLU and residual add; global average pooling; linear),
// softmax cross-entropy, SGD with momentum, weight decay and a cosine
// schedule, and data parallelism over goroutines with gradients summed in a
// fixed order, so that a run is deterministic for a seed.
//
// Activations are stored as [T]: channel-major with the batch inside, so that
// a convolution of the whole batch is one matrix product.
package train

import (
	"fmt"
	"math"

	"github.com/octave-project/octave/octcore"
)

// path is one sub-convolution of a conv or octconv layer.
type path struct {
	param     string
	w         []float32 // [cout, cin*k*k], shared with the model's Params
	gOff      int       // offset of its gradient in the flat gradient vector
	fromL     bool      // source is the low part of the input
	toL       bool      // output is the low part
	pools     int       // pool2 applied to the source first (0, 1, 2)
	up        bool      // nearest x2 upsample and crop into the output
	stride    int       // stride of the convolution itself
	cin, cout int
}

// layer is one compiled layer of the graph.
type layer struct {
	idx  int
	name string
	kind string // input, conv (both conv and octconv), gap, linear
	in   int    // input layer
	add  int    // residual layer, -1 for none
	relu bool
	k, p int
	out  octcore.Shape

	paths []path
	bn    bool
	eps   float64
	// BatchNorm parameters [cH+cL], high channels first
	gamma, beta, rmean, rvar []float32
	gGamma, gBeta            int // gradient offsets
	bnIdx                    int // index among the model's BN layers

	// linear
	lw, lb        []float32
	gLW, gLB      int
	linIn, linOut int
}

// Model is a graph compiled for training: its layers and parameters. The
// parameters are shared with the octcore.Params it was made from, so they
// can be written to a file or built into an octcore.Net at any time.
type Model struct {
	Graph  octcore.Graph
	Params octcore.Params
	layers []*layer
	// Trainable parameters in a fixed order, with their offsets into a flat
	// gradient vector.
	names   []string
	offsets []int
	decay   []bool // weight decay applies (conv and linear weights)
	nGrad   int
	nBN     int
	inH     int
	inW     int
}

// NewModel compiles g with parameters ps for h x w inputs. It supports the
// layer kinds input (no octave input), conv and octconv (groups 1, dilation
// 1, optional BatchNorm, ReLU or no activation, optional fused residual),
// gap and a linear classifier after gap.
func NewModel(g octcore.Graph, ps octcore.Params, h, w int) (*Model, error) {
	spec, err := octcore.Compile(g)
	if err != nil {
		return nil, err
	}
	cost, err := spec.Cost(h, w)
	if err != nil {
		return nil, err
	}
	specs, err := spec.Params, spec.ParamsErr
	if err != nil {
		return nil, err
	}
	m := &Model{Graph: g, Params: ps, inH: h, inW: w}
	off := map[string]int{}
	for _, s := range specs {
		p, ok := ps[s.Name]
		if !ok || len(p.Data) != prod(s.Shape) {
			return nil, fmt.Errorf("train: parameter %q of shape %v missing or of the wrong size", s.Name, s.Shape)
		}
		if s.Role == "bn.running_mean" || s.Role == "bn.running_var" {
			continue
		}
		off[s.Name] = m.nGrad
		m.names = append(m.names, s.Name)
		m.offsets = append(m.offsets, m.nGrad)
		m.decay = append(m.decay, s.Role == "weight")
		m.nGrad += len(p.Data)
	}
	index := map[string]int{}
	for i, l := range g {
		L := &layer{idx: i, name: l.Name, kind: l.Kind, in: i - 1, add: -1, out: cost.Layers[i].Out}
		if len(l.Inputs) > 1 {
			return nil, fmt.Errorf("train: layer %q: layers with several inputs are not supported", l.Name)
		}
		if len(l.Inputs) == 1 {
			L.in = index[l.Inputs[0]]
		}
		if l.Add != "" {
			L.add = index[l.Add]
		}
		index[l.Name] = i
		switch l.Kind {
		case "input":
			if l.AlphaOut != 0 {
				return nil, fmt.Errorf("train: octave inputs are not supported")
			}
		case "conv", "octconv":
			if err := m.compileConv(L, l, off); err != nil {
				return nil, err
			}
			L.kind = "conv"
		case "gap":
		case "linear":
			if g[L.in].Kind != "gap" {
				return nil, fmt.Errorf("train: layer %q: linear must follow gap", l.Name)
			}
			L.linIn, L.linOut = l.In, l.Out
			L.lw, L.lb = ps[l.Name+".weight"].Data, ps[l.Name+".bias"].Data
			L.gLW, L.gLB = off[l.Name+".weight"], off[l.Name+".bias"]
		default:
			return nil, fmt.Errorf("train: layer %q: kind %q is not supported", l.Name, l.Kind)
		}
		m.layers = append(m.layers, L)
	}
	if last := m.layers[len(m.layers)-1]; last.kind != "linear" {
		return nil, fmt.Errorf("train: the last layer must be linear (the logits), not %q", last.kind)
	}
	return m, nil
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (m *Model) compileConv(L *layer, l octcore.Layer, off map[string]int) error {
	k := max(l.Kernel, 1)
	stride := max(l.Stride, 1)
	if max(l.Groups, 1) != 1 || max(l.Dilation, 1) != 1 {
		return fmt.Errorf("train: layer %q: groups and dilation must be 1", l.Name)
	}
	if l.Bias {
		return fmt.Errorf("train: layer %q: conv bias is not supported (use BatchNorm)", l.Name)
	}
	switch l.Act {
	case "", "none", "linear":
	case "relu":
		L.relu = true
	default:
		return fmt.Errorf("train: layer %q: activation %q is not supported", l.Name, l.Act)
	}
	L.k, L.p = k, l.Pad
	cHi, cLi := octcore.Split(l.In, l.AlphaIn)
	cHo, cLo := octcore.Split(l.Out, l.AlphaOut)
	add := func(name string, cin, cout int, fromL, toL bool, pools int, up bool, s int) {
		if cin == 0 || cout == 0 {
			return
		}
		L.paths = append(L.paths, path{param: name, w: m.Params[name].Data, gOff: off[name],
			fromL: fromL, toL: toL, pools: pools, up: up, stride: s, cin: cin, cout: cout})
	}
	if l.Kind == "conv" {
		add(l.Name+".weight", l.In, l.Out, false, false, 0, false, stride)
	} else {
		// Every path at stride 1 on its pooled source (octcore.Paths).
		for _, p := range octcore.Paths {
			cin, cout := p.Channels(cHi, cLi, cHo, cLo)
			add(p.Weight(l.Name), cin, cout, p.FromLow, p.ToLow, p.Pools(stride), p.Up(stride), 1)
		}
	}
	if l.BN {
		L.bn = true
		L.eps = l.Eps
		if L.eps == 0 {
			L.eps = 1e-5
		}
		p := l.Name + ".bn."
		L.gamma, L.beta = m.Params[p+"weight"].Data, m.Params[p+"bias"].Data
		L.rmean, L.rvar = m.Params[p+"running_mean"].Data, m.Params[p+"running_var"].Data
		L.gGamma, L.gBeta = off[p+"weight"], off[p+"bias"]
		L.bnIdx = m.nBN
		m.nBN++
	}
	return nil
}

// NumParams returns the number of trainable values.
func (m *Model) NumParams() int { return m.nGrad }

// convState holds one conv layer's buffers in a worker.
type convState struct {
	pool  [2][3]*T // [part][level]: level 0 is the input part itself
	dpool [2][3]*T
	cols  [][]float32 // per path (nil for pointwise: the source is the matrix)
	geoms []convGeom
	tmp   []*T // per path, the low-resolution result of an upsampled path
	phase []*T // per path, the phase planes of a phased source
	z     feat // normalized pre-activation (x-hat) when BN, else the conv output
	mean  [][]float64
	vars  [][]float64 // batch variance (biased), per part
	inv   [][]float32 // 1/sqrt(var+eps) used
}

// worker runs forward and backward passes of one slice of a batch.
type worker struct {
	m     *Model
	n     int
	outs  []feat
	douts []feat
	cs    []*convState
	grad  []float32
	gb    gemmBuf
	dcol  []float32
	wtmp  []float32 // a block of im2col rows for a weight gradient
	wflip []float32 // flipped, transposed weights of one path (flipped)
	// batch statistics of every BN layer for the running averages: mean and
	// unbiased variance, per channel (high first)
	bnMean, bnVar [][]float64
}

func newWorker(m *Model) *worker {
	return &worker{m: m, grad: make([]float32, m.nGrad)}
}

// alloc sizes every buffer for a slice of n images.
func (w *worker) alloc(n int) {
	if w.n == n {
		return
	}
	m := w.m
	w.n = n
	w.outs = make([]feat, len(m.layers))
	w.douts = make([]feat, len(m.layers))
	w.cs = make([]*convState, len(m.layers))
	w.bnMean = make([][]float64, m.nBN)
	w.bnVar = make([][]float64, m.nBN)
	mk := func(s octcore.Shape) feat {
		var f feat
		if s.CH > 0 {
			f.H = newT(s.CH, n, s.H, s.W)
		}
		if s.CL > 0 {
			f.L = newT(s.CL, n, s.LowH, s.LowW)
		}
		return f
	}
	for i, L := range m.layers {
		s := L.out
		if L.kind == "gap" || L.kind == "linear" {
			s = octcore.Shape{CH: s.Channels(), H: 1, W: 1}
		}
		w.outs[i] = mk(s)
		w.douts[i] = mk(s)
		if L.kind != "conv" {
			continue
		}
		cs := &convState{z: mk(s)}
		in := m.layers[L.in].out
		parts := [2]*T{newT(in.CH, n, in.H, in.W), nil}
		if in.CL > 0 {
			parts[1] = newT(in.CL, n, in.LowH, in.LowW)
		}
		for _, p := range L.paths {
			part := 0
			if p.fromL {
				part = 1
			}
			src := parts[part]
			for lv := 1; lv <= p.pools; lv++ {
				if cs.pool[part][lv] == nil {
					prev := src
					if lv > 1 {
						prev = cs.pool[part][lv-1]
					}
					cs.pool[part][lv] = newT(prev.C, n, half(prev.H), half(prev.W))
					cs.dpool[part][lv] = newT(prev.C, n, half(prev.H), half(prev.W))
				}
				src = cs.pool[part][lv]
			}
			g := convGeom{k: L.k, s: p.stride, p: L.p, inH: src.H, inW: src.W}
			g.outH, g.outW = outSize(src.H, g.k, g.s, g.p), outSize(src.W, g.k, g.s, g.p)
			cs.geoms = append(cs.geoms, g)
			P := n * g.outH * g.outW
			var col []float32
			// Shifted and phased geometries compute their im2col matrix
			// block by block inside the products (gemmFill, bFill): no
			// buffer but, when phased, the source's phase planes.
			if !g.pointwise() && !g.filled() {
				col = make([]float32, colPanels(p.cin*L.k*L.k, P))
			}
			if !g.pointwise() && !g.shifted() {
				if n := p.cin * L.k * L.k * P; n > len(w.dcol) {
					w.dcol = make([]float32, n)
				}
			}
			cs.cols = append(cs.cols, col)
			var ph *T
			if g.phased() {
				ph = newT(4*p.cin, n, g.outH, g.outW)
			}
			cs.phase = append(cs.phase, ph)
			var tmp *T
			if p.up {
				tmp = newT(p.cout, n, g.outH, g.outW)
			}
			cs.tmp = append(cs.tmp, tmp)
		}
		cs.mean = [][]float64{make([]float64, s.CH), make([]float64, s.CL)}
		cs.vars = [][]float64{make([]float64, s.CH), make([]float64, s.CL)}
		cs.inv = [][]float32{make([]float32, s.CH), make([]float32, s.CL)}
		w.cs[i] = cs
		if L.bn {
			w.bnMean[L.bnIdx] = make([]float64, s.Channels())
			w.bnVar[L.bnIdx] = make([]float64, s.Channels())
		}
	}
}

func part(f feat, low bool) *T {
	if low {
		return f.L
	}
	return f.H
}

// forward runs the batch x (C x n x H x W) through the network; train
// selects BatchNorm on batch statistics. It returns the logits [classes][n].
func (w *worker) forward(x []float32, n int, train bool) *T {
	w.alloc(n)
	m := w.m
	copy(w.outs[0].H.D, x)
	for i := 1; i < len(m.layers); i++ {
		L := m.layers[i]
		switch L.kind {
		case "conv":
			w.convForward(L, train)
		case "gap":
			w.gapForward(L)
		case "linear":
			w.linearForward(L)
		}
	}
	return w.outs[len(m.layers)-1].H
}

func (w *worker) convForward(L *layer, train bool) {
	cs := w.cs[L.idx]
	in := w.outs[L.in]
	src := [2]*T{in.H, in.L}
	for pt := 0; pt < 2; pt++ {
		cs.pool[pt][0] = src[pt]
		for lv := 1; lv < 3; lv++ {
			if cs.pool[pt][lv] != nil {
				pool2(cs.pool[pt][lv], cs.pool[pt][lv-1])
			}
		}
	}
	z := cs.z
	// The first path into each part overwrites it; the others add.
	var written [2]bool
	for j := range L.paths {
		p := &L.paths[j]
		g := &cs.geoms[j]
		s := cs.pool[b2i(p.fromL)][p.pools]
		P := w.n * g.outH * g.outW
		K := p.cin * L.k * L.k
		B, bk := s.D, bRows
		if cs.cols[j] != nil {
			im2colPanels(cs.cols[j], s, g)
			B, bk = cs.cols[j], bPanels
		}
		dst := part(z, p.toL)
		acc := written[b2i(p.toL)]
		written[b2i(p.toL)] = true
		if g.filled() {
			fs := s
			if g.phased() {
				fs = cs.phase[j]
				phaseSplit(fs, s)
			}
			fill := func(d []float32, k0, kk, n0, nn int) { im2colRange(d, fs, g, k0, kk, n0, nn) }
			if p.up {
				w.gb.gemmFill(false, p.cout, P, K, p.w, K, fill, cs.tmp[j].D, P, false, nil)
				if !acc {
					clear(dst.D)
				}
				up2Add(dst, cs.tmp[j])
			} else {
				w.gb.gemmFill(false, p.cout, P, K, p.w, K, fill, dst.D, P, acc, nil)
			}
			continue
		}
		if p.up {
			w.gb.gemm(false, bk, p.cout, P, K, p.w, K, B, P, cs.tmp[j].D, P, false)
			if !acc {
				clear(dst.D)
			}
			up2Add(dst, cs.tmp[j])
		} else {
			w.gb.gemm(false, bk, p.cout, P, K, p.w, K, B, P, dst.D, P, acc)
		}
	}
	for pt, t := range []*T{z.H, z.L} {
		if t != nil && !written[pt] {
			clear(t.D)
		}
	}
	out := w.outs[L.idx]
	var res feat
	if L.add >= 0 {
		res = w.outs[L.add]
	}
	c0 := 0
	for pt := 0; pt < 2; pt++ {
		zt := part(z, pt == 1)
		if zt == nil {
			continue
		}
		ot := part(out, pt == 1)
		var rt *T
		if L.add >= 0 {
			rt = part(res, pt == 1)
		}
		per := zt.N * zt.H * zt.W
		for c := 0; c < zt.C; c++ {
			zc := zt.D[c*per : (c+1)*per]
			oc := ot.D[c*per : (c+1)*per]
			if L.bn {
				var mean, vr float64
				if train {
					s, q := sums(zc, nil)
					mean = s / float64(per)
					// Shifted by the mean: q is the sum of squared deviations.
					q = max(q-s*mean, 0)
					vr = q / float64(per)
					w.bnMean[L.bnIdx][c0+c] = mean
					w.bnVar[L.bnIdx][c0+c] = q / float64(max(per-1, 1))
				} else {
					mean, vr = float64(L.rmean[c0+c]), float64(L.rvar[c0+c])
				}
				inv := float32(1 / math.Sqrt(vr+L.eps))
				cs.inv[pt][c] = inv
				mu := float32(mean)
				ga, be := L.gamma[c0+c], L.beta[c0+c]
				// Normalize, scale and shift, add the residual, ReLU: one pass.
				var rc []float32
				if rt != nil {
					rc = rt.D[c*per : (c+1)*per]
				}
				bnApply(zc, oc, rc, mu, inv, ga, be, L.relu)
				continue
			}
			copy(oc, zc)
			if rt != nil {
				for k, v := range rt.D[c*per : (c+1)*per] {
					oc[k] += v
				}
			}
			if L.relu {
				for k, v := range oc {
					if v < 0 {
						oc[k] = 0
					}
				}
			}
		}
		c0 += zt.C
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (w *worker) gapForward(L *layer) {
	in := w.outs[L.in]
	out := w.outs[L.idx].H.D
	k := 0
	for _, t := range []*T{in.H, in.L} {
		if t == nil {
			continue
		}
		hw := t.H * t.W
		for c := 0; c < t.C; c++ {
			for n := 0; n < t.N; n++ {
				var s float32
				for _, v := range t.plane(c, n) {
					s += v
				}
				out[k] = s / float32(hw)
				k++
			}
		}
	}
}

func (w *worker) linearForward(L *layer) {
	x := w.outs[L.in].H.D // [in][n]
	y := w.outs[L.idx].H.D
	n := w.n
	for o := 0; o < L.linOut; o++ {
		row := L.lw[o*L.linIn : (o+1)*L.linIn]
		yo := y[o*n : (o+1)*n]
		for j := range yo {
			yo[j] = L.lb[o]
		}
		for c, wv := range row {
			for j, v := range x[c*n : (c+1)*n] {
				yo[j] += wv * v
			}
		}
	}
}

// lossGrad computes the softmax cross-entropy of logits [classes][n] against
// labels, returns the summed loss and the number of correct predictions, and
// writes the gradient of loss*scale into the logits' gradient.
func (w *worker) lossGrad(labels []uint8, scale float32) (float64, int) {
	last := len(w.m.layers) - 1
	lg := w.outs[last].H.D
	dl := w.douts[last].H.D
	n := w.n
	classes := w.m.layers[last].linOut
	var loss float64
	correct := 0
	for j := 0; j < n; j++ {
		mx := lg[j]
		arg := 0
		for o := 1; o < classes; o++ {
			if v := lg[o*n+j]; v > mx {
				mx, arg = v, o
			}
		}
		if arg == int(labels[j]) {
			correct++
		}
		var s float64
		for o := 0; o < classes; o++ {
			s += math.Exp(float64(lg[o*n+j] - mx))
		}
		for o := 0; o < classes; o++ {
			p := math.Exp(float64(lg[o*n+j]-mx)) / s
			if o == int(labels[j]) {
				p -= 1
			}
			dl[o*n+j] = float32(p) * scale
		}
		loss += math.Log(s) - float64(lg[int(labels[j])*n+j]-mx)
	}
	return loss, correct
}

// backward propagates the gradient of the logits (set by lossGrad) and
// accumulates the parameter gradients into w.grad.
func (w *worker) backward() {
	m := w.m
	for i := 1; i < len(m.layers)-1; i++ {
		for _, t := range []*T{w.douts[i].H, w.douts[i].L} {
			if t != nil {
				clear(t.D)
			}
		}
	}
	for i := len(m.layers) - 1; i >= 1; i-- {
		L := m.layers[i]
		switch L.kind {
		case "conv":
			w.convBackward(L)
		case "gap":
			w.gapBackward(L)
		case "linear":
			w.linearBackward(L)
		}
	}
}

func (w *worker) linearBackward(L *layer) {
	n := w.n
	x := w.outs[L.in].H.D
	dx := w.douts[L.in].H.D
	dy := w.douts[L.idx].H.D
	gw := w.grad[L.gLW : L.gLW+L.linIn*L.linOut]
	gb := w.grad[L.gLB : L.gLB+L.linOut]
	for o := 0; o < L.linOut; o++ {
		dyo := dy[o*n : (o+1)*n]
		for _, v := range dyo {
			gb[o] += v
		}
		row := L.lw[o*L.linIn : (o+1)*L.linIn]
		for c := range row {
			xc := x[c*n : (c+1)*n]
			dxc := dx[c*n : (c+1)*n]
			var s float32
			wv := row[c]
			for j, d := range dyo {
				s += d * xc[j]
				dxc[j] += wv * d
			}
			gw[o*L.linIn+c] += s
		}
	}
}

func (w *worker) gapBackward(L *layer) {
	in := w.douts[L.in]
	dy := w.douts[L.idx].H.D
	k := 0
	for _, t := range []*T{in.H, in.L} {
		if t == nil {
			continue
		}
		inv := 1 / float32(t.H*t.W)
		for c := 0; c < t.C; c++ {
			for n := 0; n < t.N; n++ {
				g := dy[k] * inv
				pl := t.plane(c, n)
				for j := range pl {
					pl[j] += g
				}
				k++
			}
		}
	}
}

func (w *worker) convBackward(L *layer) {
	cs := w.cs[L.idx]
	out, dout := w.outs[L.idx], w.douts[L.idx]
	c0 := 0
	// dout becomes the gradient of the conv output z, in place.
	for pt := 0; pt < 2; pt++ {
		g := part(dout, pt == 1)
		if g == nil {
			continue
		}
		o := part(out, pt == 1)
		// The ReLU mask, the residual's gradient and the BatchNorm sums in
		// one pass, then the BatchNorm gradient in a second one.
		per := g.N * g.H * g.W
		for c := 0; c < g.C; c++ {
			gc := g.D[c*per : (c+1)*per]
			var oc, rc, xc []float32
			if L.relu {
				oc = o.D[c*per : (c+1)*per]
			}
			if L.add >= 0 {
				rc = part(w.douts[L.add], pt == 1).D[c*per : (c+1)*per]
			}
			if L.bn {
				xc = part(cs.z, pt == 1).D[c*per : (c+1)*per]
			}
			sg, sgx := gradPrep(gc, oc, rc, xc)
			if !L.bn {
				continue
			}
			w.grad[L.gGamma+c0+c] += float32(sgx)
			w.grad[L.gBeta+c0+c] += float32(sg)
			a := L.gamma[c0+c] * cs.inv[pt][c]
			mg := float32(sg / float64(per))
			mgx := float32(sgx / float64(per))
			bnBack(gc, xc, a, mg, mgx)
		}
		c0 += g.C
	}
	needDX := L.in > 0
	for pt := 0; pt < 2; pt++ {
		for lv := 1; lv < 3; lv++ {
			if d := cs.dpool[pt][lv]; d != nil {
				clear(d.D)
			}
		}
	}
	din := w.douts[L.in]
	for j := range L.paths {
		p := &L.paths[j]
		g := &cs.geoms[j]
		P := w.n * g.outH * g.outW
		K := p.cin * L.k * L.k
		dy := part(dout, p.toL)
		if p.up {
			up2Back(cs.tmp[j], dy)
			dy = cs.tmp[j]
		}
		src := cs.pool[b2i(p.fromL)][p.pools]
		B, bk := src.D, bTrans
		if cs.cols[j] != nil {
			B, bk = cs.cols[j], bPanelsTrans
		}
		if g.filled() {
			// Each depth block (pixels) of im2col^T: the im2col rows of
			// its pixels, then transposed into panels.
			bk = bFill
			fs := src
			if g.phased() {
				fs = cs.phase[j] // written by convForward
			}
			w.gb.fill = func(d []float32, k0, kk, n0, nn int) {
				w.wtmp = grow(w.wtmp, (kk+nr-1)/nr*nr*nn)
				im2colRange(w.wtmp, fs, g, n0, nn, k0, kk)
				packPanelsTrans(d, nn, kk, w.wtmp, nn, 0, 0)
			}
		}
		gw := w.grad[p.gOff : p.gOff+p.cout*K]
		w.gb.gemm(false, bk, p.cout, K, P, dy.D, P, B, P, gw, K, true)
		if !needDX {
			continue
		}
		var dsrc *T
		if p.pools == 0 {
			dsrc = part(din, p.fromL)
		} else {
			dsrc = cs.dpool[b2i(p.fromL)][p.pools]
		}
		if g.shifted() {
			// The input gradient of a same-size stride-1 convolution is
			// the convolution of dy, in the same geometry, with the
			// weights transposed (cin x cout) and flipped: one product of
			// depth cout*k*k over the im2col blocks of dy, added straight
			// into dsrc (no im2col gradient, no col2im).
			wf := w.flipped(p, L.k)
			Kt := p.cout * L.k * L.k
			fill := func(d []float32, k0, kk, n0, nn int) { im2colRange(d, dy, g, k0, kk, n0, nn) }
			w.gb.gemmFill(false, p.cin, P, Kt, wf, Kt, fill, dsrc.D, P, true, nil)
		} else if g.pointwise() {
			w.gb.gemm(true, bRows, K, P, p.cout, p.w, K, dy.D, P, dsrc.D, P, true)
		} else {
			dcol := w.dcol[:K*P]
			w.gb.gemm(true, bRows, K, P, p.cout, p.w, K, dy.D, P, dcol, P, false)
			col2im(dsrc, dcol, g)
		}
	}
	if !needDX {
		return
	}
	for pt := 0; pt < 2; pt++ {
		for lv := 2; lv >= 1; lv-- {
			d := cs.dpool[pt][lv]
			if d == nil {
				continue
			}
			dst := part(din, pt == 1)
			if lv == 2 {
				dst = cs.dpool[pt][1]
			}
			pool2Back(dst, d)
		}
	}
}

// flipped returns the weights of p (cout x cin x k x k) transposed and
// flipped, cin x cout x k x k with tap (ky, kx) at (k-1-ky, k-1-kx): the
// kernel whose same-size convolution of a gradient dy is the gradient of
// p's input (see convBackward).
func (w *worker) flipped(p *path, k int) []float32 {
	kk := k * k
	w.wflip = grow(w.wflip, p.cin*p.cout*kk)
	for co := 0; co < p.cout; co++ {
		for ci := 0; ci < p.cin; ci++ {
			src := p.w[(co*p.cin+ci)*kk : (co*p.cin+ci+1)*kk]
			dst := w.wflip[(ci*p.cout+co)*kk : (ci*p.cout+co+1)*kk]
			for t, v := range src {
				dst[kk-1-t] = v
			}
		}
	}
	return w.wflip
}
