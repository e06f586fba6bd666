//go:build js && wasm

package main

import (
	"slices"
	"strings"
	"time"

	"github.com/octave-project/octave/internal/minijson"
	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// model is one loaded network and what the JavaScript side needs to know
// about it. It is not safe for concurrent use (nor is anything in a wasm
// instance: Go's js/wasm is single-threaded).
type model struct {
	net   *octcore.Net
	meta  weights.Metadata
	graph octcore.Graph
	info  modelInfo
	probs []float32 // reused output of classify
	pix   []byte    // reused copy of an image input's bytes
}

// modelInfo is model.info on the JavaScript side, in its field names.
type modelInfo struct {
	Name    string    `json:"name"`
	Format  string    `json:"format"`
	Alpha   float64   `json:"alpha"`
	Input   inputInfo `json:"input"`
	Labels  []string  `json:"labels"`
	Outputs int       `json:"outputs"`
	Params  int64     `json:"params"`
	// ParamsFolded counts the parameters with BatchNorm folded.
	ParamsFolded int64             `json:"paramsFolded"`
	MACs         int64             `json:"macs"`
	MACsByPath   pathMACs          `json:"macsByPath"`
	CostSize     [2]int            `json:"costSize"`
	Layers       []layerInfo       `json:"layers"`
	Provenance   map[string]string `json:"provenance"`
	SIMD         bool              `json:"simd"`
}

// inputInfo is the model file's input spec, under the same JSON names.
type inputInfo = weights.InputSpec

type pathMACs struct {
	HH int64 `json:"hh"`
	HL int64 `json:"hl"`
	LH int64 `json:"lh"`
	LL int64 `json:"ll"`
}

type layerInfo struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	AlphaIn     float64  `json:"alphaIn"`
	AlphaOut    float64  `json:"alphaOut"`
	High        []int    `json:"high"`
	Low         []int    `json:"low"`
	Params      int64    `json:"params"`
	MACs        int64    `json:"macs"`
	MACsByPath  pathMACs `json:"macsByPath"`
	Activations int64    `json:"activations"`
}

// loadModel parses a model file and builds its network.
func loadModel(data []byte) (*model, error) {
	m, err := weights.Load(data)
	if err != nil {
		return nil, err
	}
	return newModel(m)
}

// newModel builds the network of m and describes it.
func newModel(m *weights.Model) (*model, error) {
	net, err := m.Build()
	if err != nil {
		return nil, err
	}
	d, err := weights.Describe(m)
	if d == nil {
		return nil, err
	}
	if err != nil {
		return nil, errorf("model cost at %dx%d: %w", d.CostSize[0], d.CostSize[1], err)
	}
	cost := d.Cost
	info := modelInfo{
		Name:         d.Name,
		Format:       d.Format,
		Alpha:        d.Alpha,
		Input:        d.Input,
		Labels:       d.Labels,
		Params:       cost.Params,
		ParamsFolded: d.ParamsFolded,
		MACs:         cost.MACs,
		CostSize:     d.CostSize,
		Provenance:   d.Provenance,
		SIMD:         octcore.SIMD,
	}
	for _, lc := range cost.Layers {
		li := layerInfo{
			Name: lc.Name, Kind: lc.Kind, AlphaIn: lc.AlphaIn, AlphaOut: lc.AlphaOut,
			Params: lc.Params, MACs: lc.MACs, MACsByPath: pathMACs{lc.HH, lc.HL, lc.LH, lc.LL},
			Activations: lc.Activations, Low: lc.OutLow,
		}
		if lc.Out.CH > 0 {
			li.High = lc.OutHigh
		}
		info.MACsByPath.HH += lc.HH
		info.MACsByPath.HL += lc.HL
		info.MACsByPath.LH += lc.LH
		info.MACsByPath.LL += lc.LL
		info.Layers = append(info.Layers, li)
	}
	info.Outputs = d.Outputs
	return &model{net: net, meta: m.Meta, graph: m.Graph, info: info}, nil
}

// infoJSON returns the model's description as JSON, as encoding/json would
// write m.info (which TestInfoJSON checks); minijson spares this binary the
// reflection of encoding/json.
func (m *model) infoJSON() (string, error) {
	var w minijson.Writer
	in := &m.info
	w.BeginObject()
	w.Key("name")
	w.String(in.Name)
	w.Key("format")
	w.String(in.Format)
	w.Key("alpha")
	w.Float(in.Alpha, 64)
	w.Key("input")
	w.BeginObject()
	w.Key("channels")
	w.Int(int64(in.Input.Channels))
	w.Key("height")
	w.Int(int64(in.Input.Height))
	w.Key("width")
	w.Int(int64(in.Input.Width))
	w.Key("mean")
	w.Float32s(in.Input.Mean)
	w.Key("std")
	w.Float32s(in.Input.Std)
	if in.Input.ResizeShorter != 0 {
		w.Key("resize_shorter")
		w.Int(int64(in.Input.ResizeShorter))
	}
	if in.Input.Crop != "" {
		w.Key("crop")
		w.String(in.Input.Crop)
	}
	w.EndObject()
	w.Key("labels")
	w.Strings(in.Labels)
	w.Key("outputs")
	w.Int(int64(in.Outputs))
	w.Key("params")
	w.Int(in.Params)
	w.Key("paramsFolded")
	w.Int(in.ParamsFolded)
	w.Key("macs")
	w.Int(in.MACs)
	w.Key("macsByPath")
	writePathMACs(&w, in.MACsByPath)
	w.Key("costSize")
	w.Ints(in.CostSize[:])
	w.Key("layers")
	if in.Layers == nil {
		w.Null()
	} else {
		w.BeginArray()
		for i := range in.Layers {
			l := &in.Layers[i]
			w.BeginObject()
			w.Key("name")
			w.String(l.Name)
			w.Key("kind")
			w.String(l.Kind)
			w.Key("alphaIn")
			w.Float(l.AlphaIn, 64)
			w.Key("alphaOut")
			w.Float(l.AlphaOut, 64)
			w.Key("high")
			w.Ints(l.High)
			w.Key("low")
			w.Ints(l.Low)
			w.Key("params")
			w.Int(l.Params)
			w.Key("macs")
			w.Int(l.MACs)
			w.Key("macsByPath")
			writePathMACs(&w, l.MACsByPath)
			w.Key("activations")
			w.Int(l.Activations)
			w.EndObject()
		}
		w.EndArray()
	}
	w.Key("provenance")
	if in.Provenance == nil {
		w.Null()
	} else {
		keys := make([]string, 0, len(in.Provenance))
		for k := range in.Provenance {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.BeginObject()
		for _, k := range keys {
			w.Key(k)
			w.String(in.Provenance[k])
		}
		w.EndObject()
	}
	w.Key("simd")
	w.Bool(in.SIMD)
	w.EndObject()
	return string(w.Bytes()), w.Err()
}

func writePathMACs(w *minijson.Writer, p pathMACs) {
	w.BeginObject()
	w.Key("hh")
	w.Int(p.HH)
	w.Key("hl")
	w.Int(p.HL)
	w.Key("lh")
	w.Int(p.LH)
	w.Key("ll")
	w.Int(p.LL)
	w.EndObject()
}

// input checks the shape of an input tensor against the model and returns a
// tensor over the model's reused input buffer, to be filled by the caller.
func (m *model) input(c, h, w int) (*octcore.Tensor, error) {
	want, _ := m.net.InputSplit()
	if c != want {
		return nil, errorf("the input has %d channels, the model expects %d", c, want)
	}
	if h <= 0 || w <= 0 || h*w > octcore.MaxInputPixels {
		return nil, errorf("input size %dx%d is outside 1..%d pixels", h, w, octcore.MaxInputPixels)
	}
	// The network's own input buffer: the call copies the input once.
	return m.net.InputTensor(h, w)
}

// scores returns the output of the last run as class scores: the logits
// (the network's output) and the probabilities (put through a softmax
// unless the last layer is one). The slices are reused by the next call.
func (m *model) scores() (logits, probs []float32, err error) {
	out, err := m.net.Output(m.graph[len(m.graph)-1].Name)
	if err != nil {
		return nil, nil, err
	}
	if out.L != nil || out.H == nil || out.H.H != 1 || out.H.W != 1 {
		return nil, nil, errorf("the model's output is a %v feature map, not a vector of class scores", shapeOf(out))
	}
	logits = out.H.Data[:out.H.C]
	p := append(m.probs[:0], logits...)
	m.probs = p
	if m.graph[len(m.graph)-1].Kind != "softmax" {
		octcore.Softmax(p)
	}
	return logits, p, nil
}

// layerMap is the output of one layer in a featureMaps call.
type layerMap struct {
	Layer     string
	Kind      string
	High, Low *octcore.Tensor
	Time      time.Duration
}

// featureMaps runs the network on x and returns the outputs of the named
// layers (every conv and octconv layer when names is empty). The tensors are
// the network's own buffers: copy them out before the next run.
func (m *model) featureMaps(x octcore.Feature, names []string) ([]layerMap, time.Duration, error) {
	var sel []int
	if len(names) == 0 {
		for i, l := range m.graph {
			if l.Kind == "conv" || l.Kind == "octconv" {
				sel = append(sel, i)
			}
		}
	}
	for _, n := range names {
		i := slices.IndexFunc(m.graph, func(l octcore.Layer) bool { return l.Name == n })
		if i < 0 {
			return nil, 0, errorf("unknown layer %q (the model's layers: %s)", n, layerNames(m.graph))
		}
		sel = append(sel, i)
	}
	t0 := time.Now()
	if _, err := m.net.RunFeature(x); err != nil {
		return nil, 0, err
	}
	total := time.Since(t0)
	times := m.net.LayerTimes()
	maps := make([]layerMap, 0, len(sel))
	for _, i := range sel {
		f, err := m.net.Output(m.graph[i].Name)
		if err != nil {
			return nil, 0, err
		}
		lm := layerMap{Layer: m.graph[i].Name, Kind: m.graph[i].Kind, High: f.H, Low: f.L}
		if i < len(times) {
			lm.Time = times[i]
		}
		maps = append(maps, lm)
	}
	return maps, total, nil
}

func layerNames(g octcore.Graph) string {
	var b strings.Builder
	for i, l := range g {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 12 && len(g) > 14 {
			b.WriteString(sprintf("... %d more", len(g)-12))
			break
		}
		b.WriteString(l.Name)
	}
	return b.String()
}

func shapeOf(f octcore.Feature) string {
	var parts []string
	for _, t := range []*octcore.Tensor{f.H, f.L} {
		if t != nil {
			parts = append(parts, sprintf("%dx%dx%d", t.C, t.H, t.W))
		}
	}
	return strings.Join(parts, " + ")
}
