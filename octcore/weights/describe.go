package weights

import (
	"math"

	"github.com/octave-project/octave/octcore"
)

// DefaultCostSide is the input side at which [Describe] counts the cost of a
// model that takes any input size.
const DefaultCostSide = 224

// Info is what the CLI (octave info), the server (GET /api/v1/models) and
// the wasm module (info()) report about a model; each presents it in its own
// JSON, all from this one description.
type Info struct {
	// Name, Format, Labels, Provenance and DataSHA256 are the file's
	// metadata; Labels and Provenance are never nil.
	Name       string
	Format     string
	Labels     []string
	Provenance map[string]string
	DataSHA256 string
	// Input is the input the model expects (DefaultInput when it states
	// none).
	Input InputSpec
	// Alpha is the largest alpha_in or alpha_out of any layer.
	Alpha float64
	// CostSize is the input size Cost is counted at: the model's own, or
	// DefaultCostSide square when it takes any size (FixedSize false).
	CostSize  [2]int
	FixedSize bool
	// Cost is the cost of the graph as the file holds it.
	Cost octcore.Cost
	// ParamsFolded counts the parameters with BatchNorm folded into the
	// convolutions, as Build runs the network: Cost.Params minus one per
	// output channel of every conv with BatchNorm (plus its bias if it had
	// none). It equals Cost.Params for a file written folded.
	ParamsFolded int64
	// Outputs is the number of values the network outputs at CostSize.
	Outputs int
}

// Describe checks m's graph once and describes the model at its input size.
// When the graph does not run at CostSize it returns the info without the
// cost and the error of [octcore.Spec.Cost].
func Describe(m *Model) (*Info, error) {
	in := m.Meta.Input
	if in.Channels == 0 {
		in = DefaultInput(m.Graph)
	}
	info := &Info{
		Name: m.Meta.Name, Format: m.Meta.Format, Labels: m.Meta.Labels,
		Provenance: m.Meta.Provenance, DataSHA256: m.Meta.DataSHA256, Input: in,
	}
	if info.Labels == nil {
		info.Labels = []string{}
	}
	if info.Provenance == nil {
		info.Provenance = map[string]string{}
	}
	h, w := in.Height, in.Width
	info.FixedSize = h > 0 && w > 0
	if !info.FixedSize {
		h, w = DefaultCostSide, DefaultCostSide
	}
	info.CostSize = [2]int{h, w}
	spec, err := m.Spec()
	if err != nil {
		return nil, err
	}
	if info.Cost, err = spec.Cost(h, w); err != nil {
		return info, err
	}
	folded := append(octcore.Graph(nil), m.Graph...)
	changed := false
	for i := range folded {
		l := &folded[i]
		if l.BN && (l.Kind == "conv" || l.Kind == "octconv") {
			l.BN, l.Bias, changed = false, true, true
		}
	}
	info.ParamsFolded = info.Cost.Params
	if changed {
		c, err := octcore.CostOf(folded, h, w)
		if err != nil {
			return info, errorf("the folded graph does not run at %dx%d: %w", h, w, err)
		}
		info.ParamsFolded = c.Params
	}
	for _, l := range m.Graph {
		info.Alpha = math.Max(info.Alpha, math.Max(l.AlphaIn, l.AlphaOut))
	}
	info.Outputs = int(info.Cost.Layers[len(info.Cost.Layers)-1].Activations)
	return info, nil
}
