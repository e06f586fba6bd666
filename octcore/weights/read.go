package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/octave-project/octave/octcore"
)

// MaxHeaderLen bounds the JSON header of a file: 100 MB, as the reference
// safetensors implementation does.
const MaxHeaderLen = 100 << 20

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
	return fmt.Sprintf("file bytes %d..%d", e.base+e.begin, e.base+e.end)
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
		return nil, fmt.Errorf("weights: truncated file: %d bytes, the header length alone needs 8", len(data))
	}
	hlen := binary.LittleEndian.Uint64(data)
	if hlen > uint64(len(data)-8) {
		return nil, fmt.Errorf("weights: header length %d (bytes 0..8) runs past the end of the file: only %d bytes follow", hlen, len(data)-8)
	}
	if hlen > MaxHeaderLen {
		return nil, fmt.Errorf("weights: header length %d (bytes 0..8) exceeds the limit of %d", hlen, MaxHeaderLen)
	}
	if hlen < 2 {
		return nil, fmt.Errorf("weights: header length %d (bytes 0..8) cannot hold a JSON object", hlen)
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
	byName := make(map[string]*entry, len(entries))
	for _, e := range entries {
		byName[e.name] = e
	}
	m.Params = make(octcore.Params, len(specs))
	for _, s := range specs {
		l := &m.Graph[s.Layer]
		where := fmt.Sprintf("layer %d %q (%s)", s.Layer, l.Name, l.Kind)
		e, ok := byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("weights: missing tensor %q %v: %s needs it", s.Name, s.Shape, where)
		}
		e.claimed = true
		if !sameShape(e.shape, s.Shape) {
			return nil, fmt.Errorf("weights: tensor %q has shape %v, %s needs %v (header byte %d)", s.Name, e.shape, where, s.Shape, e.keyAt)
		}
		var scale []float32
		if e.dtype == "I8" {
			sn := s.Name + ".scale"
			se, ok := byName[sn]
			if !ok {
				return nil, fmt.Errorf("weights: tensor %q is I8 but its scale tensor %q is missing (%s)", s.Name, sn, where)
			}
			se.claimed = true
			if se.dtype == "I8" {
				return nil, fmt.Errorf("weights: scale tensor %q must be a float dtype, not I8", sn)
			}
			if len(e.shape) == 0 || !sameShape(se.shape, []int{e.shape[0]}) {
				return nil, fmt.Errorf("weights: scale tensor %q has shape %v, want [%d] (one per output channel of %q)", sn, se.shape, firstDim(e.shape), s.Name)
			}
			if scale, err = decode(se, body, nil); err != nil {
				return nil, err
			}
			for o, v := range scale {
				if !(v >= 0 && v <= math.MaxFloat32) {
					return nil, fmt.Errorf("weights: scale tensor %q: scale[%d] = %v is not a finite non-negative number (file byte %d)",
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
					return nil, fmt.Errorf("weights: tensor %q: element %d is %v, a variance cannot be negative (%s, file byte %d)",
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
				hint = fmt.Sprintf("%q is not an I8 tensor of the graph", strings.TrimSuffix(e.name, ".scale"))
			}
			return nil, fmt.Errorf("weights: extra tensor %q at %s: %s", e.name, e.span(), hint)
		}
	}
	return m, nil
}

func firstDim(s []int) int {
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseHeader reads the header's top-level object: the tensor entries, in
// file order, and the metadata map. base is the data section's file offset.
func parseHeader(header []byte, base int) ([]*entry, map[string]string, error) {
	jsonErr := func(err error, dec *json.Decoder) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("weights: header: invalid JSON at file byte %d: %v", 8+se.Offset, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("weights: header: invalid JSON at file byte %d: %v", 8+te.Offset, err)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("weights: header: invalid JSON: the object ends early at file byte %d", 8+dec.InputOffset())
		}
		return fmt.Errorf("weights: header: invalid JSON near file byte %d: %v", 8+dec.InputOffset(), err)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, jsonErr(err, dec)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("weights: header at file byte 8 is not a JSON object")
	}
	var entries []*entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		keyAt := 8 + dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, jsonErr(err, dec)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("weights: header: expected a key at file byte %d", keyAt)
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("weights: header: key %q appears twice (file byte %d)", name, keyAt)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&meta); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					return nil, nil, fmt.Errorf("weights: header: __metadata__ must map strings to strings (file byte %d): %v", 8+te.Offset, err)
				}
				return nil, nil, jsonErr(err, dec)
			}
			continue
		}
		var raw rawEntry
		if err := dec.Decode(&raw); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, nil, fmt.Errorf("weights: tensor %q: bad header entry at file byte %d: %v", name, 8+te.Offset, err)
			}
			return nil, nil, jsonErr(err, dec)
		}
		e, err := checkEntry(name, &raw, keyAt)
		if err != nil {
			return nil, nil, err
		}
		e.base = base
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, jsonErr(err, dec)
	}
	// Only white space may follow the object.
	rest := header[dec.InputOffset():]
	if i := bytes.IndexFunc(rest, func(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }); i >= 0 {
		return nil, nil, fmt.Errorf("weights: header: unexpected bytes after the JSON object at file byte %d", 8+dec.InputOffset()+int64(i))
	}
	if meta == nil {
		return nil, nil, fmt.Errorf("weights: header has no __metadata__: not an Octave model (it needs at least %q and %q)", keyFormat, keyGraph)
	}
	return entries, meta, nil
}

// checkEntry validates one header entry on its own: dtype, shape, and that
// the shape's byte size equals the offsets' span.
func checkEntry(name string, raw *rawEntry, keyAt int64) (*entry, error) {
	where := fmt.Sprintf("tensor %q (header byte %d)", name, keyAt)
	if raw.DType == nil {
		return nil, fmt.Errorf("weights: %s has no dtype", where)
	}
	dt := *raw.DType
	es, ok := dtypeSize[dt]
	if !ok {
		return nil, fmt.Errorf("weights: %s: unknown dtype %q (this reader knows F32, F16, BF16 and I8)", where, dt)
	}
	if raw.Shape == nil {
		return nil, fmt.Errorf("weights: %s has no shape", where)
	}
	if len(raw.Offsets) != 2 {
		return nil, fmt.Errorf("weights: %s: data_offsets must be [begin, end], got %d numbers", where, len(raw.Offsets))
	}
	if len(raw.Shape) > maxRank {
		return nil, fmt.Errorf("weights: %s: %d dimensions, at most %d are supported", where, len(raw.Shape), maxRank)
	}
	const maxInt = int64(math.MaxInt32) // elements of one tensor, also on 32-bit targets
	n := int64(1)
	shape := make([]int, len(raw.Shape))
	for i, d := range raw.Shape {
		if d < 0 || d > maxInt {
			return nil, fmt.Errorf("weights: %s: dimension %d of shape %v is out of range", where, i, raw.Shape)
		}
		if d != 0 && n > maxInt/d {
			return nil, fmt.Errorf("weights: %s: shape %v holds too many elements", where, raw.Shape)
		}
		n *= d
		shape[i] = int(d)
	}
	b, en := raw.Offsets[0], raw.Offsets[1]
	if b > en {
		return nil, fmt.Errorf("weights: %s: data_offsets [%d, %d] end before they begin", where, b, en)
	}
	if en-b != uint64(n)*uint64(es) {
		return nil, fmt.Errorf("weights: %s: shape %v of %s needs %d bytes, data_offsets [%d, %d] span %d",
			where, raw.Shape, dt, uint64(n)*uint64(es), b, en, en-b)
	}
	if en > math.MaxInt32*4 { // beyond any file we read; keeps the int conversions exact
		return nil, fmt.Errorf("weights: %s: data_offsets [%d, %d] are out of range", where, b, en)
	}
	return &entry{name: name, dtype: dt, shape: shape, n: int(n), begin: int(b), end: int(en), keyAt: keyAt}, nil
}

// checkOffsets checks that every tensor lies within the data section and that
// no two overlap.
func checkOffsets(entries []*entry, bodyLen int) error {
	for _, e := range entries {
		if e.end > bodyLen {
			return fmt.Errorf("weights: tensor %q: data_offsets [%d, %d] run past the data section, which holds %d bytes (%s, file size %d)",
				e.name, e.begin, e.end, bodyLen, e.span(), e.base+bodyLen)
		}
	}
	sorted := append([]*entry(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].begin < sorted[j].begin })
	var last *entry
	for _, e := range sorted {
		if e.begin == e.end {
			continue
		}
		if last != nil && e.begin < last.end {
			return fmt.Errorf("weights: tensors %q (%s) and %q (%s) overlap", last.name, last.span(), e.name, e.span())
		}
		last = e
	}
	return nil
}

// parseMetadata decodes the metadata map into a Model (no parameters yet)
// and lists the parameters its graph needs.
func parseMetadata(meta map[string]string) (*Model, []octcore.ParamSpec, error) {
	m := &Model{}
	f, ok := meta[keyFormat]
	if !ok {
		return nil, nil, fmt.Errorf("weights: metadata has no %q key: not an Octave model", keyFormat)
	}
	if f != FormatVersion && !strings.HasPrefix(f, FormatVersion+".") {
		return nil, nil, fmt.Errorf("weights: metadata %q is %q; this reader knows %q", keyFormat, f, FormatVersion)
	}
	m.Meta.Format = f
	gs, ok := meta[keyGraph]
	if !ok {
		return nil, nil, fmt.Errorf("weights: metadata has no %q key: the layer list is needed to rebuild the network", keyGraph)
	}
	if err := strictJSON(gs, &m.Graph); err != nil {
		return nil, nil, fmt.Errorf("weights: metadata %q: %v", keyGraph, err)
	}
	if len(m.Graph) == 0 {
		return nil, nil, fmt.Errorf("weights: metadata %q: empty layer list", keyGraph)
	}
	specs, err := octcore.ParamSpecs(m.Graph)
	if err != nil {
		return nil, nil, fmt.Errorf("weights: metadata %q: %w", keyGraph, err)
	}
	if s, ok := meta[keyInput]; ok {
		if err := strictJSON(s, &m.Meta.Input); err != nil {
			return nil, nil, fmt.Errorf("weights: metadata %q: %v", keyInput, err)
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
		return nil, nil, fmt.Errorf("weights: metadata %q: %v", keyInput, err)
	}
	if s, ok := meta[keyLabels]; ok {
		if err := strictJSON(s, &m.Meta.Labels); err != nil {
			return nil, nil, fmt.Errorf("weights: metadata %q: %v", keyLabels, err)
		}
	}
	m.Meta.Name = meta[keyName]
	for k, v := range meta {
		switch k {
		case keyFormat, keyGraph, keyInput, keyLabels, keyName:
			continue
		}
		if m.Meta.Provenance == nil {
			m.Meta.Provenance = map[string]string{}
		}
		m.Meta.Provenance[k] = v
	}
	if len(m.Meta.Labels) > 0 {
		in := m.Meta.Input
		h, w := in.Height, in.Width
		if h == 0 {
			h, w = 224, 224
		}
		if c, err := octcore.CostOf(m.Graph, h, w); err == nil {
			if n := c.Layers[len(c.Layers)-1].Activations; int64(len(m.Meta.Labels)) != n {
				return nil, nil, fmt.Errorf("weights: metadata %q names %d classes, the network outputs %d values at %dx%d",
					keyLabels, len(m.Meta.Labels), n, h, w)
			}
		} else if in.Height > 0 {
			return nil, nil, fmt.Errorf("weights: metadata %q: the graph does not run at the input size %dx%d: %w", keyGraph, h, w, err)
		}
	}
	return m, specs, nil
}

// strictJSON decodes s into v, refusing unknown fields and trailing data.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("invalid JSON at byte %d of the value: %v", se.Offset, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("wrong JSON type at byte %d of the value: %v", te.Offset, err)
		}
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("invalid JSON: the value ends early (%d bytes)", len(s))
		}
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
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
				return nil, fmt.Errorf("weights: tensor %q: element %d is -128, outside the symmetric range [-127, 127] (file byte %d)",
					e.name, i, e.base+e.begin+i)
			}
			out[i] = scale[i/per] * float32(q)
		}
		return out, nil
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("weights: tensor %q: element %d is %v (file byte %d)", e.name, i, v, e.base+e.begin+i*es)
		}
	}
	return out, nil
}
