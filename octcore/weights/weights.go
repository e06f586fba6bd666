// Package weights reads and writes Octave models: one safetensors file that
// holds a network's layer list, its parameters (int8 per output channel,
// float16 or float32) and its metadata.
//
// A file is laid out as
//
//	bytes 0..7     N, the length of the header, unsigned little-endian
//	bytes 8..8+N   the header: a JSON object (UTF-8, may end in spaces)
//	bytes 8+N..    the data section: the raw bytes of every tensor
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets"},
// offsets counted from the start of the data section, and holds the string
// map "__metadata__": format, graph, labels, input, name and provenance.
// docs/FORMAT.md specifies the format for third parties.
//
// [Load] never panics and allocates no more than a small multiple of the bytes
// the file really holds: every shape is checked against the bytes its offsets
// span before anything is decoded.
package weights

import (
	"reflect"

	"github.com/octave-project/octave/octcore"
)

// FormatVersion is the format string that [Write] puts into a file's
// metadata. [Load] accepts "octave/1" and any "octave/1.x".
const FormatVersion = "octave/1"

// Reserved metadata keys. Every other key of "__metadata__" is provenance.
const (
	keyFormat = "format"
	keyGraph  = "graph"
	keyLabels = "labels"
	keyInput  = "input"
	keyName   = "name"
	// keyDataSHA256 is the integrity field: the SHA-256 of the data section,
	// 64 lowercase hex digits. Optional; [Write] always writes it.
	keyDataSHA256 = "data_sha256"
)

// Limits on the networks [Load] accepts, checked from the header alone,
// before any tensor is decoded or any network is built. Every shipped
// architecture is far inside them: oct-resnet152 has 159 layers, 60 million
// parameters and 15 million activations at 224x224.
const (
	// MaxLayers bounds the graph's layer count.
	MaxLayers = 4096
	// MaxParams bounds the parameter count of the graph: 2^27, 512 MiB of
	// float32 once loaded.
	MaxParams = 1 << 27
	// MaxActivations bounds the values all layers output together for one
	// input of the model's declared size (224x224 for a model that takes any
	// size): octcore.MaxActivations, 2^26, 256 MiB of float32. Running a
	// network allocates its activations once per input size.
	MaxActivations = octcore.MaxActivations
)

// InputSpec describes the input a model expects: an image of Channels
// channels resized to Height x Width (0 x 0: any size, the image's own),
// normalized per channel as (v - Mean[c]) / Std[c] with v in [0, 1].
type InputSpec struct {
	Channels int       `json:"channels"`
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Mean     []float32 `json:"mean"`
	Std      []float32 `json:"std"`
	// ResizeShorter, when positive, scales an image (aspect kept) so that
	// its shorter side has this many pixels before Crop: 256 in the usual
	// ImageNet preprocessing. Zero: no such step.
	ResizeShorter int `json:"resize_shorter,omitempty"`
	// Crop "center" takes the centre Height x Width window of the (scaled)
	// image instead of stretching it to that size; "" stretches.
	Crop string `json:"crop,omitempty"`
}

// CropCenter is the one [InputSpec.Crop] mode.
const CropCenter = "center"

// Metadata is what a model file says about its network besides the graph
// and the tensors.
type Metadata struct {
	// Format is the format version, "octave/1".
	Format string
	// Name is a short human name for the model, such as "oct-resnet-mini
	// alpha 0.5 on Fashion-MNIST".
	Name string
	// Labels names the classes, in the order of the network's outputs.
	Labels []string
	// Input is the input the network expects.
	Input InputSpec
	// Provenance holds every other metadata key: the dataset, the training
	// recipe, the seed, the measured fp32 and int8 accuracy, and so on.
	Provenance map[string]string
	// DataSHA256 is the file's data_sha256 field as [Load] verified it (64
	// hex digits), empty when the file has none. [Write] ignores it and
	// writes the digest of the data it writes.
	DataSHA256 string
}

// Model is a network and what describes it: the layer list, its float32
// parameters (dequantized when the file held int8) and its metadata.
type Model struct {
	Graph  octcore.Graph
	Params octcore.Params
	Meta   Metadata

	spec *octcore.Spec // the compiled Graph, as Load checked it
}

// Spec returns the compiled form of the model's graph: the one [Load]
// checked, or a new [octcore.Compile] when the model did not come from Load
// or its Graph has been changed since. It does not modify m, so goroutines
// may call it (and Build) on one model at once.
func (m *Model) Spec() (*octcore.Spec, error) {
	if m.spec != nil && reflect.DeepEqual(m.spec.Graph, m.Graph) {
		return m.spec, nil
	}
	return octcore.Compile(m.Graph)
}

// Build checks the model's parameters against its compiled graph ([Model.Spec])
// and returns the runnable network.
func (m *Model) Build() (*octcore.Net, error) {
	s, err := m.Spec()
	if err != nil {
		return nil, err
	}
	return s.Build(m.Params)
}

// OutputSize returns the number of values the network outputs for an input of
// the model's size (its Input.Height x Input.Width, or h x w when the model
// takes any size).
func (m *Model) OutputSize(h, w int) (int, error) {
	if m.Meta.Input.Height > 0 {
		h, w = m.Meta.Input.Height, m.Meta.Input.Width
	}
	s, err := m.Spec()
	if err != nil {
		return 0, err
	}
	c, err := s.Cost(h, w)
	if err != nil {
		return 0, err
	}
	return int(c.Layers[len(c.Layers)-1].Activations), nil
}

// MaxInputSide bounds Height and Width of an [InputSpec].
const MaxInputSide = 8192

// check validates s against the graph's input layer.
func (s *InputSpec) check(g octcore.Graph) error {
	want := g[0].Out
	if s.Channels != want {
		return errorf("input has %d channels, the graph's input layer %q has %d", s.Channels, g[0].Name, want)
	}
	if s.Height < 0 || s.Width < 0 || s.Height > MaxInputSide || s.Width > MaxInputSide {
		return errorf("input size %dx%d outside 0..%d", s.Height, s.Width, MaxInputSide)
	}
	if (s.Height == 0) != (s.Width == 0) {
		return errorf("input size %dx%d: give both sides or neither", s.Height, s.Width)
	}
	switch s.Crop {
	case "":
	case CropCenter:
		if s.Height == 0 {
			return errorf("input crop %q needs a height and width to crop to", s.Crop)
		}
	default:
		return errorf("input crop %q: the only crop is %q (or none)", s.Crop, CropCenter)
	}
	if s.ResizeShorter < 0 || s.ResizeShorter > MaxInputSide {
		return errorf("input resize_shorter %d outside 0..%d", s.ResizeShorter, MaxInputSide)
	}
	if s.ResizeShorter > 0 && s.Height > 0 {
		if s.Crop != CropCenter {
			return errorf("input resize_shorter %d with a %dx%d size needs crop %q (a stretch to the size would undo it)",
				s.ResizeShorter, s.Height, s.Width, CropCenter)
		}
		if s.ResizeShorter < max(s.Height, s.Width) {
			return errorf("input resize_shorter %d is smaller than the %dx%d crop", s.ResizeShorter, s.Height, s.Width)
		}
	}
	if len(s.Mean) != s.Channels || len(s.Std) != s.Channels {
		return errorf("input mean has %d values and std %d, want one per channel (%d)", len(s.Mean), len(s.Std), s.Channels)
	}
	for c := range s.Mean {
		m, d := float64(s.Mean[c]), float64(s.Std[c])
		if m != m || m > 1e30 || m < -1e30 {
			return errorf("input mean[%d] = %v is not a finite number", c, s.Mean[c])
		}
		if !(d > 0 && d < 1e30) {
			return errorf("input std[%d] = %v must be positive and finite", c, s.Std[c])
		}
	}
	return nil
}

// DefaultInput returns the input spec of a graph that states none: the input
// layer's channels, any size, mean 0 and std 1.
func DefaultInput(g octcore.Graph) InputSpec {
	c := 0
	if len(g) > 0 {
		c = g[0].Out
	}
	s := InputSpec{Channels: c, Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range s.Std {
		s.Std[i] = 1
	}
	return s
}
