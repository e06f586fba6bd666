package octcore

// ParamSpec names one parameter tensor that a graph needs and its shape.
type ParamSpec struct {
	Name  string
	Shape []int
	// Role is "weight", "bias", "bn.weight", "bn.bias", "bn.running_mean" or
	// "bn.running_var"; Layer is the index of the layer it belongs to.
	Role  string
	Layer int
}

// ParamSpecs lists, in layer order, every parameter tensor that g needs.
// A standalone bn layer reads its channel count from the input shape, so the
// graph is inferred at a nominal 32x32 input; bn layers whose channel count
// depends on the size are not supported.
func ParamSpecs(g Graph) ([]ParamSpec, error) {
	s, err := Compile(g)
	if err != nil {
		return nil, err
	}
	return s.Params, s.ParamsErr
}

// paramSpecs lists the parameter tensors of the checked layers rs.
func paramSpecs(rs []resolved) ([]ParamSpec, error) {
	var err error
	var specs []ParamSpec
	add := func(i int, name, role string, shape ...int) {
		specs = append(specs, ParamSpec{Name: name, Shape: shape, Role: role, Layer: i})
	}
	bn := func(i int, prefix, role string, c int) {
		for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			add(i, prefix+"."+s, role+s, c)
		}
	}
	var shapes []Shape
	for i := range rs {
		r := &rs[i]
		switch r.Kind {
		case "conv", "octconv":
			k, g := r.Kernel, r.Groups
			if r.Kind == "conv" {
				add(i, r.Name+".weight", "weight", r.Out, r.In/g, k, k)
			} else {
				for _, p := range Paths {
					if ok, out, in := r.path(p); ok {
						add(i, p.Weight(r.Name), "weight", out, in, k, k)
					}
				}
			}
			if r.Bias {
				add(i, r.Name+".bias", "bias", r.Out)
			}
			if r.BN {
				bn(i, r.Name+".bn", "bn.", r.Out)
			}
		case "linear":
			add(i, r.Name+".weight", "weight", r.Out, r.In)
			add(i, r.Name+".bias", "bias", r.Out)
		case "bn":
			if shapes == nil {
				if shapes, _, err = infer(rs, 32, 32); err != nil {
					return nil, err
				}
			}
			bn(i, r.Name, "bn.", shapes[r.inputs[0]].Channels())
		}
	}
	return specs, nil
}
