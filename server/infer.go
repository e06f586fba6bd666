package server

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
	"github.com/octave-project/octave/octcore/weights"
)

// imageTypes are the Content-Types a body may have. application/octet-stream
// means "find out from the bytes"; the bytes decide the format in every case.
var imageTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/jpg": true, "image/pjpeg": true, "image/webp": true,
	"image/gif": true, "image/bmp": true, "image/tiff": true, "application/octet-stream": true,
}

// httpError is an error with the status to answer it with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// fail answers err: its own status for an httpError, 400 for an unknown
// model, 500 (logged) for anything else.
func (s *Server) fail(w http.ResponseWriter, err error) {
	var he *httpError
	var um errUnknownModel
	switch {
	case errors.As(err, &he):
		if he.status == http.StatusServiceUnavailable {
			busy(w, he.msg)
			return
		}
		writeError(w, he.status, he.msg)
	case errors.As(err, &um):
		writeError(w, http.StatusBadRequest, um.Error())
	default:
		s.opt.Logf("server: %v", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// readImage checks the request's Content-Type and size, reads its body and
// decodes it within the decode budget: the image's decoding cost (from its
// header) is taken from the budget before decoding and given back by the
// returned release, which the caller calls once it is done with the image.
func (s *Server) readImage(w http.ResponseWriter, r *http.Request) (image.Image, func(), error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !imageTypes[strings.ToLower(mt)] {
		if ct == "" {
			ct = "none"
		}
		return nil, nil, &httpError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: send the image itself as image/png, image/jpeg, image/webp (or gif, bmp, tiff, application/octet-stream)", ct)}
	}
	tooLarge := &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", s.opt.MaxBody)}
	if r.ContentLength > s.opt.MaxBody {
		return nil, nil, tooLarge
	}
	if r.Body == nil {
		return nil, nil, badRequest("empty body: send an image")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, nil, tooLarge
	case err != nil:
		return nil, nil, badRequest("reading the body: %v", err)
	case len(data) == 0:
		return nil, nil, badRequest("empty body: send an image")
	}
	cost, err := imageio.DecodeCost(data)
	if err != nil {
		return nil, nil, imageError(err)
	}
	if cost > s.opt.DecodeBudget {
		return nil, nil, &httpError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("decoding this image takes %.1f MiB, more than this server's decode budget of %.1f MiB", float64(cost)/(1<<20), float64(s.opt.DecodeBudget)/(1<<20))}
	}
	if s.opt.MaxPixels > 0 {
		cfg, format, _ := imageio.DecodeConfig(data) // its errors were DecodeCost's
		if px := cfg.Width * cfg.Height; px > s.opt.MaxPixels {
			return nil, nil, &httpError{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("%s image of %dx%d pixels is %.1f megapixels, more than this server's limit of %.1f: scale it down first",
					format, cfg.Width, cfg.Height, float64(px)/1e6, float64(s.opt.MaxPixels)/1e6)}
		}
	}
	if !s.decode.acquire(cost, s.opt.QueueWait) {
		return nil, nil, &httpError{http.StatusServiceUnavailable,
			fmt.Sprintf("server busy: decoding this image takes %.1f MiB and the decode budget of %.1f MiB is in use", float64(cost)/(1<<20), float64(s.opt.DecodeBudget)/(1<<20))}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			s.decode.release(cost)
			if cost >= returnAfter && s.decode.inUse() == 0 {
				// A large image's pixels are garbage now: collect them and
				// give the memory back to the OS rather than hold it
				// until the runtime's background scavenger gets to it.
				go debug.FreeOSMemory()
			}
		})
	}
	img, _, err := imageio.Decode(data)
	if err != nil {
		release()
		return nil, nil, imageError(err)
	}
	return img, release, nil
}

// returnAfter is the decoding cost from which the memory of an image is
// handed back to the OS as soon as no other image is being decoded.
const returnAfter = 32 << 20

// imageError maps an imageio error to its status: 413 for an image too
// large, 400 for anything else.
func imageError(err error) error {
	if errors.Is(err, imageio.ErrTooLarge) {
		return &httpError{http.StatusRequestEntityTooLarge, err.Error()}
	}
	return badRequest("%v", err)
}

// inputTensor turns img into the model's input (imageio.Input: the model's
// resize and crop; AnySize for a model of any size that states no resize).
func (s *Server) inputTensor(img image.Image, in weights.InputSpec) (*octcore.Tensor, error) {
	return imageio.Input(img, in, imageio.Options{Longer: s.opt.AnySize})
}

// Prediction is one class of a classification.
type Prediction = octcore.Prediction

// ClassifyResponse is the body of a successful POST /api/v1/classify.
type ClassifyResponse struct {
	Model string       `json:"model"`
	Top   []Prediction `json:"top"`
	// MS is the time taken by decoding, resizing and the network, in
	// milliseconds (0 where the clock stands still during a request, as
	// on Cloudflare Workers).
	MS float64 `json:"ms"`
}

// classify answers POST /api/v1/classify?model=NAME&top=K.
func (s *Server) classify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m, err := s.reg.lookup(q.Get("model"))
	if err != nil {
		s.fail(w, err)
		return
	}
	top := 5
	if v := q.Get("top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 1 {
			s.fail(w, badRequest("top=%q: want a whole number of at least 1", v))
			return
		}
	}
	res := ClassifyResponse{Model: m.name}
	res.MS, err = s.run(w, r, m, func(net *octcore.Net, x *octcore.Tensor) error {
		out, err := net.Run(x)
		if err != nil {
			return err
		}
		res.Top = octcore.TopPredictions(octcore.Probabilities(m.m.Graph, out), m.m.Meta.Labels, top)
		return nil
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// run reads and decodes the request's image, turns it into m's input x and
// calls f with x and a network of m that no one else uses meanwhile. It
// returns the milliseconds taken from the decoded image to f's end.
func (s *Server) run(w http.ResponseWriter, r *http.Request, m *model, f func(net *octcore.Net, x *octcore.Tensor) error) (float64, error) {
	img, release, err := s.readImage(w, r)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	x, err := s.inputTensor(img, m.m.Meta.Input)
	// The decoded image is garbage from here on: its budget goes back
	// before the network runs.
	release()
	if err != nil {
		return 0, err
	}
	if err := m.withNet(func(net *octcore.Net) error { return f(net, x) }); err != nil {
		return 0, err
	}
	return millis(time.Since(start)), nil
}

func millis(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// topK returns the k most probable classes, ties broken by index.

// MapsResponse is the body of a successful POST /api/v1/maps.
type MapsResponse struct {
	Model    string  `json:"model"`
	Layer    string  `json:"layer"`
	Kind     string  `json:"kind"`
	AlphaOut float64 `json:"alpha_out"`
	// DType is "float32" or "float16"; Encoding is always "base64-le":
	// each part's Data is the base64 (standard alphabet, padded) of its
	// values, little-endian, channel-major ((c*H + y)*W + x).
	DType    string `json:"dtype"`
	Encoding string `json:"encoding"`
	// H is the high-frequency part; L the low-frequency part at half
	// resolution, null for a layer without one.
	H  *MapPart `json:"h"`
	L  *MapPart `json:"l"`
	MS float64  `json:"ms"`
}

// MapPart is one octave of a layer's output.
type MapPart struct {
	Shape []int   `json:"shape"` // [channels, height, width]
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Data  string  `json:"data"`
}

// maps answers POST /api/v1/maps?model=NAME&layer=NAME[&dtype=float16].
func (s *Server) maps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m, err := s.reg.lookup(q.Get("model"))
	if err != nil {
		s.fail(w, err)
		return
	}
	layer := q.Get("layer")
	var li *LayerInfo
	for i := range m.info.Layers {
		if m.info.Layers[i].Name == layer {
			li = &m.info.Layers[i]
		}
	}
	if li == nil {
		names := make([]string, len(m.info.Layers))
		for i, l := range m.info.Layers {
			names[i] = l.Name
		}
		if layer == "" {
			s.fail(w, badRequest("no layer given: add layer=NAME (model %s has %s)", m.name, strings.Join(names, ", ")))
			return
		}
		s.fail(w, badRequest("unknown layer %q in model %s (have %s)", layer, m.name, strings.Join(names, ", ")))
		return
	}
	dtype := q.Get("dtype")
	switch dtype {
	case "":
		dtype = "float32"
	case "float32", "float16":
	default:
		s.fail(w, badRequest("dtype=%q: want float32 or float16", dtype))
		return
	}
	res := MapsResponse{Model: m.name, Layer: li.Name, Kind: li.Kind, AlphaOut: li.AlphaOut, DType: dtype, Encoding: "base64-le"}
	res.MS, err = s.run(w, r, m, func(net *octcore.Net, x *octcore.Tensor) error {
		if _, err := net.Run(x); err != nil {
			return err
		}
		f, err := net.Output(li.Name)
		if err != nil {
			return err
		}
		res.H, res.L = encodePart(f.H, dtype), encodePart(f.L, dtype)
		return nil
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// encodePart encodes one octave's maps; nil gives nil.
func encodePart(t *octcore.Tensor, dtype string) *MapPart {
	if t == nil {
		return nil
	}
	vals := t.Data[:t.C*t.H*t.W]
	p := &MapPart{Shape: []int{t.C, t.H, t.W}}
	var raw []byte
	if dtype == "float16" {
		raw = make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint16(raw[2*i:], weights.Float32ToFloat16(v))
		}
	} else {
		raw = make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	if len(vals) > 0 {
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		p.Min, p.Max = float64(lo), float64(hi)
	}
	p.Data = base64.StdEncoding.EncodeToString(raw)
	return p
}
