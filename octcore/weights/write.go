package weights

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/octave-project/octave/internal/minijson"
	"github.com/octave-project/octave/octcore"
)

// WriteOptions selects how [Write] stores the weights.
type WriteOptions struct {
	// DType is the storage of the weight tensors of conv, octconv and linear
	// layers: "int8" (the default when empty), "float16" or "float32".
	// Biases, BatchNorm tensors and int8 scales are always float32.
	// With "int8" the BatchNorm of conv and octconv layers is folded into
	// their weights first (see [FoldBN]), so that the quantization sees the
	// weights the network really multiplies by.
	DType string
}

// outTensor is one tensor to write.
type outTensor struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// Write writes m as a model file. The weights are stored as opts says; every
// parameter the graph needs must be present with its shape, and no other.
// Metadata.Format defaults to [FormatVersion] and an empty Input to
// [DefaultInput]. Provenance keys must not collide with the reserved keys
// format, graph, labels, input and name.
func Write(w io.Writer, m *Model, opts WriteOptions) error {
	dt := opts.DType
	if dt == "" {
		dt = "int8"
	}
	if dt != "int8" && dt != "float16" && dt != "float32" {
		return errorf("weights: unknown dtype %q (want int8, float16 or float32)", opts.DType)
	}
	g, p := m.Graph, m.Params
	specs, err := octcore.ParamSpecs(g)
	if err != nil {
		return err
	}
	if err := checkParams(specs, p); err != nil {
		return err
	}
	if dt == "int8" {
		if g, p, err = FoldBN(g, p); err != nil {
			return err
		}
		if specs, err = octcore.ParamSpecs(g); err != nil {
			return err
		}
	}
	meta, err := metadataMap(g, &m.Meta)
	if err != nil {
		return err
	}
	var ts []outTensor
	for _, s := range specs {
		d := p[s.Name].Data
		if s.Role != "weight" || dt == "float32" {
			ts = append(ts, outTensor{s.Name, "F32", s.Shape, f32Bytes(d)})
			continue
		}
		if dt == "float16" {
			b := make([]byte, 2*len(d))
			for i, v := range d {
				binary.LittleEndian.PutUint16(b[2*i:], Float32ToFloat16(v))
			}
			ts = append(ts, outTensor{s.Name, "F16", s.Shape, b})
			continue
		}
		q, scale := Quantize(d, s.Shape[0])
		b := make([]byte, len(q))
		for i, v := range q {
			b[i] = byte(v)
		}
		ts = append(ts, outTensor{s.Name, "I8", s.Shape, b},
			outTensor{s.Name + ".scale", "F32", []int{s.Shape[0]}, f32Bytes(scale)})
	}
	// Wider elements first, so that every tensor starts at a multiple of its
	// element size (the data section itself starts at a multiple of 8).
	slices.SortStableFunc(ts, func(a, b outTensor) int { return dtypeSize[b.dtype] - dtypeSize[a.dtype] })
	parts := make([][]byte, len(ts))
	for i, t := range ts {
		parts[i] = t.data
	}
	meta[keyDataSHA256] = sha256Hex(parts...)

	var h bytes.Buffer
	h.WriteString(`{"__metadata__":{`)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			h.WriteByte(',')
		}
		writeJSONString(&h, k)
		h.WriteByte(':')
		writeJSONString(&h, meta[k])
	}
	h.WriteByte('}')
	off := 0
	for _, t := range ts {
		h.WriteByte(',')
		writeJSONString(&h, t.name)
		h.WriteString(`:{"dtype":"` + t.dtype + `","shape":[`)
		for i, d := range t.shape {
			if i > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		h.WriteString(`],"data_offsets":[` + strconv.Itoa(off) + "," + strconv.Itoa(off+len(t.data)) + "]}")
		off += len(t.data)
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	bw := bufio.NewWriter(w)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(h.Len()))
	bw.Write(n[:])
	bw.Write(h.Bytes())
	for _, t := range ts {
		bw.Write(t.data)
	}
	return bw.Flush()
}

// checkParams checks that p holds exactly the parameters of specs, with
// their shapes and finite values (variances non-negative), as Load will.
func checkParams(specs []octcore.ParamSpec, p octcore.Params) error {
	want := make(map[string]bool, len(specs))
	for _, s := range specs {
		want[s.Name] = true
		t, ok := p[s.Name]
		if !ok || t == nil {
			return errorf("weights: missing parameter %q %v", s.Name, s.Shape)
		}
		if !slices.Equal(t.Shape, s.Shape) {
			return errorf("weights: parameter %q has shape %v, want %v", s.Name, t.Shape, s.Shape)
		}
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		if len(t.Data) != n {
			return errorf("weights: parameter %q holds %d values, shape %v needs %d", s.Name, len(t.Data), s.Shape, n)
		}
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return errorf("weights: parameter %q: element %d is %v", s.Name, i, v)
			}
			if s.Role == "bn.running_var" && v < 0 {
				return errorf("weights: parameter %q: element %d is %v, a variance cannot be negative", s.Name, i, v)
			}
		}
	}
	var extra []string
	for k := range p {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return errorf("weights: parameters used by no layer: %q", extra)
	}
	return nil
}

// metadataMap builds the "__metadata__" map of a file.
func metadataMap(g octcore.Graph, md *Metadata) (map[string]string, error) {
	meta := map[string]string{}
	for k, v := range md.Provenance {
		switch k {
		case keyFormat, keyGraph, keyLabels, keyInput, keyName, keyDataSHA256:
			return nil, errorf("weights: provenance key %q is reserved", k)
		}
		meta[k] = v
	}
	meta[keyFormat] = md.Format
	if md.Format == "" {
		meta[keyFormat] = FormatVersion
	}
	gs, err := jsonString(g)
	if err != nil {
		return nil, errorf("weights: graph: %v", err)
	}
	meta[keyGraph] = gs
	in := md.Input
	if in.Channels == 0 {
		d := DefaultInput(g)
		d.Height, d.Width = in.Height, in.Width
		in = d
	} else if len(in.Mean) == 0 && len(in.Std) == 0 && in.Channels == g[0].Out {
		d := DefaultInput(g)
		in.Mean, in.Std = d.Mean, d.Std
	}
	if err := in.check(g); err != nil {
		return nil, errorf("weights: input: %v", err)
	}
	if meta[keyInput], err = jsonString(in); err != nil {
		return nil, errorf("weights: input: %v", err)
	}
	if len(md.Labels) > 0 {
		meta[keyLabels], _ = jsonString(md.Labels)
	}
	if md.Name != "" {
		meta[keyName] = md.Name
	}
	return meta, nil
}

// Quantize quantizes w, a tensor of rows rows, symmetrically per row:
// scale[r] = max|w[r,:]| / 127 and q = round(w / scale[r]) in [-127, 127]
// (a row of zeros has scale 0). Dequantized, scale[r]*q differs from w by at
// most scale[r]/2 (plus float32 rounding of the product).
func Quantize(w []float32, rows int) (q []int8, scale []float32) {
	q = make([]int8, len(w))
	scale = make([]float32, rows)
	if rows == 0 {
		return q, scale
	}
	cols := len(w) / rows
	for r := 0; r < rows; r++ {
		row := w[r*cols : (r+1)*cols]
		var amax float64
		for _, v := range row {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		s := float32(amax / 127)
		scale[r] = s
		if s == 0 {
			continue
		}
		for k, v := range row {
			x := math.RoundToEven(float64(v) / float64(s))
			x = math.Max(-127, math.Min(127, x))
			q[r*cols+k] = int8(x)
		}
	}
	return q, scale
}

func f32Bytes(d []float32) []byte {
	b := make([]byte, 4*len(d))
	for i, v := range d {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.Write(minijson.AppendString(nil, s))
}
