package onnx

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// A protocol buffers reader, written here independently of the encoder:
// fields of one message by number.
type field struct {
	num  int
	wire int
	v    uint64
	b    []byte
}

func parse(t *testing.T, b []byte) []field {
	t.Helper()
	var fs []field
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad key varint")
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.v, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatalf("bad varint in field %d", f.num)
			}
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatalf("bad length in field %d", f.num)
			}
			f.b = b[n : n+int(l)]
			b = b[n+int(l):]
		case 5:
			f.v = uint64(binary.LittleEndian.Uint32(b))
			b = b[4:]
		default:
			t.Fatalf("unexpected wire type %d", f.wire)
		}
		fs = append(fs, f)
	}
	return fs
}

func get(fs []field, num int) []field {
	var out []field
	for _, f := range fs {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

type parsedNode struct {
	op      string
	inputs  []string
	outputs []string
	attrs   map[string][]field
}

type parsedModel struct {
	ir, opset uint64
	nodes     []parsedNode
	inits     map[string][]int64 // name -> dims
	initBytes map[string]int
	inputs    map[string][]int64
	outputs   map[string][]int64
}

func parseModel(t *testing.T, b []byte) parsedModel {
	m := parsedModel{inits: map[string][]int64{}, initBytes: map[string]int{}, inputs: map[string][]int64{}, outputs: map[string][]int64{}}
	top := parse(t, b)
	m.ir = get(top, 1)[0].v
	os := parse(t, get(top, 8)[0].b)
	m.opset = get(os, 2)[0].v
	g := parse(t, get(top, 7)[0].b)
	for _, nf := range get(g, 1) {
		nfs := parse(t, nf.b)
		n := parsedNode{op: string(get(nfs, 4)[0].b), attrs: map[string][]field{}}
		for _, f := range get(nfs, 1) {
			n.inputs = append(n.inputs, string(f.b))
		}
		for _, f := range get(nfs, 2) {
			n.outputs = append(n.outputs, string(f.b))
		}
		for _, af := range get(nfs, 5) {
			afs := parse(t, af.b)
			n.attrs[string(get(afs, 1)[0].b)] = afs
		}
		m.nodes = append(m.nodes, n)
	}
	for _, tf := range get(g, 5) {
		tfs := parse(t, tf.b)
		var d []int64
		for _, f := range get(tfs, 1) {
			d = append(d, int64(f.v))
		}
		name := string(get(tfs, 8)[0].b)
		m.inits[name] = d
		m.initBytes[name] = len(get(tfs, 9)[0].b)
	}
	vi := func(f field) (string, []int64) {
		fs := parse(t, f.b)
		tp := parse(t, get(fs, 2)[0].b)
		tt := parse(t, get(tp, 1)[0].b)
		var d []int64
		for _, df := range get(parse(t, get(tt, 2)[0].b), 1) {
			d = append(d, int64(get(parse(t, df.b), 1)[0].v))
		}
		return string(get(fs, 1)[0].b), d
	}
	for _, f := range get(g, 11) {
		n, d := vi(f)
		m.inputs[n] = d
	}
	for _, f := range get(g, 12) {
		n, d := vi(f)
		m.outputs[n] = d
	}
	return m
}

func ints(fs []field) []int64 {
	var out []int64
	for _, f := range get(fs, 8) {
		out = append(out, int64(f.v))
	}
	return out
}

func checkWellFormed(t *testing.T, m parsedModel) map[string]int {
	t.Helper()
	if m.ir != IRVersion || m.opset != Opset {
		t.Errorf("ir %d opset %d", m.ir, m.opset)
	}
	defined := map[string]bool{"": true}
	for n := range m.inputs {
		defined[n] = true
	}
	for n, d := range m.inits {
		defined[n] = true
		elems := int64(1)
		for _, v := range d {
			elems *= v
		}
		if sz := m.initBytes[n]; int64(sz) != 4*elems && int64(sz) != 8*elems {
			t.Errorf("initializer %s: %d bytes for dims %v", n, sz, d)
		}
	}
	ops := map[string]int{}
	for i, n := range m.nodes {
		for _, in := range n.inputs {
			if !defined[in] {
				t.Fatalf("node %d (%s) reads %q before it is defined", i, n.op, in)
			}
		}
		for _, o := range n.outputs {
			if defined[o] {
				t.Fatalf("node %d (%s) redefines %q", i, n.op, o)
			}
			defined[o] = true
		}
		ops[n.op]++
	}
	for o := range m.outputs {
		if !defined[o] {
			t.Errorf("output %q is never computed", o)
		}
	}
	return ops
}

func TestExportMini(t *testing.T) {
	for _, alpha := range []float64{0, 0.25, 0.5} {
		t.Run(fmt.Sprint(alpha), func(t *testing.T) {
			g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: alpha})
			if err != nil {
				t.Fatal(err)
			}
			ps := octcore.RandomParams(g, 1)
			b, err := Export(g, ps, 28, 28)
			if err != nil {
				t.Fatal(err)
			}
			m := parseModel(t, b)
			ops := checkWellFormed(t, m)
			if d := m.inputs["input"]; fmt.Sprint(d) != "[1 1 28 28]" {
				t.Errorf("input dims %v", d)
			}
			if d := m.outputs["output"]; fmt.Sprint(d) != "[1 10]" {
				t.Errorf("output dims %v", d)
			}
			// One Conv per present path: count the weight tensors the
			// graph needs.
			specs, _ := octcore.ParamSpecs(g)
			convs := 0
			for _, s := range specs {
				if s.Role == "weight" && len(s.Shape) == 4 {
					convs++
				}
			}
			if ops["Conv"] != convs {
				t.Errorf("%d Conv nodes, the graph has %d conv weight tensors", ops["Conv"], convs)
			}
			if alpha == 0 && (ops["AveragePool"] != 0 || ops["Resize"] != 0) {
				t.Errorf("vanilla network has pooling or upsampling: %v", ops)
			}
			if alpha > 0 && (ops["AveragePool"] == 0 || ops["Resize"] == 0 || ops["Slice"] != 0) {
				// Even sizes up to the merge (stride 2, no upsampling): no crop.
				t.Errorf("octave network: pool2, up2 or crop count wrong: %v", ops)
			}
			if ops["Gemm"] != 1 || ops["GlobalAveragePool"] < 1 {
				t.Errorf("classifier ops: %v", ops)
			}
			for _, n := range m.nodes {
				switch n.op {
				case "AveragePool":
					if get(n.attrs["ceil_mode"], 3)[0].v != 1 || get(n.attrs["count_include_pad"], 3)[0].v != 0 {
						t.Errorf("pool2 must be ceil mode with padding excluded")
					}
				case "Conv":
					w := m.inits[n.inputs[1]]
					k := ints(n.attrs["kernel_shape"])
					if len(w) != 4 || w[2] != k[0] || w[3] != k[1] {
						t.Errorf("conv weight %v with kernel %v", w, k)
					}
				}
			}
		})
	}
}

func TestExportResNet50Shapes(t *testing.T) {
	g, err := octcore.Arch("oct-resnet50", octcore.ArchOptions{Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Export(g, octcore.RandomParams(g, 2), 224, 224)
	if err != nil {
		t.Fatal(err)
	}
	m := parseModel(t, b)
	checkWellFormed(t, m)
	// Every parameter of the folded network is stored once: conv weights
	// and conv biases (split per branch), linear weight and bias.
	var stored int64
	for n, d := range m.inits {
		e := int64(1)
		for _, v := range d {
			e *= v
		}
		if m.initBytes[n] == int(4*e) && len(d) != 0 && !(len(d) == 1 && d[0] == 4) {
			stored += e
		}
	}
	c, _ := octcore.CostOf(g, 224, 224)
	// Params counts BN scale and shift; folded, they become one bias per channel.
	var bnShift int64
	for i, l := range g {
		if l.BN {
			bnShift += int64(l.Out)
		}
		_ = i
	}
	if want := c.Params - bnShift; stored != want {
		t.Errorf("stored %d float values, want %d (params %d less %d BN shifts)", stored, want, c.Params, bnShift)
	}
	if d := m.outputs["output"]; fmt.Sprint(d) != "[1 1000]" {
		t.Errorf("output dims %v", d)
	}
}

func TestExportRejects(t *testing.T) {
	g, _ := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
	ps := octcore.RandomParams(g, 1)
	delete(ps, "fc.bias")
	if _, err := Export(g, ps, 28, 28); err == nil {
		t.Error("missing parameter accepted")
	}
}

func TestExportOddCrops(t *testing.T) {
	g, _ := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
	b, err := Export(g, octcore.RandomParams(g, 1), 27, 25)
	if err != nil {
		t.Fatal(err)
	}
	m := parseModel(t, b)
	ops := checkWellFormed(t, m)
	if ops["Slice"] == 0 {
		t.Fatalf("a 27x25 input needs crops after up2: %v", ops)
	}
	for _, n := range m.nodes {
		if n.op == "Slice" {
			if len(n.inputs) != 4 || m.inits[n.inputs[1]] == nil || m.inits[n.inputs[2]] == nil {
				t.Errorf("slice inputs %v", n.inputs)
			}
		}
	}
}
