// Package server is Octave's HTTP server: a JSON inference API over the shipped
// models and, optionally, the demo page's static files. The same
// [http.Handler] runs as a Cloudflare Worker (package worker, built for
// GOOS=js GOARCH=wasm through github.com/syumai/workers) and as a plain local
// server (`octave serve`).
//
// Routes:
//
//	GET  /healthz                                  {"status":"ok",...}
//	GET  /api/v1/models                            the models and their info
//	POST /api/v1/classify?model=NAME&top=K         body: an image -> top-K classes
//	POST /api/v1/maps?model=NAME&layer=NAME        body: an image -> a layer's H and L maps
//	GET  /models/FILE                              a model file (when Options.Models is served)
//	GET  /...                                      the page (when Options.Static is set)
//
// Every error is JSON, {"error": "..."}, with the status that names the
// client's mistake: 400 (undecodable image, unknown model or layer, bad
// query), 404, 405 (with Allow), 413 (body over [Options.MaxBody], or an
// image too large to decode: see [imageio.DecodeCost] and
// [Options.DecodeBudget]), 415 (a body that is not an image type). 503 with
// Retry-After says the server is busy: more than [Options.MaxConcurrent]
// requests, or images whose decoding would exceed the decode budget, waited
// longer than [Options.QueueWait]. A panic is recovered and answered with 500.
// Every response carries CORS headers and X-Content-Type-Options: nosniff;
// OPTIONS on any route answers 204 with its Allow and a CORS preflight.
//
// Models are read from Options.Models once, on first use, and kept: each has
// a pool of built networks, since an [octcore.Net] is not safe for concurrent
// use. docs/DEPLOY.md documents the wire formats.
package server

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxBody is the largest request body accepted: 4 MiB.
const DefaultMaxBody = 4 << 20

// Defaults of the limits that keep a server's memory bounded under load.
const (
	// DefaultDecodeBudget is the memory that the images being decoded at
	// one time may take together, as imageio.DecodeCost counts it: 192 MiB.
	DefaultDecodeBudget = 192 << 20
	// DefaultMaxConcurrent is the number of requests handled at once.
	DefaultMaxConcurrent = 64
	// DefaultQueueWait is how long a request waits for a request slot or for
	// decode budget before it is answered 503.
	DefaultQueueWait = 5 * time.Second
)

// Options configure a [Server].
type Options struct {
	// Models holds the model files (*.safetensors) at its top level; a
	// model's name is its file name without the extension.
	Models fs.FS
	// DefaultModel is the model used when a request names none. Empty
	// means "fashion-oct-a500" when present, else the first by name.
	DefaultModel string
	// Static, when not nil, holds the page served at / for GET and HEAD.
	// The model files are served under /models/ alongside it.
	Static fs.FS
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// AnySize is the longer side that images are scaled to for models that
	// take any input size; 0 means 224.
	AnySize int
	// DecodeBudget bounds the bytes that the images decoded at one time may
	// take together (imageio.DecodeCost of each); 0 means
	// DefaultDecodeBudget. An image that needs more than the whole budget
	// (or than imageio.MaxDecodedBytes) is refused with 413; one that does
	// not fit beside those being decoded waits for them, up to QueueWait,
	// then gets 503.
	DecodeBudget int64
	// MaxPixels, when positive, bounds an image's width x height below
	// imageio.MaxPixels: larger images get 413. Decoding and scaling take
	// time in proportion to the pixels, so this bounds the time one
	// request holds a server that handles one at a time (the Worker).
	MaxPixels int
	// MaxConcurrent bounds the requests handled at once; 0 means
	// DefaultMaxConcurrent. Further requests wait up to QueueWait, then
	// get 503.
	MaxConcurrent int
	// QueueWait is how long a request may wait for a slot or for decode
	// budget; 0 means DefaultQueueWait.
	QueueWait time.Duration
	// Logf, when not nil, receives recovered panics and server-side errors.
	Logf func(format string, args ...any)
}

// Server is the http.Handler of the API. It is safe for concurrent use.
type Server struct {
	opt    Options
	reg    *registry
	static http.Handler
	models http.Handler
	decode *budget // bytes of decoding memory
	slots  *budget // requests in flight
}

// New returns a server over the models in o.Models. It lists the model files
// but loads none: each loads on its first use.
func New(o Options) (*Server, error) {
	if o.Models == nil {
		return nil, fmt.Errorf("server: no model directory")
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.AnySize <= 0 {
		o.AnySize = 224
	}
	if o.DecodeBudget <= 0 {
		o.DecodeBudget = DefaultDecodeBudget
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.QueueWait <= 0 {
		o.QueueWait = DefaultQueueWait
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	reg, err := newRegistry(o.Models, o.DefaultModel)
	if err != nil {
		return nil, err
	}
	s := &Server{opt: o, reg: reg, decode: newBudget(o.DecodeBudget), slots: newBudget(int64(o.MaxConcurrent))}
	if o.Static != nil {
		s.static = Static(o.Static)
		s.models = http.StripPrefix("/models", Static(o.Models))
	}
	return s, nil
}

// ModelNames returns the names of the models the server offers, sorted.
func (s *Server) ModelNames() []string { return s.reg.names() }

// DefaultModel returns the name of the model used when a request names none
// ("" when there are no models).
func (s *Server) DefaultModel() string { return s.reg.def }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := record(w)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.opt.Logf("server: panic serving %s %s: %v", r.Method, r.URL.Path, v)
			if !rw.wrote {
				writeError(rw, http.StatusInternalServerError, "internal error")
			}
		}
	}()
	setCORS(rw.Header())
	if !s.slots.acquire(1, s.opt.QueueWait) {
		busy(rw, fmt.Sprintf("server busy: %d requests in progress", s.opt.MaxConcurrent))
		return
	}
	defer s.slots.release(1)
	s.route(rw, r)
}

// busy answers 503 with Retry-After.
func busy(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, msg+"; retry in a second")
}

// route dispatches one request.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		// A request target of another form than a path (e.g. "*"): net/http
		// answers "OPTIONS *" itself and passes the others on.
		writeError(w, http.StatusBadRequest, fmt.Sprintf("request target %q: want a path", r.RequestURI))
		return
	}
	api := p == "/healthz" || strings.HasPrefix(p, "/api/")
	if r.Method == http.MethodOptions {
		if m, ok := routeMethods[p]; ok {
			preflight(w, m)
			return
		}
		if !api && s.static != nil {
			preflight(w, []string{http.MethodGet, http.MethodHead})
			return
		}
	}
	switch p {
	case "/healthz":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		s.healthz(w, r)
	case "/api/v1/models":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		s.listModels(w, r)
	case "/api/v1/classify":
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.classify(w, r)
	case "/api/v1/maps":
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.maps(w, r)
	default:
		if api || s.static == nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s (see GET /api/v1/models, POST /api/v1/classify, POST /api/v1/maps, GET /healthz)", p))
			return
		}
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		if p == "/models" || strings.HasPrefix(p, "/models/") {
			s.models.ServeHTTP(w, r)
			return
		}
		s.static.ServeHTTP(w, r)
	}
}

// routeMethods are the methods of the API's routes (OPTIONS aside).
var routeMethods = map[string][]string{
	"/healthz":         {http.MethodGet, http.MethodHead},
	"/api/v1/models":   {http.MethodGet, http.MethodHead},
	"/api/v1/classify": {http.MethodPost},
	"/api/v1/maps":     {http.MethodPost},
}

// allow answers 405 unless r's method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(append(methods, http.MethodOptions), ", "))
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(methods, " or ")))
	return false
}

// setCORS sets the headers every response carries: any origin may read
// the API and the files (they hold nothing private), and no response is
// sniffed as another type than it says.
func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Type, Retry-After")
	h.Set("X-Content-Type-Options", "nosniff")
}

// AllowedHeaders are the request headers a cross-origin caller may send,
// beyond the CORS-safelisted ones: the only header the API reads is
// Content-Type (of a classify or maps body).
const AllowedHeaders = "Content-Type"

// preflight answers OPTIONS, which is also a CORS preflight, for a route
// whose methods are methods: 204 with Allow.
func preflight(w http.ResponseWriter, methods []string) {
	h := w.Header()
	allowed := strings.Join(append(append([]string(nil), methods...), http.MethodOptions), ", ")
	h.Set("Allow", allowed)
	h.Set("Access-Control-Allow-Methods", allowed)
	h.Set("Access-Control-Allow-Headers", AllowedHeaders)
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeError sends {"error": msg} with the given status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{msg})
}

// writeJSON sends v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// healthz reports that the server is up and which models it holds.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status  string   `json:"status"`
		Models  []string `json:"models"`
		Default string   `json:"default"`
		Loaded  []string `json:"loaded"`
	}{"ok", s.reg.names(), s.reg.def, s.reg.loaded()})
}
