package torchckpt

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/octave-project/octave/octcore"
)

// OctconvPytorchArchs lists the architectures of d-li14/octconv.pytorch that
// [OctconvPytorch] maps.
var OctconvPytorchArchs = []string{"oct-resnet26", "oct-resnet50", "oct-resnet101", "oct-resnet152", "oct-mobilenetv1"}

// resnetBlocks is the number of bottlenecks per stage of each Oct-ResNet.
var resnetBlocks = map[string][4]int{
	"oct-resnet26":  {2, 2, 2, 2},
	"oct-resnet50":  {3, 4, 6, 3},
	"oct-resnet101": {3, 4, 23, 3},
	"oct-resnet152": {3, 8, 36, 3},
}

// source says where an Octave layer's tensors are in a d-li14 state_dict.
type source struct {
	// oct: an Octave conv module (P.conv.conv_h2h.weight, P.bn_h.*, P.bn_l.*);
	// otherwise a plain nn.Conv2d at conv and its nn.BatchNorm2d at bn.
	oct      bool
	prefix   string // oct modules
	conv, bn string // plain modules
}

// layerSource maps the Octave layer names of octcore.Arch to the module
// names of d-li14/octconv.pytorch.
func layerSource(arch, name string) (source, bool) {
	if arch == "oct-mobilenetv1" {
		if name == "stem.conv" {
			return source{conv: "features.0.0", bn: "features.0.1"}, true
		}
		// blockI.dw / blockI.pw are features.(I+1).0 / .1.
		if rest, ok := strings.CutPrefix(name, "block"); ok {
			num, part, _ := strings.Cut(rest, ".")
			i, err := strconv.Atoi(num)
			if err != nil {
				return source{}, false
			}
			sub := map[string]string{"dw": "0", "pw": "1"}[part]
			return source{oct: true, prefix: "features." + strconv.Itoa(i+1) + "." + sub}, sub != ""
		}
		return source{}, false
	}
	switch {
	case name == "stem.conv":
		return source{conv: "conv1", bn: "bn1"}, true
	case strings.HasSuffix(name, ".downsample"):
		return source{oct: true, prefix: name + ".0"}, true
	case strings.HasPrefix(name, "layer"):
		return source{oct: true, prefix: name}, true
	}
	return source{}, false
}

// Graph returns the Octave graph that computes what d-li14's model arch
// computes, with classes outputs. It is octcore.Arch at alpha 0.5 with one
// change: that project's octave convolutions of stride 2 average-pool 2x2 and
// convolve at stride 1 even where both alphas are 0 (Oct-ResNet's last stage
// entry, Oct-MobileNet's blocks 11), which Octave writes as an octconv with
// alpha 0 / 0; a vanilla conv of stride 2 would sample instead of average.
func Graph(arch string, classes int) (octcore.Graph, error) {
	if !known(arch) {
		return nil, fmt.Errorf("unknown architecture %q for octconv.pytorch (known: %s)", arch, strings.Join(OctconvPytorchArchs, ", "))
	}
	g, err := octcore.Arch(arch, octcore.ArchOptions{Alpha: 0.5, Classes: classes})
	if err != nil {
		return nil, err
	}
	for i := range g {
		l := &g[i]
		if src, ok := layerSource(arch, l.Name); ok && src.oct && l.Kind == "conv" && l.Stride == 2 {
			l.Kind = "octconv"
		}
	}
	return g, nil
}

func known(arch string) bool {
	for _, a := range OctconvPytorchArchs {
		if a == arch {
			return true
		}
	}
	return false
}

// GuessArch names the architecture whose module names a state_dict's keys
// follow ("" when none): Oct-MobileNet's features.N, or an Oct-ResNet by its
// number of bottlenecks per stage.
func GuessArch(sd *StateDict) string {
	var counts [4]int
	mobile := false
	for _, k := range sd.Keys {
		if strings.HasPrefix(k, "features.") {
			mobile = true
		}
		for s := 0; s < 4; s++ {
			if rest, ok := strings.CutPrefix(k, "layer"+strconv.Itoa(s+1)+"."); ok {
				num, _, _ := strings.Cut(rest, ".")
				if i, err := strconv.Atoi(num); err == nil && i+1 > counts[s] {
					counts[s] = i + 1
				}
			}
		}
	}
	if mobile && counts == [4]int{} {
		return "oct-mobilenetv1"
	}
	for a, b := range resnetBlocks {
		if b == counts {
			return a
		}
	}
	return ""
}

// issue is one problem of a state_dict against the expected layout.
type issue struct{ key, msg string }

// OctconvPytorch maps a state_dict of d-li14/octconv.pytorch's model arch onto
// Octave's graph for it (see [Graph]): per layer, P.conv.conv_h2h/h2l/l2h/l2l
// .weight become the layer's hh/hl/lh/ll weights and P.bn_h / P.bn_l are
// concatenated (high channels first) into its BatchNorm. The number of
// classes is read from fc.weight. Every tensor the graph needs must be there
// with its exact shape and every key must be used (num_batches_tracked
// excepted); the error names each offending key and the shape expected.
func OctconvPytorch(arch string, sd *StateDict) (octcore.Graph, octcore.Params, error) {
	if !known(arch) {
		return nil, nil, fmt.Errorf("unknown architecture %q for octconv.pytorch (known: %s)", arch, strings.Join(OctconvPytorchArchs, ", "))
	}
	if guess := GuessArch(sd); guess != "" && guess != arch {
		return nil, nil, fmt.Errorf("the checkpoint is an %s, not an %s (its keys %s); import it with --arch %s",
			guess, arch, archEvidence(guess), guess)
	}
	classes := 1000
	fcIn := 2048
	if arch == "oct-mobilenetv1" {
		fcIn = 1024
	}
	if fc, ok := sd.Tensors["fc.weight"]; ok && len(fc.Shape) == 2 && fc.Shape[1] == fcIn && fc.Shape[0] > 0 {
		classes = fc.Shape[0]
	}
	g, err := Graph(arch, classes)
	if err != nil {
		return nil, nil, err
	}
	specs, err := octcore.ParamSpecs(g)
	if err != nil {
		return nil, nil, err
	}
	used := map[string]bool{}
	var issues []issue
	// take returns the tensor at key with the given shape, or records why not.
	take := func(key string, shape []int, what string) []float32 {
		t, ok := sd.Tensors[key]
		if !ok {
			issues = append(issues, issue{key, fmt.Sprintf("missing key %q %v (%s)", key, shape, what)})
			return nil
		}
		used[key] = true
		if !slices.Equal(t.Shape, shape) {
			issues = append(issues, issue{key, fmt.Sprintf("key %q has shape %v, %s needs %v", key, t.Shape, what, shape)})
			return nil
		}
		if !isFloat(t.DType) {
			issues = append(issues, issue{key, fmt.Sprintf("key %q is %s, %s needs a floating-point tensor", key, t.DType, what)})
			return nil
		}
		return t.Data
	}
	params := octcore.Params{}
	for _, s := range specs {
		l := &g[s.Layer]
		what := fmt.Sprintf("%s's layer %q", arch, l.Name)
		var data []float32
		switch {
		case l.Kind == "linear":
			data = take(s.Name, s.Shape, what) // fc.weight, fc.bias
		default:
			src, ok := layerSource(arch, l.Name)
			if !ok {
				return nil, nil, fmt.Errorf("internal: no source for layer %q", l.Name)
			}
			role := s.Role
			switch {
			case role == "weight" && !src.oct:
				data = take(src.conv+".weight", s.Shape, what)
			case role == "weight":
				path := "hh"
				if l.Kind == "octconv" {
					path = strings.TrimSuffix(strings.TrimPrefix(s.Name, l.Name+"."), ".weight")
				}
				conv := map[string]string{"hh": "conv_h2h", "hl": "conv_h2l", "lh": "conv_l2h", "ll": "conv_l2l"}[path]
				data = take(src.prefix+".conv."+conv+".weight", s.Shape, what+" "+strings.ToUpper(path[:1])+"->"+strings.ToUpper(path[1:]))
			case strings.HasPrefix(role, "bn."):
				field := strings.TrimPrefix(role, "bn.")
				if !src.oct {
					data = take(src.bn+"."+field, s.Shape, what+" BatchNorm")
					break
				}
				cH, cL := l.Out, 0
				if l.Kind == "octconv" {
					cH, cL = octcore.Split(l.Out, l.AlphaOut)
				}
				data = make([]float32, 0, l.Out)
				ok := true
				for _, b := range []struct {
					bn string
					c  int
				}{{"bn_h", cH}, {"bn_l", cL}} {
					if b.c == 0 {
						continue
					}
					d := take(src.prefix+"."+b.bn+"."+field, []int{b.c}, what+" BatchNorm ("+b.bn+")")
					ok = ok && d != nil
					data = append(data, d...)
				}
				if !ok {
					data = nil
				}
			default:
				return nil, nil, fmt.Errorf("internal: unexpected parameter %q (%s)", s.Name, role)
			}
		}
		if data != nil {
			params[s.Name] = &octcore.Param{Shape: append([]int(nil), s.Shape...), Data: data}
		}
	}
	for _, k := range sd.Keys {
		if used[k] {
			continue
		}
		if strings.HasSuffix(k, ".num_batches_tracked") {
			base := strings.TrimSuffix(k, ".num_batches_tracked")
			if used[base+".running_mean"] {
				continue
			}
		}
		issues = append(issues, issue{k, fmt.Sprintf("extra key %q %v: %s has no such parameter", k, sd.Tensors[k].Shape, arch)})
	}
	if len(issues) > 0 {
		const show = 6
		var b strings.Builder
		fmt.Fprintf(&b, "the checkpoint does not fit %s (%d problems):", arch, len(issues))
		for i, is := range issues {
			if i == show {
				fmt.Fprintf(&b, "\n  ... and %d more", len(issues)-show)
				break
			}
			b.WriteString("\n  " + is.msg)
		}
		return nil, nil, fmt.Errorf("%s", b.String())
	}
	return g, params, nil
}

func archEvidence(arch string) string {
	if b, ok := resnetBlocks[arch]; ok {
		return fmt.Sprintf("have %d, %d, %d, %d bottlenecks in layer1..layer4", b[0], b[1], b[2], b[3])
	}
	return "are MobileNet's features.N"
}

func isFloat(dt string) bool {
	return dt == "float32" || dt == "float16" || dt == "bfloat16" || dt == "float64"
}
