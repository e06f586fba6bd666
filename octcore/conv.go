package octcore

// This file compiles conv and octconv layers into matrix products.
//
// An octconv with stride 1 runs as
//
//	P   = pool2(X_H)                                   once, shared
//	B_L = im2col([X_L; P])                             at low resolution
//	T   = W_LH · B_L[rows of X_L]                      L->H, low resolution
//	Y_L = [W_LL | W_HL] · B_L   + bias, residual, act  L->L and H->L in one product
//	Y_H = W_HH · im2col(X_H)   + bias + up2(T), residual, act  (up2 fused in the epilogue)
//
// and with stride 2 (every sub-convolution at stride 1 on pooled inputs) as
//
//	Y_H = [W_HH | W_LH] · im2col([pool2(X_H); X_L])
//	Y_L = [W_LL | W_HL] · im2col([pool2(X_L); pool2(pool2(X_H))])
//
// Concatenating the sources of one output branch along K turns the sum of
// two or three convolutions into one product: no separate add pass, no
// intermediate output. A path whose side has no channels simply drops out.

type convOp struct {
	r          *resolved
	oct        bool
	groups     int
	biasH      []float32 // per high output channel (nil: zero)
	biasL      []float32
	aH, aL     []packedA // per group
	aLH        []packedA // stride-1 octconv: L->H, per group
	dwH, dwL   []float32 // depthwise filters [c][k*k], BN folded
	depthwise  bool
	cHi, cLi   int
	cHo, cLo   int
	k, pad, dl int
	stride     int
}

// part is one weight tensor's rows, as a row-major matrix of width cols.
type part struct {
	data []float32
	cols int
}

// concatGroup builds, for group j of g, the matrix whose row r is the
// concatenation of row j*rows+r of every part, and packs it.
func concatGroup(parts []part, rows, j int) packedA {
	K := 0
	for _, p := range parts {
		K += p.cols
	}
	m := make([]float32, rows*K)
	for r := 0; r < rows; r++ {
		off := r * K
		for _, p := range parts {
			src := p.data[(j*rows+r)*p.cols : (j*rows+r+1)*p.cols]
			off += copy(m[off:], src)
		}
	}
	return packA(m, rows, K, K)
}

// scaleRows returns a copy of w (rows of width cols) with row r scaled by
// scale[r0+r]; scale nil returns w itself.
func scaleRows(w []float32, cols int, scale []float32, r0 int) []float32 {
	if scale == nil {
		return w
	}
	out := make([]float32, len(w))
	for r := 0; r < len(w)/cols; r++ {
		s := scale[r0+r]
		for c := 0; c < cols; c++ {
			out[r*cols+c] = w[r*cols+c] * s
		}
	}
	return out
}

func buildConv(i int, r *resolved, pr *paramReader) (op, error) {
	o := &convOp{r: r, oct: r.Kind == "octconv", groups: r.Groups, depthwise: r.depthwise,
		cHi: r.cHi, cLi: r.cLi, cHo: r.cHo, cLo: r.cLo,
		k: r.Kernel, pad: r.Pad, dl: r.Dilation, stride: r.Stride}
	if !o.oct {
		o.cHi, o.cLi, o.cHo, o.cLo = r.In, 0, r.Out, 0
	}
	k, g := r.Kernel, r.Groups
	kk := k * k
	// Bias and BatchNorm fold into one per-channel scale and shift.
	var scale []float32
	bias := make([]float32, r.Out)
	if r.Bias {
		b, err := pr.get(i, &r.Layer, r.Name+".bias", r.Out)
		if err != nil {
			return nil, err
		}
		copy(bias, b)
	}
	if r.BN {
		s, shift, err := readBN(i, r, pr, r.Name+".bn", r.Out)
		if err != nil {
			return nil, err
		}
		scale = s
		for c := range bias {
			bias[c] = bias[c]*s[c] + shift[c]
		}
	}
	o.biasH, o.biasL = bias[:o.cHo], bias[o.cHo:]
	// Weight tensors by path. A vanilla conv has only hh, named N.weight.
	get := func(path string, out, in int, sc0 int) ([]float32, error) {
		name := r.Name + "." + path + ".weight"
		if !o.oct {
			name = r.Name + ".weight"
		}
		w, err := pr.get(i, &r.Layer, name, out, in, k, k)
		if err != nil {
			return nil, err
		}
		return scaleRows(w, in*kk, scale, sc0), nil
	}
	if o.depthwise {
		var err error
		if o.cHo > 0 {
			if o.dwH, err = get("hh", o.cHo, 1, 0); err != nil {
				return nil, err
			}
		}
		if o.cLo > 0 {
			if o.dwL, err = get("ll", o.cLo, 1, o.cHo); err != nil {
				return nil, err
			}
		}
		return o, nil
	}
	var hh, hl, lh, ll []float32
	var err error
	if o.cHo > 0 && o.cHi > 0 {
		if hh, err = get("hh", o.cHo, o.cHi/g, 0); err != nil {
			return nil, err
		}
	}
	if o.cLo > 0 && o.cHi > 0 {
		if hl, err = get("hl", o.cLo, o.cHi/g, o.cHo); err != nil {
			return nil, err
		}
	}
	if o.cHo > 0 && o.cLi > 0 {
		if lh, err = get("lh", o.cHo, o.cLi/g, 0); err != nil {
			return nil, err
		}
	}
	if o.cLo > 0 && o.cLi > 0 {
		if ll, err = get("ll", o.cLo, o.cLi/g, o.cHo); err != nil {
			return nil, err
		}
	}
	wH, wL := o.cHi/g*kk, o.cLi/g*kk
	var hParts, lParts, lhParts []part
	if o.stride == 1 || !o.oct {
		if hh != nil {
			hParts = append(hParts, part{hh, wH})
		}
		if lh != nil {
			lhParts = append(lhParts, part{lh, wL})
		}
	} else {
		if hh != nil {
			hParts = append(hParts, part{hh, wH})
		}
		if lh != nil {
			hParts = append(hParts, part{lh, wL})
		}
	}
	// Low sources are ordered [low input, pooled high input] at both strides,
	// so that the stride-1 L->H product reads a prefix of the rows.
	if ll != nil {
		lParts = append(lParts, part{ll, wL})
	}
	if hl != nil {
		lParts = append(lParts, part{hl, wH})
	}
	for j := 0; j < g; j++ {
		if len(hParts) > 0 {
			o.aH = append(o.aH, concatGroup(hParts, o.cHo/g, j))
		}
		if len(lParts) > 0 {
			o.aL = append(o.aL, concatGroup(lParts, o.cLo/g, j))
		}
		if len(lhParts) > 0 {
			o.aLH = append(o.aLH, concatGroup(lhParts, o.cHo/g, j))
		}
	}
	return o, nil
}

func (o *convOp) forward(n *Net, i int) error {
	in, out, res := n.in(i, 0), n.outs[i], n.residual(i)
	act := n.rs[i].act
	ws := &n.ws
	if o.depthwise {
		return o.forwardDepthwise(n, in, out, res, act)
	}
	g := o.groups
	if !o.oct {
		x := in.H
		geo := newGeom(o.k, o.stride, o.pad, o.dl, x.H, x.W)
		o.product(ws, o.aH, []*Tensor{x}, []int{o.cHi}, &geo, out.H, o.biasH, res.H, nil, act)
		return nil
	}
	xH, xL := in.H, in.L
	if o.stride == 2 {
		var pH, pHH, pL *Tensor
		if o.cHi > 0 {
			pH = pooled(ws, bufPool, xH)
			if o.cLo > 0 {
				pHH = pooled(ws, bufPool2, pH)
			}
		}
		if o.cLi > 0 && o.cLo > 0 {
			pL = pooled(ws, bufPool3, xL)
		}
		if o.cHo > 0 {
			srcs, counts := sources(pH, o.cHi, xL, o.cLi)
			geo := newGeom(o.k, 1, o.pad, o.dl, srcH(srcs), srcW(srcs))
			o.product(ws, o.aH, srcs, counts, &geo, out.H, o.biasH, res.H, nil, act)
		}
		if o.cLo > 0 {
			srcs, counts := sources(pL, o.cLi, pHH, o.cHi)
			geo := newGeom(o.k, 1, o.pad, o.dl, srcH(srcs), srcW(srcs))
			o.product(ws, o.aL, srcs, counts, &geo, out.L, o.biasL, res.L, nil, act)
		}
		return nil
	}
	// Stride 1.
	var p *Tensor
	if o.cHi > 0 && o.cLo > 0 {
		p = pooled(ws, bufPool, xH)
	}
	var t *Tensor // L->H at low resolution
	if o.cLi > 0 && (o.cLo > 0 || o.cHo > 0) {
		var lowSrc *Tensor
		if o.cLo > 0 {
			lowSrc = p
		}
		srcs, counts := sources(xL, o.cLi, lowSrc, o.cHi)
		geo := newGeom(o.k, 1, o.pad, o.dl, xL.H, xL.W)
		if o.cHo > 0 {
			t = &Tensor{C: o.cHo, H: geo.outH, W: geo.outW, Data: ws.buf(bufLow, o.cHo*geo.outH*geo.outW)}
		}
		// One im2col of [X_L; P] per group feeds both L->H (a prefix of its rows)
		// and the low output.
		N := geo.outH * geo.outW
		for j := 0; j < g; j++ {
			planes := groupPlanes(srcs, counts, g, j)
			col := ws.buf(bufCol, colSize(planes, &geo))
			packB(col, planes, &geo)
			K := colRows(planes, &geo)
			if t != nil {
				rows := o.cHo / g
				gemm(o.aLH[j], col, K, N, t.Data[j*rows*N:], N, nil, ws.tile)
			}
			if o.cLo > 0 {
				rows := o.cLo / g
				ep := &epilogue{bias: o.biasL[j*rows:], act: act}
				if res.L != nil {
					ep.add = res.L.Data[j*rows*N:]
				}
				gemm(o.aL[j], col, K, N, out.L.Data[j*rows*N:], N, ep, ws.tile)
			}
		}
	} else if o.cLo > 0 {
		// No low input: H->L alone.
		geo := newGeom(o.k, 1, o.pad, o.dl, p.H, p.W)
		o.product(ws, o.aL, []*Tensor{p}, []int{o.cHi}, &geo, out.L, o.biasL, res.L, nil, act)
	}
	if o.cHo > 0 {
		if o.cHi > 0 {
			geo := newGeom(o.k, 1, o.pad, o.dl, xH.H, xH.W)
			o.product(ws, o.aH, []*Tensor{xH}, []int{o.cHi}, &geo, out.H, o.biasH, res.H, t, act)
		} else {
			// alpha_in = 1: the high output is the upsampled L->H alone.
			y := out.H
			hw := y.H * y.W
			for c := 0; c < y.C; c++ {
				d := y.Data[c*hw : (c+1)*hw]
				for k := range d {
					d[k] = o.biasH[c]
				}
				if res.H != nil {
					for k, v := range res.H.Data[c*hw : (c+1)*hw] {
						d[k] += v
					}
				}
			}
			Upsample2Add(y.Data, t.Data, y.C, y.H, y.W, t.H, t.W)
			applyAct(y.Data, act)
		}
	}
	return nil
}

// product computes out = A · im2col(srcs) per group with the epilogue: bias,
// residual add, the x2-upsampled low map (may be nil) and the activation.
func (o *convOp) product(ws *workspace, a []packedA, srcs []*Tensor, counts []int, geo *geom,
	out *Tensor, bias []float32, res *Tensor, low *Tensor, act Activation) {
	g := o.groups
	N := geo.outH * geo.outW
	rows := out.C / g
	for j := 0; j < g; j++ {
		planes := groupPlanes(srcs, counts, g, j)
		col := ws.buf(bufCol, colSize(planes, geo))
		packB(col, planes, geo)
		ep := &epilogue{bias: bias[j*rows:], act: act, outW: geo.outW}
		if res != nil {
			ep.add = res.Data[j*rows*N:]
		}
		if low != nil {
			ep.low = low.Data[j*rows*low.H*low.W:]
			ep.lowH, ep.lowW = low.H, low.W
		}
		gemm(a[j], col, colRows(planes, geo), N, out.Data[j*rows*N:], N, ep, ws.tile)
	}
}

func (o *convOp) forwardDepthwise(n *Net, in, out, res Feature, act Activation) error {
	ws := &n.ws
	run := func(x, y, r *Tensor, wt, bias []float32, slot int) {
		if x == nil || y == nil {
			return
		}
		s := o.stride
		if o.oct && s == 2 {
			// Octave semantics: pool, then convolve at stride 1.
			x = pooled(ws, slot, x)
			s = 1
		}
		geo := newGeom(o.k, s, o.pad, o.dl, x.H, x.W)
		a := act
		if r != nil {
			a = ActNone
		}
		depthwise(y.Data, x.Data, wt, bias, x.C, &geo, a)
		if r != nil {
			for k, v := range r.Data {
				y.Data[k] += v
			}
			applyAct(y.Data, act)
		}
	}
	run(in.H, out.H, res.H, o.dwH, o.biasH, bufPool)
	run(in.L, out.L, res.L, o.dwL, o.biasL, bufPool2)
	return nil
}

// pooled returns pool2(x) in workspace slot.
func pooled(ws *workspace, slot int, x *Tensor) *Tensor {
	t := &Tensor{C: x.C, H: half(x.H), W: half(x.W)}
	t.Data = ws.buf(slot, t.C*t.H*t.W)
	Pool2(t.Data, x.Data, x.C, x.H, x.W)
	return t
}

// sources lists the present tensors among (a, ca) and (b, cb), in order.
func sources(a *Tensor, ca int, b *Tensor, cb int) ([]*Tensor, []int) {
	var ts []*Tensor
	var cs []int
	if a != nil && ca > 0 {
		ts, cs = append(ts, a), append(cs, ca)
	}
	if b != nil && cb > 0 {
		ts, cs = append(ts, b), append(cs, cb)
	}
	return ts, cs
}

func srcH(ts []*Tensor) int { return ts[0].H }
func srcW(ts []*Tensor) int { return ts[0].W }

// groupPlanes returns the channels of group j of g of every source.
func groupPlanes(srcs []*Tensor, counts []int, g, j int) []plane {
	ps := make([]plane, len(srcs))
	for k, s := range srcs {
		n := counts[k] / g
		ps[k] = plane{data: s.Data, c0: j * n, n: n, h: s.H, w: s.W}
	}
	return ps
}
