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
	// Row offsets of each conv call's right-hand side (slot 0 or 1), per
	// group, for the last input size (see offsTable).
	offs [2][]offsTable
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
	get := func(p Path, out, in int, sc0 int) ([]float32, error) {
		name := p.Weight(r.Name)
		if !o.oct {
			name = r.Name + ".weight"
		}
		w, err := pr.get(i, &r.Layer, name, out, in, k, k)
		if err != nil {
			return nil, err
		}
		return scaleRows(w, in*kk, scale, sc0), nil
	}
	var w [len(Paths)][]float32 // by path, nil where a path does not exist
	for pi, p := range Paths {
		ok, out, in := r.path(p)
		if !ok {
			continue
		}
		sc0 := 0 // the BatchNorm scale's first row: high outputs, then low
		if p.ToLow {
			sc0 = o.cHo
		}
		var err error
		if w[pi], err = get(p, out, in, sc0); err != nil {
			return nil, err
		}
	}
	if o.depthwise {
		o.dwH, o.dwL = w[pathHH], w[pathLL]
		return o, nil
	}
	hh, hl, lh, ll := w[pathHH], w[pathHL], w[pathLH], w[pathLL]
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
	o.addWinograd()
	return o, nil
}

func (o *convOp) forward(n *Net, i int) error {
	in, out, res := n.in(i, 0), n.outs[i], n.residual(i)
	act := n.rs[i].act
	ws := &n.ws
	if o.depthwise {
		return o.forwardDepthwise(n, in, out, res, act)
	}
	if !o.oct {
		x := in.H
		geo := newGeom(o.k, o.stride, o.pad, o.dl, x.H, x.W)
		o.conv(ws, 0, []*Tensor{x}, []int{o.cHi}, -1, &geo,
			product{o.aH, out.H, epilogue{bias: o.biasH, add: data(res.H), act: act}})
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
			srcs, counts := sources(ws, pH, o.cHi, xL, o.cLi)
			geo := newGeom(o.k, 1, o.pad, o.dl, srcs[0].H, srcs[0].W)
			o.conv(ws, 0, srcs, counts, -1, &geo, product{o.aH, out.H, epilogue{bias: o.biasH, add: data(res.H), act: act}})
		}
		if o.cLo > 0 {
			srcs, counts := sources(ws, pL, o.cLi, pHH, o.cHi)
			geo := newGeom(o.k, 1, o.pad, o.dl, srcs[0].H, srcs[0].W)
			o.conv(ws, 1, srcs, counts, -1, &geo, product{o.aL, out.L, epilogue{bias: o.biasL, add: data(res.L), act: act}})
		}
		return nil
	}
	// Stride 1. pool2(X_H) feeds only the low products: it is pooled straight
	// into their padded input.
	var t *Tensor // L->H at low resolution
	if o.cLi > 0 || o.cLo > 0 {
		var lowSrc *Tensor
		if o.cLo > 0 && o.cHi > 0 {
			lowSrc = xH
		}
		srcs, counts := sources(ws, xL, o.cLi, lowSrc, o.cHi)
		pooledSrc := -1
		if lowSrc != nil {
			pooledSrc = len(srcs) - 1
		}
		// The low resolution: the low input's, or half the high input's.
		var lh, lw int
		if xL != nil {
			lh, lw = xL.H, xL.W
		} else {
			lh, lw = half(xH.H), half(xH.W)
		}
		geo := newGeom(o.k, 1, o.pad, o.dl, lh, lw)
		var lhp, llp product
		if o.cHo > 0 && o.cLi > 0 {
			t = &ws.tens[bufLow]
			*t = Tensor{C: o.cHo, H: geo.outH, W: geo.outW, Data: ws.buf(bufLow, o.cHo*geo.outH*geo.outW)}
			lhp = product{a: o.aLH, out: t}
		}
		if o.cLo > 0 {
			llp = product{o.aL, out.L, epilogue{bias: o.biasL, add: data(res.L), act: act}}
		}
		// One right-hand side of [X_L; P] feeds both L->H (a prefix of its rows)
		// and the low output.
		o.conv(ws, 0, srcs, counts, pooledSrc, &geo, lhp, llp)
	}
	if o.cHo > 0 {
		ep := epilogue{bias: o.biasH, add: data(res.H), act: act}
		if t != nil {
			ep.low, ep.lowH, ep.lowW = t.Data, t.H, t.W
		}
		if o.cHi > 0 {
			geo := newGeom(o.k, 1, o.pad, o.dl, xH.H, xH.W)
			o.conv(ws, 1, []*Tensor{xH}, []int{o.cHi}, -1, &geo, product{o.aH, out.H, ep})
		} else {
			// alpha_in = 1: the high output is the upsampled L->H alone.
			y := out.H
			clear(y.Data)
			finish(y.Data, y.Data, y.C, y.H, y.W, y.W, &ep, ws.buf(bufUp, y.H*y.W))
		}
	}
	return nil
}

// data returns t's values, or nil for a nil tensor.
func data(t *Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Data
}

// product is one matrix product of a convolution: its packed weights per
// group, its output and the epilogue applied to it. A zero product (nil out)
// is skipped.
type product struct {
	a   []packedA
	out *Tensor
	ep  epilogue
}

// conv computes the products over the channel concatenation of srcs (all of
// size geo.inH x geo.inW), group by group (see rhs for how the right-hand
// side is read), then applies each product's epilogue. slot (0 or 1) tells
// the layer's conv calls apart: each keeps its own row offsets.
func (o *convOp) conv(ws *workspace, slot int, srcs []*Tensor, counts []int, pooledSrc int, geo *geom, prods ...product) {
	g := o.groups
	OH, OW := geo.outH, geo.outW
	st := geo.sh
	// A strided convolution reads st*st phase planes of the padded input
	// (plane (py, px) holds padded pixels (st*y+py, st*x+px)), in which every
	// tap is a stride-1 shift: all convolutions become stride 1.
	hp := (geo.inH + 2*geo.ph + st - 1) / st
	wp := (geo.inW + 2*geo.pw + st - 1) / st
	r := rhs{N: OH * wp, srcW: wp}
	// On a small map the wide layout's extra columns cost more than gathering
	// the panels in the compact one, unless the products are thin: gathering
	// a panel costs about as much as a few row blocks of products on it.
	rows := 0
	for _, p := range prods {
		if p.out != nil {
			rows += p.out.C / o.groups
		}
	}
	if round := func(n int) int { return (n + nr - 1) / nr * nr }; wp != OW && rows > compactMinRows && 10*round(OH*OW) < 9*round(OH*wp) {
		r.compact, r.wp, r.outW = true, wp, OW
		r.N, r.srcW = OH*OW, OW
	}
	if winoEligible(geo, g) && winoUse(prods, OH, OW) {
		// Winograd F(2x2, 3x3) instead of the direct product (winograd.go).
		winoConv(ws, padInto(ws, srcs, counts, pooledSrc, geo, 2*wp+nr+geo.kw), hp, wp, OH, OW, prods)
		return
	}
	x := srcs[0]
	if len(srcs) == 1 && pooledSrc < 0 && geo.ph == 0 && geo.pw == 0 && st == 1 && cap(x.Data) >= len(x.Data)+nr {
		// Read the input where it lies: layer outputs carry nr values of slack.
		r.padded = x.Data[:cap(x.Data)]
	} else {
		r.padded = padInto(ws, srcs, counts, pooledSrc, geo, 2*wp+nr+geo.kw*geo.dw)
	}
	ctot := 0
	for _, c := range counts {
		ctot += c
	}
	r.K = ctot / g * geo.kh * geo.kw
	panel := ws.buf(bufCol, colFloats(&r))
	var as [2]packedA
	var outs [2][]float32
	var wides [2][]float32
	for j := 0; j < g; j++ {
		t := o.rowOffsets(slot, j, counts, geo, hp, wp, r.compact)
		r.offs, r.maxOff = t.offs, t.maxOff
		r.strided, r.base, r.ld = t.strided, t.base, hp*wp
		nq := 0
		for q, p := range prods {
			if p.out == nil {
				continue
			}
			rows := p.out.C / g
			dst := p.out.Data[j*rows*OH*OW : (j+1)*rows*OH*OW]
			wide := dst
			if r.srcW != OW {
				wide = ws.buf(bufWide+q, rows*r.N)
			}
			as[nq], outs[nq], wides[nq] = p.a[j], wide, dst
			nq++
		}
		gemmPanels(&r, as[:nq], outs[:nq], panel, ws.tile)
		nq = 0
		for _, p := range prods {
			if p.out == nil {
				continue
			}
			rows := p.out.C / g
			ep := p.ep
			if ep.bias != nil {
				ep.bias = ep.bias[j*rows:]
			}
			if ep.add != nil {
				ep.add = ep.add[j*rows*OH*OW:]
			}
			if ep.low != nil {
				ep.low = ep.low[j*rows*ep.lowH*ep.lowW:]
			}
			if r.srcW != OW || ep.bias != nil || ep.add != nil || ep.low != nil || ep.act != ActNone {
				finish(wides[nq], outs[nq], rows, OH, OW, r.srcW, &ep, ws.buf(bufUp, OH*OW))
			}
			nq++
		}
	}
}

// offsTable holds the row offsets of one product's right-hand side (rhs.offs
// and what follows from them) for group j of one conv call. They depend only
// on the layer and its input size, so the layer keeps them between runs
// instead of computing K of them per call.
type offsTable struct {
	hp, wp, outH, outW int // the geometry they were computed for
	offs               []int32
	maxOff             int
	strided            bool // rhs.strided
	base               int
}

// rowOffsets returns the row offsets of group j of conv call slot for an
// input of hp x wp padded pixels per phase plane, computing them when the
// geometry changed. Row k = (channel, ky, kx) of the right-hand side reads
// the plane of its channel and phase, shifted by its tap.
func (o *convOp) rowOffsets(slot, j int, counts []int, geo *geom, hp, wp int, compact bool) *offsTable {
	if o.offs[slot] == nil {
		o.offs[slot] = make([]offsTable, o.groups)
	}
	t := &o.offs[slot][j]
	if t.offs != nil && t.hp == hp && t.wp == wp && t.outH == geo.outH && t.outW == geo.outW {
		return t
	}
	g, st := o.groups, geo.sh
	K := 0
	for _, c := range counts {
		K += c / g * geo.kh * geo.kw
	}
	*t = offsTable{hp: hp, wp: wp, outH: geo.outH, outW: geo.outW, offs: make([]int32, K)}
	k, base := 0, 0
	for _, c := range counts {
		n := c / g
		for ch := base + j*n; ch < base+(j+1)*n; ch++ {
			for ky := 0; ky < geo.kh; ky++ {
				for kx := 0; kx < geo.kw; kx++ {
					dy, dx := ky*geo.dh, kx*geo.dw
					phase := (dy%st)*st + dx%st
					t.offs[k] = int32((ch*st*st+phase)*hp*wp + dy/st*wp + dx/st)
					t.maxOff = max(t.maxOff, int(t.offs[k]))
					k++
				}
			}
		}
		base += c
	}
	// A 1x1 stride-1 convolution whose rows are evenly spaced (one group,
	// or channels of one source) reads them in place.
	t.strided = geo.kh == 1 && geo.kw == 1 && st == 1 && K > 0 && !compact
	if t.strided {
		t.base = int(t.offs[0])
		for k, off := range t.offs {
			if int(off) != t.base+k*hp*wp {
				t.strided = false
				break
			}
		}
	}
	return t
}

// compactMinRows is the fewest output rows (of all products of a conv call)
// for which conv gathers a small map's panels in the compact layout: with 16
// rows or fewer the wide layout is faster (oct-resnet-mini at alpha .5, whose
// first two stages have 8- and 16-channel paths, ran 6-8% faster in
// BenchmarkOctResNetMini).
const compactMinRows = 16

// padInto copies the channel concatenation of srcs into a workspace buffer,
// every channel framed by geo.ph rows and geo.pw columns of zeros, plus slack
// zeros at the end for reads past the last row. Source pooledSrc (or none, if
// negative) is written as its 2x2 average pool (Pool2). With stride st > 1
// every channel becomes st*st phase planes of ceil((h+2ph)/st) x
// ceil((w+2pw)/st): plane (py, px) holds the padded pixels (st*y+py, st*x+px).
func padInto(ws *workspace, srcs []*Tensor, counts []int, pooledSrc int, geo *geom, slack int) []float32 {
	h, w := geo.inH, geo.inW
	ph, pw, st := geo.ph, geo.pw, geo.sh
	hp, wp := (h+2*ph+st-1)/st, (w+2*pw+st-1)/st
	ctot := 0
	for _, c := range counts {
		ctot += c
	}
	plane := hp * wp
	buf := ws.buf(bufPad, ctot*st*st*plane+slack)
	c0 := 0
	for s, t := range srcs {
		if s == pooledSrc {
			// Pooled rows go straight into the padded frame (stride 1 only).
			for c := 0; c < counts[s]; c++ {
				d := buf[(c0+c)*plane : (c0+c+1)*plane]
				if ph > 0 || pw > 0 {
					clear(d)
				}
				pool2Map(d[ph*wp+pw:], wp, t.Data[c*t.H*t.W:(c+1)*t.H*t.W], t.H, t.W)
			}
			c0 += counts[s]
			continue
		}
		if ph == 0 && pw == 0 && st == 1 {
			copy(buf[c0*h*w:], t.Data[:counts[s]*h*w])
			c0 += counts[s]
			continue
		}
		if st == 1 {
			// Each plane is written once: the zeros of the border (a row's
			// right border and the next row's left one are one run), and
			// the rows between them.
			for c := 0; c < counts[s]; c++ {
				d := buf[(c0+c)*plane : (c0+c+1)*plane]
				in := t.Data[c*h*w : (c+1)*h*w]
				clear(d[:ph*wp+pw])
				for y := 0; y < h; y++ {
					o := (ph+y)*wp + pw
					copy(d[o:o+w], in[y*w:(y+1)*w])
					clear(d[o+w : min(o+wp, plane)])
				}
				clear(d[(ph+h)*wp:])
			}
			c0 += counts[s]
			continue
		}
		// The planes start zeroed; each phase plane (py, px) holds the input
		// pixels (st*y+py-ph, st*x+px-pw) that exist, a block of rows
		// [y0, y1) and columns [x0, x1). A phase that no tap reads stays zero.
		clear(buf[c0*st*st*plane : (c0+counts[s])*st*st*plane])
		for py := 0; py < st; py++ {
			y0, y1 := phaseRange(py, ph, st, h, hp)
			for px := 0; px < st; px++ {
				x0, x1 := phaseRange(px, pw, st, w, wp)
				if y1 <= y0 || x1 <= x0 || !geo.usesPhase(py, px) {
					continue
				}
				for c := 0; c < counts[s]; c++ {
					d := buf[((c0+c)*st*st+py*st+px)*plane : ((c0+c)*st*st+py*st+px+1)*plane]
					in := t.Data[c*h*w : (c+1)*h*w]
					copyRows(d[y0*wp+x0:], wp, in[(y0*st+py-ph)*w+x0*st+px-pw:], st*w, y1-y0, x1-x0, st)
				}
			}
		}
		c0 += counts[s]
	}
	clear(buf[ctot*st*st*plane:])
	return buf
}

// phaseRange returns the positions [i0, i1) of phase p (of stride st, padding
// pad) that hold input pixels i*st+p-pad in [0, n), of the n2 positions.
func phaseRange(p, pad, st, n, n2 int) (i0, i1 int) {
	// i*st+p-pad >= 0  <=>  i >= ceil((pad-p)/st)
	i0 = max(0, (pad-p+st-1)/st)
	// i*st+p-pad < n  <=>  i < ceil((n+pad-p)/st)
	i1 = min(n2, (n+pad-p+st-1)/st)
	return i0, max(i0, i1)
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
		if !depthwise3x3(y.Data, x.Data, wt, bias, x.C, &geo, a, ws) {
			depthwise(y.Data, x.Data, wt, bias, x.C, &geo, a)
		}
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
	t := &ws.tens[slot]
	*t = Tensor{C: x.C, H: half(x.H), W: half(x.W)}
	t.Data = ws.buf(slot, t.C*t.H*t.W)
	Pool2(t.Data, x.Data, x.C, x.H, x.W)
	return t
}

// sources lists the present tensors among (a, ca) and (b, cb), in order,
// in workspace storage.
func sources(ws *workspace, a *Tensor, ca int, b *Tensor, cb int) ([]*Tensor, []int) {
	n := 0
	if a != nil && ca > 0 {
		ws.srcs[n], ws.counts[n] = a, ca
		n++
	}
	if b != nil && cb > 0 {
		ws.srcs[n], ws.counts[n] = b, cb
		n++
	}
	return ws.srcs[:n], ws.counts[:n]
}
