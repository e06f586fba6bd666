package server

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// modelExt is the extension of model files.
const modelExt = ".safetensors"

// maxModelBytes bounds a model file the server reads.
const maxModelBytes = 512 << 20

// preferredDefault is the default model when it is present: the
// Fashion-MNIST Oct-ResNet-mini at alpha 0.5 that the demo page opens on.
const preferredDefault = "fashion-oct-a500"

// registry holds the models of a directory, each loaded on first use.
type registry struct {
	fsys   fs.FS
	byName map[string]*model
	order  []string
	def    string
}

// model is one model file: its parsed form once loaded, and a pool of built
// networks (an octcore.Net is not safe for concurrent use).
type model struct {
	name string
	file string
	size int64

	once sync.Once
	m    *weights.Model
	info *ModelInfo
	err  error

	mu   sync.Mutex
	free []*octcore.Net
}

func newRegistry(fsys fs.FS, def string) (*registry, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("server: listing the models: %v", err)
	}
	r := &registry{fsys: fsys, byName: map[string]*model{}}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, modelExt) || strings.HasPrefix(n, ".") {
			continue
		}
		var size int64
		if fi, err := e.Info(); err == nil {
			size = fi.Size()
		}
		name := strings.TrimSuffix(n, modelExt)
		r.byName[name] = &model{name: name, file: n, size: size}
		r.order = append(r.order, name)
	}
	sort.Strings(r.order)
	switch {
	case def != "":
		if r.byName[def] == nil {
			return nil, fmt.Errorf("server: default model %q not found (have %s)", def, strings.Join(r.order, ", "))
		}
		r.def = def
	case r.byName[preferredDefault] != nil:
		r.def = preferredDefault
	case len(r.order) > 0:
		r.def = r.order[0]
	}
	return r, nil
}

func (r *registry) names() []string { return append([]string(nil), r.order...) }

// loaded returns the names of the models loaded so far.
func (r *registry) loaded() []string {
	out := []string{}
	for _, n := range r.order {
		m := r.byName[n]
		m.mu.Lock()
		done := m.m != nil
		m.mu.Unlock()
		if done {
			out = append(out, n)
		}
	}
	return out
}

// errUnknownModel is a client's mistake: a model name that is not offered.
type errUnknownModel struct {
	name  string
	names []string
}

func (e errUnknownModel) Error() string {
	if len(e.names) == 0 {
		return fmt.Sprintf("unknown model %q: this server has no models", e.name)
	}
	return fmt.Sprintf("unknown model %q (have %s)", e.name, strings.Join(e.names, ", "))
}

// lookup returns the model called name ("" for the default), loading it on
// first use. An unknown name is an errUnknownModel; other errors are the
// server's (a broken model file).
func (r *registry) lookup(name string) (*model, error) {
	if name == "" {
		name = r.def
	}
	m := r.byName[name]
	if m == nil {
		return nil, errUnknownModel{name, r.order}
	}
	m.once.Do(func() { m.load(r.fsys) })
	if m.err != nil {
		return nil, m.err
	}
	return m, nil
}

// load reads, checks and describes the model file, or sets m.err.
func (m *model) load(fsys fs.FS) {
	if err := m.read(fsys); err != nil {
		m.err = fmt.Errorf("model %s: %v", m.name, err)
	}
}

func (m *model) read(fsys fs.FS) error {
	data, err := readBounded(fsys, m.file, maxModelBytes)
	if err != nil {
		return err
	}
	wm, err := weights.Load(data)
	if err != nil {
		return err
	}
	info, err := describe(m.name, m.file, int64(len(data)), wm)
	if err != nil {
		return err
	}
	net, err := wm.Build()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.m, m.info, m.free = wm, info, []*octcore.Net{net}
	m.mu.Unlock()
	return nil
}

// readBounded reads a file of at most limit bytes.
func readBounded(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}

// maxIdleNets bounds the networks a model keeps between requests.
var maxIdleNets = max(2, runtime.GOMAXPROCS(0))

// withNet runs f with a network of m that no one else uses meanwhile.
func (m *model) withNet(f func(*octcore.Net) error) error {
	m.mu.Lock()
	var net *octcore.Net
	if n := len(m.free); n > 0 {
		net, m.free = m.free[n-1], m.free[:n-1]
	}
	m.mu.Unlock()
	if net == nil {
		var err error
		if net, err = m.m.Build(); err != nil {
			return err
		}
	}
	err := f(net)
	m.mu.Lock()
	if len(m.free) < maxIdleNets {
		m.free = append(m.free, net)
	}
	m.mu.Unlock()
	return err
}

// ModelInfo describes a model in GET /api/v1/models.
type ModelInfo struct {
	Name    string            `json:"name"`
	File    string            `json:"file"`
	URL     string            `json:"url"`
	Bytes   int64             `json:"bytes"`
	Title   string            `json:"title"`
	Default bool              `json:"default"`
	Labels  []string          `json:"labels"`
	Input   weights.InputSpec `json:"input"`
	Params  int64             `json:"params"`
	// ParamsFolded counts the parameters with BatchNorm folded, as the
	// network runs; equal to Params for a file written folded.
	ParamsFolded int64       `json:"params_folded"`
	MACs         int64       `json:"macs"`
	CostSize     [2]int      `json:"cost_size"`
	Layers       []LayerInfo `json:"layers"`
	// Provenance holds the file's other metadata: dataset, recipe,
	// measured accuracy.
	Provenance map[string]string `json:"provenance"`
}

// LayerInfo is one layer of a model: what /api/v1/maps can show.
type LayerInfo struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	AlphaOut float64 `json:"alpha_out"`
	// High and Low are [channels, height, width] of the layer's output
	// parts at CostSize; Low is null when the layer has no low part.
	High []int `json:"high"`
	Low  []int `json:"low"`
	MACs int64 `json:"macs"`
}

// describe builds the info of a loaded model from [weights.Describe].
func describe(name, file string, size int64, m *weights.Model) (*ModelInfo, error) {
	d, err := weights.Describe(m)
	if err != nil {
		return nil, err
	}
	c := d.Cost
	info := &ModelInfo{
		Name: name, File: file, URL: path.Join("/models", file), Bytes: size,
		Title: d.Name, Labels: d.Labels, Input: d.Input,
		Params: c.Params, ParamsFolded: d.ParamsFolded, MACs: c.MACs, CostSize: d.CostSize,
		Provenance: d.Provenance,
	}
	for _, l := range c.Layers {
		info.Layers = append(info.Layers, LayerInfo{Name: l.Name, Kind: l.Kind, AlphaOut: l.AlphaOut, High: l.OutHigh, Low: l.OutLow, MACs: l.MACs})
	}
	return info, nil
}

// listModels answers GET /api/v1/models: every model, loaded if need be.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	type failed struct {
		Name  string `json:"name"`
		Error string `json:"error"`
	}
	out := struct {
		Default string       `json:"default"`
		Models  []*ModelInfo `json:"models"`
		Failed  []failed     `json:"failed,omitempty"`
	}{Default: s.reg.def, Models: []*ModelInfo{}}
	for _, n := range s.reg.order {
		m, err := s.reg.lookup(n)
		if err != nil {
			s.opt.Logf("server: %v", err)
			out.Failed = append(out.Failed, failed{n, err.Error()})
			continue
		}
		info := *m.info
		info.Default = n == s.reg.def
		out.Models = append(out.Models, &info)
	}
	writeJSON(w, http.StatusOK, out)
}
