package octcore

import (
	"sort"
	"strconv"
)

// Architectures builds the layer lists of the standard OctConv networks, laid
// out as the official code does: the stem stays vanilla, the first octave layer
// has alpha_in = 0, and (ResNets) the last stage is vanilla, merging at its
// first block's conv1 and shortcut. With alpha = 0 every network is its
// vanilla original, built from plain conv layers.

// ArchOptions selects the variant of an architecture.
type ArchOptions struct {
	Alpha   float64 // ratio of low-frequency channels in octave layers
	Width   float64 // width multiplier (MobileNets); 0 means 1
	Classes int     // classifier outputs; 0 means the architecture's default
}

// ArchNames lists the architectures that [Arch] builds.
func ArchNames() []string {
	archs := archTable()
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// archTable maps each architecture's name to its builder. It is a function,
// not a package variable, so that a binary that never calls [Arch] (the
// WebAssembly library) does not link the builders.
func archTable() map[string]func(ArchOptions) Graph {
	return map[string]func(ArchOptions) Graph{
		"oct-resnet26":    func(o ArchOptions) Graph { return octResNet(o, []int{2, 2, 2, 2}) },
		"oct-resnet50":    func(o ArchOptions) Graph { return octResNet(o, []int{3, 4, 6, 3}) },
		"oct-resnet101":   func(o ArchOptions) Graph { return octResNet(o, []int{3, 4, 23, 3}) },
		"oct-resnet152":   func(o ArchOptions) Graph { return octResNet(o, []int{3, 8, 36, 3}) },
		"oct-mobilenetv1": octMobileNetV1,
		"oct-mobilenetv2": octMobileNetV2,
		"oct-resnet-mini": OctResNetMini,
	}
}

// Arch returns the graph of the architecture called name.
func Arch(name string, o ArchOptions) (Graph, error) {
	f, ok := archTable()[name]
	if !ok {
		return nil, errorf("octcore: unknown architecture %q (known: %v)", name, ArchNames())
	}
	if !(o.Alpha >= 0 && o.Alpha <= 1) {
		return nil, errorf("octcore: alpha %v outside [0, 1]", o.Alpha)
	}
	if o.Width == 0 {
		o.Width = 1
	}
	if !(o.Width > 0 && o.Width <= 8) {
		return nil, errorf("octcore: width multiplier %v outside (0, 8]", o.Width)
	}
	if o.Classes < 0 || o.Classes > 1<<20 {
		return nil, errorf("octcore: %d classes out of range", o.Classes)
	}
	return f(o), nil
}

// builder appends layers, picking conv or octconv by the alphas.
type builder struct {
	g    Graph
	last string
}

func (b *builder) add(l Layer) string {
	b.g = append(b.g, l)
	b.last = l.Name
	return l.Name
}

// conv adds a convolution with BatchNorm: vanilla when both alphas are 0.
func (b *builder) conv(name, input string, in, out, k, stride, groups int, ai, ao float64, act, add string) string {
	l := Layer{Name: name, Kind: "octconv", In: in, Out: out, Kernel: k, Stride: stride, Pad: (k - 1) / 2,
		Groups: groups, AlphaIn: ai, AlphaOut: ao, BN: true, Act: act, Add: add}
	if ai == 0 && ao == 0 {
		l.Kind = "conv"
	}
	if input != "" && input != b.last {
		l.Inputs = []string{input}
	}
	return b.add(l)
}

func octResNet(o ArchOptions, blocks []int) Graph {
	a := o.Alpha
	classes := o.Classes
	if classes == 0 {
		classes = 1000
	}
	b := &builder{}
	b.add(Layer{Name: "input", Kind: "input", Out: 3})
	b.conv("stem.conv", "", 3, 64, 7, 2, 1, 0, 0, "relu", "")
	b.g[len(b.g)-1].Pad = 3
	b.add(Layer{Name: "stem.pool", Kind: "maxpool", Kernel: 3, Stride: 2, Pad: 1})
	in := 64
	x := b.last
	cur := 0.0 // alpha of the current feature
	for s, n := range blocks {
		planes := 64 << s
		for i := 0; i < n; i++ {
			name := "layer" + strconv.Itoa(s+1) + "." + strconv.Itoa(i)
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			// The last stage is vanilla; its first block merges the octaves.
			ai, ao := cur, a
			inner := a
			if s == len(blocks)-1 {
				ao, inner = 0, 0
			}
			c1 := b.conv(name+".conv1", x, in, planes, 1, 1, 1, ai, ao, "relu", "")
			c2 := b.conv(name+".conv2", c1, planes, planes, 3, stride, 1, ao, inner, "relu", "")
			short := x
			if i == 0 {
				short = b.conv(name+".downsample", x, in, planes*4, 1, stride, 1, ai, inner, "", "")
			}
			x = b.conv(name+".conv3", c2, planes, planes*4, 1, 1, 1, inner, inner, "relu", short)
			in, cur = planes*4, inner
		}
	}
	b.add(Layer{Name: "gap", Kind: "gap"})
	b.add(Layer{Name: "fc", Kind: "linear", In: in, Out: classes})
	return b.g
}

// octMobileNetV1 follows the official layout: 13 depthwise-separable blocks;
// the depthwise convs of blocks 1-10 and the pointwise convs of blocks 0-9
// are octave layers (the pointwise of block 10 merges), the rest vanilla.
func octMobileNetV1(o ArchOptions) Graph {
	a, m := o.Alpha, o.Width
	classes := o.Classes
	if classes == 0 {
		classes = 1000
	}
	mul := func(c int) int { return int(float64(c) * m) }
	dw := []int{32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024}
	pw := []int{64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024}
	strides := []int{1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1}
	b := &builder{}
	b.add(Layer{Name: "input", Kind: "input", Out: 3})
	b.conv("stem.conv", "", 3, mul(32), 3, 2, 1, 0, 0, "relu", "")
	cur := 0.0
	for i := range dw {
		c := mul(dw[i])
		dwAlpha, pwAlpha := 0.0, 0.0
		if i >= 1 && i <= 10 {
			dwAlpha = a
		}
		if i <= 9 {
			pwAlpha = a
		}
		name := "block" + strconv.Itoa(i)
		b.conv(name+".dw", "", c, c, 3, strides[i], c, cur, dwAlpha, "relu", "")
		b.conv(name+".pw", "", c, mul(pw[i]), 1, 1, 1, dwAlpha, pwAlpha, "relu", "")
		cur = pwAlpha
	}
	b.add(Layer{Name: "gap", Kind: "gap"})
	b.add(Layer{Name: "fc", Kind: "linear", In: mul(1024), Out: classes})
	return b.g
}

// octMobileNetV2 follows the official layout: the block inputs and outputs
// stay vanilla and the expanded (middle) channels of the first 13 blocks are
// octave: expand 0 -> alpha, depthwise alpha -> alpha, project alpha -> 0.
// The first block (expansion 1) has no expand conv, as in the original.
func octMobileNetV2(o ArchOptions) Graph {
	a, m := o.Alpha, o.Width
	classes := o.Classes
	if classes == 0 {
		classes = 1000
	}
	mul := func(c int) int { return makeDivisible(float64(c)*m, 8) }
	type stage struct{ t, c, n, s int }
	stages := []stage{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	b := &builder{}
	b.add(Layer{Name: "input", Kind: "input", Out: 3})
	in := mul(32)
	b.conv("stem.conv", "", 3, in, 3, 2, 1, 0, 0, "relu6", "")
	k := 0
	for _, st := range stages {
		for i := 0; i < st.n; i++ {
			out := mul(st.c)
			stride := 1
			if i == 0 {
				stride = st.s
			}
			mid := in * st.t
			alpha := 0.0
			if k < 13 {
				alpha = a
			}
			name := "block" + strconv.Itoa(k)
			x := b.last
			if st.t != 1 {
				b.conv(name+".expand", "", in, mid, 1, 1, 1, 0, alpha, "relu6", "")
			} else {
				alpha = 0 // the input is vanilla and there is no expand conv to split it
			}
			b.conv(name+".dw", "", mid, mid, 3, stride, mid, alpha, alpha, "relu6", "")
			add := ""
			if stride == 1 && in == out {
				add = x
			}
			b.conv(name+".project", "", mid, out, 1, 1, 1, alpha, 0, "", add)
			in = out
			k++
		}
	}
	last := 1280
	if m > 1 {
		last = mul(1280)
	}
	b.conv("head.conv", "", in, last, 1, 1, 1, 0, 0, "relu6", "")
	b.add(Layer{Name: "gap", Kind: "gap"})
	b.add(Layer{Name: "fc", Kind: "linear", In: last, Out: classes})
	return b.g
}

// makeDivisible rounds v to the nearest multiple of d, not below 90% of v.
func makeDivisible(v float64, d int) int {
	n := max(d, int(v+float64(d)/2)/d*d)
	if float64(n) < 0.9*v {
		n += d
	}
	return n
}

// OctResNetMini is the small Oct-ResNet for 28x28 one-channel images
// (Fashion-MNIST, MNIST): a vanilla 3x3 stem, three stages of one basic block
// (two 3x3 convs) at 28, 14 and 7 pixels with widths 16w, 32w and 64w, the
// last stage vanilla and merging at its first conv and shortcut, then global
// average pooling and a linear classifier. About 9.6 M multiply-adds at alpha 0.
func OctResNetMini(o ArchOptions) Graph {
	a := o.Alpha
	w := o.Width
	if w == 0 {
		w = 1
	}
	classes := o.Classes
	if classes == 0 {
		classes = 10
	}
	widths := []int{int(16 * w), int(32 * w), int(64 * w)}
	b := &builder{}
	b.add(Layer{Name: "input", Kind: "input", Out: 1})
	in := widths[0]
	b.conv("stem", "", 1, in, 3, 1, 1, 0, 0, "relu", "")
	x := b.last
	cur := 0.0
	for s, c := range widths {
		name := "stage" + strconv.Itoa(s+1)
		stride := 1
		if s > 0 {
			stride = 2
		}
		ai, ao := cur, a
		if s == len(widths)-1 {
			ao = 0
		}
		c1 := b.conv(name+".conv1", x, in, c, 3, stride, 1, ai, ao, "relu", "")
		short := x
		// The first stage always has a projection shortcut, so that every
		// alpha (including 0) has the same layers and parameters.
		if stride != 1 || in != c || s == 0 {
			short = b.conv(name+".shortcut", x, in, c, 1, stride, 1, ai, ao, "", "")
		}
		x = b.conv(name+".conv2", c1, c, c, 3, 1, 1, ao, ao, "relu", short)
		in, cur = c, ao
	}
	b.add(Layer{Name: "gap", Kind: "gap"})
	b.add(Layer{Name: "fc", Kind: "linear", In: in, Out: classes})
	return b.g
}
