//go:build !octave_nomathrand

package octcore

import (
	"math"
	"math/rand"
)

// This file is left out of the WebAssembly library (cmd/buildwasm builds it
// with the tag octave_nomathrand): importing math/rand alone costs a js/wasm
// binary about 190 KB, and the library only loads trained weights.

// RandomParams returns He-initialized parameters for g (BatchNorm as the
// identity, biases zero), deterministic for a seed. It panics if g is invalid;
// check g with [CostOf] first when it comes from outside.
func RandomParams(g Graph, seed int64) Params {
	specs, err := ParamSpecs(g)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewSource(seed))
	ps := Params{}
	for _, s := range specs {
		p := &Param{Shape: s.Shape, Data: make([]float32, size(s.Shape))}
		switch s.Role {
		case "weight":
			fanIn := size(s.Shape[1:])
			std := math.Sqrt(2 / float64(fanIn))
			for i := range p.Data {
				p.Data[i] = float32(rng.NormFloat64() * std)
			}
		case "bn.weight", "bn.running_var":
			for i := range p.Data {
				p.Data[i] = 1
			}
		}
		ps[s.Name] = p
	}
	return ps
}
