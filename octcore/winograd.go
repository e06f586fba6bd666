package octcore

import (
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
)

// Winograd F(2x2, 3x3) for stride-1, undilated, ungrouped 3x3 convolutions
// (with OctConv's pool-then-convolve stride 2, every 3x3 path of an octave
// layer). The output is cut into 2x2 tiles; tile t reads the 4x4 block d_t
// of the padded input at (2*ty, 2*tx), and
//
//	Y_t = A^T ( sum_c U_c ⊙ V_{c,t} ) A,   U = G g G^T,  V = B^T d B
//
// with the 4x4 transforms of Lavin and Gray ("Fast Algorithms for
// Convolutional Neural Networks", 2016):
//
//	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//	A^T = [1 1 1 0; 0 1 -1 -1]
//
// For each of the 16 positions x of the 4x4 transform the sum over channels
// is a matrix product: M_x = U_x (out x in) · V_x (in x tiles). The 16
// products run on the engine's register tile through gemmPanels, V_x read in
// place like a 1x1 convolution's input; the weights U_x are transformed and
// packed once at Build. A 2x2 output tile costs 16 multiply-adds per input
// channel instead of 36: 2.25x fewer. The transforms themselves are adds
// only (B, A) and run once per input and output channel and tile.
//
// Accuracy: B and A have entries 0 and ±1, G has ±1/2, so every transformed
// value is a short exact-coefficient sum; the outputs differ from the direct
// convolution by float32 rounding of the same order as the direct sum's
// (see TestWinogradMatchesDirect).

// winoAlpha is the side of a transformed tile (m + r - 1 = 2 + 3 - 1).
const winoAlpha = 4

// winoN is the number of transform positions, and of matrix products.
const winoN = winoAlpha * winoAlpha

// winoMode selects where Winograd runs: winoAuto by the measured rule
// (winoWins), winoAlways for every eligible product, winoNever nowhere. The
// environment variable OCTAVE_WINOGRAD (auto, on, off) sets it at start-up,
// for tests and measurements; SetWinograd at run time.
var winoMode = winoModeFromEnv()

const (
	winoAuto = iota
	winoAlways
	winoNever
)

func winoModeFromEnv() int {
	switch v := os.Getenv("OCTAVE_WINOGRAD"); v {
	case "", "auto":
		return winoAuto
	case "on", "1", "always":
		return winoAlways
	case "off", "0", "never":
		return winoNever
	default:
		fmt.Fprintf(os.Stderr, "octcore: OCTAVE_WINOGRAD=%q is not auto, on or off; using auto\n", v)
		return winoAuto
	}
}

// SetWinograd chooses where the stride-1 3x3 convolutions use Winograd's
// F(2x2, 3x3): "auto" (where it is measured to be faster, the default),
// "on" (everywhere it applies) or "off" (the direct kernel only). It returns
// the previous setting. It must not be called while a Net runs.
func SetWinograd(mode string) (string, error) {
	prev := [...]string{winoAuto: "auto", winoAlways: "on", winoNever: "off"}[winoMode]
	switch mode {
	case "auto":
		winoMode = winoAuto
	case "on":
		winoMode = winoAlways
	case "off":
		winoMode = winoNever
	default:
		return prev, fmt.Errorf("octcore: Winograd mode %q is not auto, on or off", mode)
	}
	return prev, nil
}

// winoCalls counts the conv calls that ran as Winograd (for tests).
var winoCalls atomic.Int64

// winoWeights are one product's weights transformed for Winograd: u[x] is
// the M x C matrix U_x, packed for the micro kernel.
type winoWeights struct {
	u [winoN]packedA
}

// winoSlot marks a product that may run as Winograd and holds its
// transformed weights, made by the first call that runs it that way: a Net
// whose products never do (the direct kernel wins, or Winograd is off) does
// not pay the transform at Build or the 16/9 of the weights' memory.
type winoSlot struct {
	once sync.Once
	w    *winoWeights
}

// weights returns the transform of a, the slot's product's packed weights.
func (s *winoSlot) weights(a packedA) *winoWeights {
	s.once.Do(func() { s.w = newWinoWeights(a) })
	return s.w
}

// newWinoWeights transforms a 3x3 convolution's packed weights a (K = C*9,
// row k = (channel, ky, kx)).
func newWinoWeights(a packedA) *winoWeights {
	M, C := a.M, a.K/9
	var mats [winoN][]float32
	for x := range mats {
		mats[x] = make([]float32, M*C)
	}
	for m := 0; m < M; m++ {
		blk := a.data[(m/MR)*MR*a.K:]
		for c := 0; c < C; c++ {
			var g [3][3]float64
			for t := 0; t < 9; t++ {
				g[t/3][t%3] = float64(blk[(c*9+t)*MR+m%MR])
			}
			u := winoKernel(g)
			for x := 0; x < winoN; x++ {
				mats[x][m*C+c] = float32(u[x/winoAlpha][x%winoAlpha])
			}
		}
	}
	w := &winoWeights{}
	for x := range mats {
		w.u[x] = packA(mats[x], M, C, C)
	}
	return w
}

// winoKernel returns G g G^T, in float64.
func winoKernel(g [3][3]float64) [4][4]float64 {
	var t [4][3]float64 // G g
	for j := 0; j < 3; j++ {
		t[0][j] = g[0][j]
		t[1][j] = (g[0][j] + g[1][j] + g[2][j]) / 2
		t[2][j] = (g[0][j] - g[1][j] + g[2][j]) / 2
		t[3][j] = g[2][j]
	}
	var u [4][4]float64 // (G g) G^T
	for i := 0; i < 4; i++ {
		u[i][0] = t[i][0]
		u[i][1] = (t[i][0] + t[i][1] + t[i][2]) / 2
		u[i][2] = (t[i][0] - t[i][1] + t[i][2]) / 2
		u[i][3] = t[i][2]
	}
	return u
}

// addWinograd gives a winoSlot to the layer's products that may run as
// Winograd (3x3, dilation 1, one group; stride 1, or an octconv, whose
// stride-2 products run at stride 1 on pooled inputs).
func (o *convOp) addWinograd() {
	if o.k != 3 || o.dl != 1 || o.groups != 1 || (o.stride != 1 && !o.oct) {
		return
	}
	for _, as := range [][]packedA{o.aH, o.aL, o.aLH} {
		for j := range as {
			as[j].wino = &winoSlot{}
		}
	}
}

// winoEligible reports whether a conv call of geometry geo and g groups can
// run as Winograd F(2x2, 3x3).
func winoEligible(geo *geom, g int) bool {
	return g == 1 && geo.kh == 3 && geo.kw == 3 && geo.sh == 1 && geo.sw == 1 &&
		geo.dh == 1 && geo.dw == 1 && geo.outH > 0 && geo.outW > 0
}

// winoUse reports whether the conv call with products prods and output size
// oh x ow runs as Winograd under the current mode.
func winoUse(prods []product, oh, ow int) bool {
	if winoMode == winoNever {
		return false
	}
	rows, c := 0, 0
	for _, p := range prods {
		if p.out == nil {
			continue
		}
		if len(p.a) != 1 || p.a[0].wino == nil {
			return false
		}
		rows += p.out.C
		c = max(c, p.a[0].K/9)
	}
	if rows == 0 {
		return false
	}
	return winoMode == winoAlways || winoWins(c, rows, oh, ow)
}

// winoWins is the measured rule for winoAuto (winograd_rule_*.go): whether Winograd beats the
// direct kernel for a conv call with c input channels, rows output channels
// (of all its products) and an oh x ow output.
func winoWins(c, rows, oh, ow int) bool {
	return winoMinChannels >= 0 && c >= winoMinChannels
}

// winoConv runs the products of one conv call over padded, the channel
// concatenation of the call's sources zero-padded into planes of hp x wp
// (padInto, with at least wp+1 values of slack after the last plane), as
// Winograd F(2x2, 3x3), and applies each product's epilogue.
func winoConv(ws *workspace, padded []float32, hp, wp, oh, ow int, prods []product) {
	winoCalls.Add(1)
	C := 0 // channels of V: the most any product reads (the others read a prefix)
	for _, p := range prods {
		if p.out != nil {
			C = max(C, p.a[0].K/9)
		}
	}
	ty, tx := (oh+1)/2, (ow+1)/2
	// Tile t = i*tr + j of V and M is tile (i, j); tr is tx, or tx rounded
	// up to whole vectors where the transforms write packed panels.
	tr := winoTileRow(tx)
	P := ty * tr
	// The products run over Pn columns, P rounded up to whole panels: a
	// last panel of a few tiles costs a whole tile anyway, and one of one
	// or two would run as slow matrix-vector products (a 14x14 map has 49
	// tiles: a third of the time went there).
	Pn := (P + nr - 1) / nr * nr
	tmp := ws.buf(bufWinoT, winoTmpLen(ty, tx))
	var V []float32
	var vx int // the values of one position x in V
	if winoPacked {
		// Position x of V is Pn/nr panels of C rows of nr tiles, in the
		// order the micro kernel reads them: each tile's value at
		// (x, c, t) at V[x*vx + (t/nr)*C*nr + c*nr + t%nr].
		vx = C * Pn
		V = ws.buf(bufWinoV, winoN*vx)
		c := 0
		for ; c+1 < C; c += 2 {
			winoInput2(V[c*nr:], vx, padded[c*hp*wp:], hp*wp, wp, ty, tx, tmp, C*nr)
		}
		if c < C {
			winoInput(V[c*nr:], vx, padded[c*hp*wp:], wp, ty, tx, tmp, C*nr)
		}
	} else {
		// Rows of V hold Pp values, with room for the vector transforms'
		// writes past the last tile: (x, c, t) at V[x*vx + c*Pp + t].
		Pp := (P + winoVecSlack() + nr - 1) / nr * nr
		vx = C * Pp
		V = ws.buf(bufWinoV, winoN*vx)
		for c := 0; c < C; c++ {
			winoInput(V[c*Pp:], vx, padded[c*hp*wp:], wp, ty, tx, tmp, 0)
		}
	}
	rows := 0
	for _, p := range prods {
		if p.out != nil {
			rows += p.out.C
		}
	}
	Mbuf := ws.buf(bufWinoM, winoN*rows*Pn+winoVecSlack())
	var as [2]packedA
	var outs [2][]float32
	panel := ws.buf(bufCol, C*nr) // unused: the products read V in place
	var tw [2]*winoWeights        // each product's transformed weights
	for n, p := 0, 0; p < len(prods); p++ {
		if prods[p].out != nil {
			tw[n] = prods[p].a[0].wino.weights(prods[p].a[0])
			n++
		}
	}
	for x := 0; x < winoN; x++ {
		r := rhs{padded: V[x*vx : (x+1)*vx], strided: true, ld: vx / C, K: C, N: Pn, srcW: Pn}
		if winoPacked {
			r.strided, r.packed, r.ld = false, true, 0
		}
		nq, off := 0, 0
		for _, p := range prods {
			if p.out == nil {
				continue
			}
			rq := p.out.C
			as[nq] = tw[nq].u[x]
			outs[nq] = Mbuf[off+x*rq*Pn : off+(x+1)*rq*Pn]
			off += winoN * rq * Pn
			nq++
		}
		gemmPanels(&r, as[:nq], outs[:nq], panel, ws.tile)
	}
	off := 0
	for _, p := range prods {
		if p.out == nil {
			continue
		}
		rq := p.out.C
		y := p.out.Data
		ep := p.ep
		// The bias and the activation are applied by the output transform,
		// unless a residual or a low map joins before the activation.
		fused := ep.add == nil && ep.low == nil
		b, lo, hi := float32(0), float32(math.Inf(-1)), float32(math.Inf(1))
		if fused {
			lo, hi = ep.act.bounds()
		}
		for m := 0; m < rq; m++ {
			if fused && ep.bias != nil {
				b = ep.bias[m]
			}
			winoOutput(y[m*oh*ow:(m+1)*oh*ow], ow, oh, Mbuf[off+m*Pn:], rq*Pn, ty, tx, tr, tmp, b, lo, hi)
		}
		off += winoN * rq * Pn
		if !fused {
			finish(y, y, rq, oh, ow, ow, &ep, ws.buf(bufUp, oh*ow))
		}
	}
}
