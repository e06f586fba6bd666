package weights

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"github.com/octave-project/octave/internal/minijson"
	"github.com/octave-project/octave/octcore"
)

// MaxHeaderLen bounds the JSON header of a file: 100 MB, as the reference
// safetensors implementation does.
const MaxHeaderLen = 100 << 20

// maxListLen bounds the numbers read for the shape or data_offsets of an
// entry, before they are checked.
const maxListLen = 64

// maxRank bounds the number of dimensions of one tensor.
const maxRank = 8

// dtype sizes in bytes.
var dtypeSize = map[string]int{"F32": 4, "F16": 2, "BF16": 2, "I8": 1}

// entry is one tensor of the header.
type entry struct {
	name    string
	dtype   string
	shape   []int
	n       int   // elements
	begin   int   // offsets within the data section
	end     int   // ...
	base    int   // file offset of the data section
	claimed bool  // read by some parameter (or as a scale)
	keyAt   int64 // byte offset of the key in the file
}

// span describes where the entry's bytes lie in the file.
func (e *entry) span() string {
	return sprintf("file bytes %d..%d", e.base+e.begin, e.base+e.end)
}

// rawEntry is the JSON form of a header entry.
type rawEntry struct {
	DType   *string  `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets []uint64 `json:"data_offsets"`
}

// Load parses a model file, checks it completely and returns the model with
// float32 parameters (int8 tensors are dequantized). Every error says what is
// wrong and where: the tensor, the layer, the byte offset. Load never panics
// and allocates at most a small multiple of len(data).
func Load(data []byte) (*Model, error) {
	if len(data) < 8 {
		return nil, errorf("weights: truncated file: %d bytes, the header length alone needs 8", len(data))
	}
	hlen := binary.LittleEndian.Uint64(data)
	if hlen > uint64(len(data)-8) {
		return nil, errorf("weights: header length %d (bytes 0..8) runs past the end of the file: only %d bytes follow", hlen, len(data)-8)
	}
	if hlen > MaxHeaderLen {
		return nil, errorf("weights: header length %d (bytes 0..8) exceeds the limit of %d", hlen, MaxHeaderLen)
	}
	if hlen < 2 {
		return nil, errorf("weights: header length %d (bytes 0..8) cannot hold a JSON object", hlen)
	}
	header := data[8 : 8+hlen]
	base := 8 + int(hlen)
	body := data[base:]

	entries, meta, err := parseHeader(header, base)
	if err != nil {
		return nil, err
	}
	if err := checkOffsets(entries, len(body)); err != nil {
		return nil, err
	}
	m, specs, err := parseMetadata(meta)
	if err != nil {
		return nil, err
	}
	if want, ok := meta[keyDataSHA256]; ok {
		if err := checkDigest(want, body, base); err != nil {
			return nil, err
		}
		m.Meta.DataSHA256 = want
	}
	byName := make(map[string]*entry, len(entries))
	for _, e := range entries {
		byName[e.name] = e
	}
	m.Params = make(octcore.Params, len(specs))
	for _, s := range specs {
		l := &m.Graph[s.Layer]
		where := sprintf("layer %d %q (%s)", s.Layer, l.Name, l.Kind)
		e, ok := byName[s.Name]
		if !ok {
			return nil, errorf("weights: missing tensor %q %v: %s needs it", s.Name, s.Shape, where)
		}
		e.claimed = true
		if !slices.Equal(e.shape, s.Shape) {
			return nil, errorf("weights: tensor %q has shape %v, %s needs %v (header byte %d)%s", s.Name, e.shape, where, s.Shape, e.keyAt,
				splitHint(l, s.Name, e.shape, s.Shape))
		}
		var scale []float32
		if e.dtype == "I8" {
			sn := s.Name + ".scale"
			se, ok := byName[sn]
			if !ok {
				return nil, errorf("weights: tensor %q is I8 but its scale tensor %q is missing (%s)", s.Name, sn, where)
			}
			se.claimed = true
			if se.dtype == "I8" {
				return nil, errorf("weights: scale tensor %q must be a float dtype, not I8", sn)
			}
			if len(e.shape) == 0 || !slices.Equal(se.shape, []int{e.shape[0]}) {
				return nil, errorf("weights: scale tensor %q has shape %v, want [%d] (one per output channel of %q)", sn, se.shape, firstDim(e.shape), s.Name)
			}
			if scale, err = decode(se, body, nil); err != nil {
				return nil, err
			}
			for o, v := range scale {
				if !(v >= 0 && v <= math.MaxFloat32) {
					return nil, errorf("weights: scale tensor %q: scale[%d] = %v is not a finite non-negative number (file byte %d)",
						sn, o, v, se.base+se.begin+o*dtypeSize[se.dtype])
				}
			}
		}
		vals, err := decode(e, body, scale)
		if err != nil {
			return nil, err
		}
		if s.Role == "bn.running_var" {
			for i, v := range vals {
				if v < 0 {
					return nil, errorf("weights: tensor %q: element %d is %v, a variance cannot be negative (%s, file byte %d)",
						s.Name, i, v, where, e.base+e.begin+i*dtypeSize[e.dtype])
				}
			}
		}
		m.Params[s.Name] = &octcore.Param{Shape: append([]int(nil), s.Shape...), Data: vals}
	}
	for _, e := range entries {
		if !e.claimed {
			hint := "no layer of the graph uses it"
			if strings.HasSuffix(e.name, ".scale") {
				hint = sprintf("%q is not an I8 tensor of the graph", strings.TrimSuffix(e.name, ".scale"))
			}
			return nil, errorf("weights: extra tensor %q at %s: %s", e.name, e.span(), hint)
		}
	}
	return m, nil
}

// splitHint explains a mis-shaped tensor of an octave layer by the channel
// split that fixes its shape: "; alpha_out 0.7 of 90 channels gives 62 low
// channels, int(alpha*c), and 28 high; the tensor has 63". It returns "" for
// tensors whose shape does not depend on a split.
func splitHint(l *octcore.Layer, name string, got, want []int) string {
	if l.Kind != "octconv" && !(l.Kind == "input" && l.AlphaOut > 0) {
		return ""
	}
	if len(got) == 0 || len(want) == 0 {
		return ""
	}
	rest := strings.TrimPrefix(name, l.Name+".")
	// Which side of which split each dimension counts.
	type dim struct {
		axis  int
		io    string // "alpha_in" or "alpha_out"
		c     int
		alpha float64
		low   bool
	}
	var dims []dim
	path := strings.TrimSuffix(rest, ".weight")
	if len(path) == 2 && strings.HasSuffix(rest, ".weight") {
		g := max(l.Groups, 1)
		dims = append(dims, dim{0, "alpha_out", l.Out, l.AlphaOut, path[1] == 'l'})
		if g == 1 {
			dims = append(dims, dim{1, "alpha_in", l.In, l.AlphaIn, path[0] == 'l'})
		}
	}
	var b strings.Builder
	for _, d := range dims {
		if d.axis >= len(got) || d.axis >= len(want) || got[d.axis] == want[d.axis] {
			continue
		}
		side := "high"
		if d.low {
			side = "low"
		}
		note := strings.Replace(octcore.SplitNote(d.c, d.alpha), "alpha", d.io, 1)
		b.WriteString(sprintf("; %s (dimension %d counts the %s ones); the tensor has %d", note, d.axis, side, got[d.axis]))
	}
	return b.String()
}

func firstDim(s []int) int {
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

// parseHeader reads the header's top-level object: the tensor entries, in
// file order, and the metadata map. base is the data section's file offset.
func parseHeader(header []byte, base int) ([]*entry, map[string]string, error) {
	// Offsets of d count from the start of the file: the header is at byte 8.
	d := minijson.NewDecoder(header, 8)
	syntax := func(err error) error {
		if dup, ok := err.(*dupKey); ok {
			return errorf("weights: header: key %q appears twice in %s (file byte %d)", dup.key, dup.what, dup.at)
		}
		if e, ok := err.(*minijson.Error); ok {
			return errorf("weights: header: invalid JSON at file byte %d: %s", e.Offset, e.Msg)
		}
		return err
	}
	if d.Peek() != '{' {
		return nil, nil, errorf("weights: header at file byte 8 is not a JSON object")
	}
	var entries []*entry
	var meta map[string]string
	err := object(d, "the header", func(name string, at int) error {
		keyAt := int64(at)
		if name == "__metadata__" {
			if null, err := d.Null(); null || err != nil {
				return syntax(err)
			}
			if d.Peek() != '{' {
				return mismatch(d, errorf("weights: header: __metadata__ must map strings to strings (file byte %d): it is not an object", d.Offset()))
			}
			meta = map[string]string{}
			return object(d, "__metadata__", func(k string, at int) error {
				if d.Peek() != '"' {
					return mismatch(d, errorf("weights: header: __metadata__ must map strings to strings (file byte %d): the value of %q is not a string", d.Offset(), k))
				}
				v, err := d.String()
				if err != nil {
					return syntax(within(sprintf("__metadata__ %q", k), err))
				}
				meta[k] = v
				return nil
			})
		}
		e, err := readEntry(d, name, keyAt)
		if err != nil {
			return err
		}
		e.base = base
		entries = append(entries, e)
		return nil
	})
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, nil, syntax(err)
	}
	if meta == nil {
		return nil, nil, errorf("weights: header has no __metadata__: not an Octave model (it needs at least %q and %q)", keyFormat, keyGraph)
	}
	return entries, meta, nil
}

// mismatch returns typeErr, the next value being of the wrong kind, unless
// that value is not even valid JSON: then the syntax error.
func mismatch(d *minijson.Decoder, typeErr error) error {
	if err := d.Skip(); err != nil {
		return err
	}
	return typeErr
}

// readEntry reads the object of tensor name: dtype, shape and data_offsets
// (other keys are ignored, as the safetensors format allows) and checks it.
func readEntry(d *minijson.Decoder, name string, keyAt int64) (*entry, error) {
	var raw rawEntry
	typeErr := func(at int, what string) error {
		return errorf("weights: tensor %q: bad header entry at file byte %d: %s", name, at, what)
	}
	if d.Peek() != '{' {
		return nil, mismatch(d, typeErr(d.Offset(), "it is not an object"))
	}
	err := object(d, sprintf("tensor %q", name), func(k string, at int) error {
		if null, err := d.Null(); null || err != nil {
			return err
		}
		switch k {
		case "dtype":
			if d.Peek() != '"' {
				return mismatch(d, typeErr(d.Offset(), "dtype is not a string"))
			}
			s, err := d.String()
			raw.DType = &s
			return err
		case "shape":
			if d.Peek() != '[' {
				return mismatch(d, typeErr(d.Offset(), "shape is not an array"))
			}
			raw.Shape = []int64{}
			return array(d, "shape", func(i int) error {
				if len(raw.Shape) == maxListLen {
					return typeErr(d.Offset(), sprintf("shape has more than %d dimensions", maxListLen))
				}
				v, err := d.Int(math.MinInt64, math.MaxInt64)
				if err != nil {
					return typeErr(d.Offset(), sprintf("shape[%d]: %v", i, err))
				}
				raw.Shape = append(raw.Shape, v)
				return nil
			})
		case "data_offsets":
			if d.Peek() != '[' {
				return mismatch(d, typeErr(d.Offset(), "data_offsets is not an array"))
			}
			raw.Offsets = []uint64{}
			return array(d, "data_offsets", func(i int) error {
				if len(raw.Offsets) == maxListLen {
					return typeErr(d.Offset(), sprintf("data_offsets must be [begin, end], got more than %d numbers", maxListLen))
				}
				v, err := d.Uint()
				if err != nil {
					return typeErr(d.Offset(), sprintf("data_offsets[%d]: %v", i, err))
				}
				raw.Offsets = append(raw.Offsets, v)
				return nil
			})
		}
		return d.Skip()
	})
	if err != nil {
		return nil, err
	}
	return checkEntry(name, &raw, keyAt)
}

// checkEntry validates one header entry on its own: dtype, shape, and that
// the shape's byte size equals the offsets' span.
func checkEntry(name string, raw *rawEntry, keyAt int64) (*entry, error) {
	where := sprintf("tensor %q (header byte %d)", name, keyAt)
	if raw.DType == nil {
		return nil, errorf("weights: %s has no dtype", where)
	}
	dt := *raw.DType
	es, ok := dtypeSize[dt]
	if !ok {
		return nil, errorf("weights: %s: unknown dtype %q (this reader knows F32, F16, BF16 and I8)", where, dt)
	}
	if raw.Shape == nil {
		return nil, errorf("weights: %s has no shape", where)
	}
	if len(raw.Offsets) != 2 {
		return nil, errorf("weights: %s: data_offsets must be [begin, end], got %d numbers", where, len(raw.Offsets))
	}
	if len(raw.Shape) > maxRank {
		return nil, errorf("weights: %s: %d dimensions, at most %d are supported", where, len(raw.Shape), maxRank)
	}
	const maxInt = int64(math.MaxInt32) // elements of one tensor, also on 32-bit targets
	n := int64(1)
	shape := make([]int, len(raw.Shape))
	for i, d := range raw.Shape {
		if d < 0 || d > maxInt {
			return nil, errorf("weights: %s: dimension %d of shape %v is out of range", where, i, raw.Shape)
		}
		if d != 0 && n > maxInt/d {
			return nil, errorf("weights: %s: shape %v holds too many elements", where, raw.Shape)
		}
		n *= d
		shape[i] = int(d)
	}
	b, en := raw.Offsets[0], raw.Offsets[1]
	if b > en {
		return nil, errorf("weights: %s: data_offsets [%d, %d] end before they begin", where, b, en)
	}
	if en-b != uint64(n)*uint64(es) {
		return nil, errorf("weights: %s: shape %v of %s needs %d bytes, data_offsets [%d, %d] span %d",
			where, raw.Shape, dt, uint64(n)*uint64(es), b, en, en-b)
	}
	if en > math.MaxInt32*4 { // beyond any file we read; keeps the int conversions exact
		return nil, errorf("weights: %s: data_offsets [%d, %d] are out of range", where, b, en)
	}
	return &entry{name: name, dtype: dt, shape: shape, n: int(n), begin: int(b), end: int(en), keyAt: keyAt}, nil
}

// checkOffsets checks that every tensor lies within the data section and that
// no two overlap.
func checkOffsets(entries []*entry, bodyLen int) error {
	for _, e := range entries {
		if e.end > bodyLen {
			return errorf("weights: tensor %q: data_offsets [%d, %d] run past the data section, which holds %d bytes (%s, file size %d)",
				e.name, e.begin, e.end, bodyLen, e.span(), e.base+bodyLen)
		}
	}
	sorted := sortByBegin(entries)
	var last *entry
	for _, e := range sorted {
		if e.begin == e.end {
			continue
		}
		if last != nil && e.begin < last.end {
			return errorf("weights: tensors %q (%s) and %q (%s) overlap", last.name, last.span(), e.name, e.span())
		}
		last = e
	}
	return nil
}

// sortByBegin returns the entries ordered by begin, stably: a bottom-up
// merge sort, where slices.SortStableFunc would add 8 KB to the WebAssembly
// build.
func sortByBegin(entries []*entry) []*entry {
	a := append([]*entry(nil), entries...)
	b := make([]*entry, len(a))
	for width := 1; width < len(a); width *= 2 {
		for lo := 0; lo < len(a); lo += 2 * width {
			mid, hi := min(lo+width, len(a)), min(lo+2*width, len(a))
			i, j := lo, mid
			for k := lo; k < hi; k++ {
				if i < mid && (j >= hi || a[i].begin <= a[j].begin) {
					b[k] = a[i]
					i++
				} else {
					b[k] = a[j]
					j++
				}
			}
		}
		a, b = b, a
	}
	return a
}

// parseMetadata decodes the metadata map into a Model (no parameters yet)
// and lists the parameters its graph needs.
func parseMetadata(meta map[string]string) (*Model, []octcore.ParamSpec, error) {
	m := &Model{}
	f, ok := meta[keyFormat]
	if !ok {
		return nil, nil, errorf("weights: metadata has no %q key: not an Octave model", keyFormat)
	}
	if f != FormatVersion && !strings.HasPrefix(f, FormatVersion+".") {
		return nil, nil, errorf("weights: metadata %q is %q; this reader knows %q", keyFormat, f, FormatVersion)
	}
	m.Meta.Format = f
	gs, ok := meta[keyGraph]
	if !ok {
		return nil, nil, errorf("weights: metadata has no %q key: the layer list is needed to rebuild the network", keyGraph)
	}
	if err := strictJSON(gs, &m.Graph); err != nil {
		return nil, nil, errorf("weights: metadata %q: %v", keyGraph, err)
	}
	if len(m.Graph) == 0 {
		return nil, nil, errorf("weights: metadata %q: empty layer list", keyGraph)
	}
	if len(m.Graph) > MaxLayers {
		return nil, nil, errorf("weights: metadata %q: %d layers, more than the limit of %d", keyGraph, len(m.Graph), MaxLayers)
	}
	// One Compile checks the graph; its spec gives both the parameter
	// tensors and, below, the cost at the input size.
	spec, err := octcore.Compile(m.Graph)
	if err == nil {
		err = spec.ParamsErr
	}
	if err != nil {
		return nil, nil, errorf("weights: metadata %q: %w", keyGraph, err)
	}
	specs := spec.Params
	nparams := int64(0)
	for _, s := range specs {
		n := int64(1)
		for _, d := range s.Shape {
			n *= int64(d) // each dimension is at most 2^16 (channels) or 64 (kernel)
		}
		if nparams += n; nparams > MaxParams {
			return nil, nil, errorf("weights: metadata %q: the layers need more than %d parameters, the limit (layer %d %q needs %d alone)",
				keyGraph, MaxParams, s.Layer, s.Name, n)
		}
	}
	if s, ok := meta[keyInput]; ok {
		if err := strictJSON(s, &m.Meta.Input); err != nil {
			return nil, nil, errorf("weights: metadata %q: %v", keyInput, err)
		}
		if len(m.Meta.Input.Mean) == 0 && len(m.Meta.Input.Std) == 0 {
			d := DefaultInput(m.Graph)
			if m.Meta.Input.Channels == d.Channels {
				m.Meta.Input.Mean, m.Meta.Input.Std = d.Mean, d.Std
			}
		}
	} else {
		m.Meta.Input = DefaultInput(m.Graph)
	}
	if err := m.Meta.Input.check(m.Graph); err != nil {
		return nil, nil, errorf("weights: metadata %q: %v", keyInput, err)
	}
	// The cost at the declared input size (224x224 when the model takes any
	// size) bounds the activations and gives the output count for the labels.
	in := m.Meta.Input
	h, w := in.Height, in.Width
	if h == 0 {
		h, w = 224, 224
	}
	cost, costErr := spec.Cost(h, w)
	if err := checkActivations(cost, costErr, in, h, w); err != nil {
		return nil, nil, err
	}
	if s, ok := meta[keyLabels]; ok {
		if err := strictJSON(s, &m.Meta.Labels); err != nil {
			return nil, nil, errorf("weights: metadata %q: %v", keyLabels, err)
		}
	}
	m.Meta.Name = meta[keyName]
	for k, v := range meta {
		switch k {
		case keyFormat, keyGraph, keyInput, keyLabels, keyName, keyDataSHA256:
			continue
		}
		if m.Meta.Provenance == nil {
			m.Meta.Provenance = map[string]string{}
		}
		m.Meta.Provenance[k] = v
	}
	if len(m.Meta.Labels) > 0 {
		if costErr == nil {
			if n := cost.Layers[len(cost.Layers)-1].Activations; int64(len(m.Meta.Labels)) != n {
				return nil, nil, errorf("weights: metadata %q names %d classes, the network outputs %d values at %dx%d",
					keyLabels, len(m.Meta.Labels), n, h, w)
			}
		} else if in.Height > 0 {
			return nil, nil, errorf("weights: metadata %q: the graph does not run at the input size %dx%d: %w", keyGraph, h, w, costErr)
		}
	}
	m.spec = spec
	return m, specs, nil
}

// checkActivations checks that the network outputs at most MaxActivations
// values for one input of the size in declares (224x224, h x w, when it takes
// any size); c and err are its cost at h x w. A free-size graph that does not
// run at 224x224 is left to the labels check and to Run: it may run at other
// sizes.
func checkActivations(c octcore.Cost, err error, in InputSpec, h, w int) error {
	if err != nil {
		return nil
	}
	if c.Activations > MaxActivations {
		size := sprintf("its input size %dx%d", h, w)
		if in.Height == 0 {
			size = "224x224 (it takes any size)"
		}
		return errorf("weights: metadata %q: the network outputs %d activations at %s, more than the limit of %d (%d MiB of float32)",
			keyGraph, c.Activations, size, MaxActivations, MaxActivations*4>>20)
	}
	return nil
}

// checkDigest checks the data section against want, the file's data_sha256.
func checkDigest(want string, body []byte, base int) error {
	if len(want) != 64 || strings.Trim(want, "0123456789abcdef") != "" {
		return errorf("weights: metadata %q is %q: want the SHA-256 of the data section as 64 lowercase hex digits", keyDataSHA256, clip(want))
	}
	if got := sha256Hex(body); got != want {
		return errorf("weights: the data section (file bytes %d..%d) has SHA-256 %s, metadata %q says %s: the file is corrupted or was changed after it was written",
			base, base+len(body), got, keyDataSHA256, want)
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// decode returns the float32 values of e. An I8 tensor is dequantized with
// scale, one per index of its first dimension. Non-finite values are errors.
func decode(e *entry, body []byte, scale []float32) ([]float32, error) {
	raw := body[e.begin:e.end]
	out := make([]float32, e.n)
	es := dtypeSize[e.dtype]
	switch e.dtype {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "F16":
		for i := range out {
			out[i] = Float16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	case "I8":
		rows := len(scale)
		per := 0
		if rows > 0 {
			per = e.n / rows
		}
		for i := range out {
			q := int8(raw[i])
			if q == -128 {
				return nil, errorf("weights: tensor %q: element %d is -128, outside the symmetric range [-127, 127] (file byte %d)",
					e.name, i, e.base+e.begin+i)
			}
			out[i] = scale[i/per] * float32(q)
		}
		return out, nil
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, errorf("weights: tensor %q: element %d is %v (file byte %d)", e.name, i, v, e.base+e.begin+i*es)
		}
	}
	return out, nil
}
