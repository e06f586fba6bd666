package weights

import (
	"math"
	"strings"

	"github.com/octave-project/octave/octcore"
)

// FoldBN returns a graph and parameters in which the BatchNorm of every conv
// and octconv layer is folded into its weights and bias: with
// s = gamma / sqrt(running_var + eps) per output channel, each output row of
// the weights is multiplied by s and the bias becomes
// bias*s + beta - running_mean*s. Those layers get BN = false and Bias = true.
// Standalone "bn" layers stay as they are. g and p are not modified; tensors
// that do not change are shared with p.
func FoldBN(g octcore.Graph, p octcore.Params) (octcore.Graph, octcore.Params, error) {
	specs, err := octcore.ParamSpecs(g)
	if err != nil {
		return nil, nil, err
	}
	ng := append(octcore.Graph(nil), g...)
	np := make(octcore.Params, len(p))
	for k, v := range p {
		np[k] = v
	}
	get := func(l *octcore.Layer, name string, n int) ([]float32, error) {
		t, ok := p[name]
		if !ok || t == nil {
			return nil, errorf("weights: fold BN of layer %q: missing parameter %q", l.Name, name)
		}
		if len(t.Shape) != 1 || t.Shape[0] != n || len(t.Data) != n {
			return nil, errorf("weights: fold BN of layer %q: parameter %q has shape %v, want [%d]", l.Name, name, t.Shape, n)
		}
		return t.Data, nil
	}
	for i := range ng {
		l := &ng[i]
		if !l.BN || (l.Kind != "conv" && l.Kind != "octconv") {
			continue
		}
		c := l.Out
		cH := c
		if l.Kind == "octconv" {
			cH, _ = octcore.Split(c, l.AlphaOut)
		}
		var bn [4][]float32
		for k, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			if bn[k], err = get(l, l.Name+".bn."+s, c); err != nil {
				return nil, nil, err
			}
			delete(np, l.Name+".bn."+s)
		}
		eps := l.Eps
		if eps == 0 {
			eps = 1e-5
		}
		scale := make([]float32, c)
		shift := make([]float32, c)
		for o := 0; o < c; o++ {
			v := float64(bn[3][o])
			if !(v >= 0) || math.IsInf(v, 0) {
				return nil, nil, errorf("weights: fold BN of layer %q: running_var[%d] = %v is not a variance", l.Name, o, v)
			}
			s := float64(bn[0][o]) / math.Sqrt(v+eps)
			scale[o] = float32(s)
			shift[o] = float32(float64(bn[1][o]) - float64(bn[2][o])*s)
		}
		for _, sp := range specs {
			if sp.Layer != i || sp.Role != "weight" {
				continue
			}
			w, ok := p[sp.Name]
			n := 1
			for _, d := range sp.Shape {
				n *= d
			}
			if !ok || w == nil || len(w.Data) != n {
				return nil, nil, errorf("weights: fold BN of layer %q: missing or mis-sized parameter %q (want shape %v)", l.Name, sp.Name, sp.Shape)
			}
			r0 := 0 // the first output channel of this tensor's rows
			if strings.HasSuffix(sp.Name, ".hl.weight") || strings.HasSuffix(sp.Name, ".ll.weight") {
				r0 = cH
			}
			rows := sp.Shape[0]
			cols := 0
			if rows > 0 {
				cols = n / rows
			}
			out := make([]float32, n)
			for r := 0; r < rows; r++ {
				s := scale[r0+r]
				for k := 0; k < cols; k++ {
					out[r*cols+k] = w.Data[r*cols+k] * s
				}
			}
			np[sp.Name] = &octcore.Param{Shape: append([]int(nil), sp.Shape...), Data: out}
		}
		bias := make([]float32, c)
		if l.Bias {
			b, err := get(l, l.Name+".bias", c)
			if err != nil {
				return nil, nil, err
			}
			copy(bias, b)
		}
		for o := range bias {
			bias[o] = bias[o]*scale[o] + shift[o]
		}
		np[l.Name+".bias"] = &octcore.Param{Shape: []int{c}, Data: bias}
		l.BN, l.Bias = false, true
	}
	return ng, np, nil
}
