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
// query), 404, 405 (with Allow), 413 (body over [Options.MaxBody]), 415 (a
// body that is not an image type). A panic is recovered and answered with 500.
// Every response carries CORS headers; OPTIONS answers a preflight.
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
)

// DefaultMaxBody is the largest request body accepted: 4 MiB.
const DefaultMaxBody = 4 << 20

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
	// Logf, when not nil, receives recovered panics and server-side errors.
	Logf func(format string, args ...any)
}

// Server is the http.Handler of the API. It is safe for concurrent use.
type Server struct {
	opt    Options
	reg    *registry
	static http.Handler
	models http.Handler
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
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	reg, err := newRegistry(o.Models, o.DefaultModel)
	if err != nil {
		return nil, err
	}
	s := &Server{opt: o, reg: reg}
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
	rw := &responseWriter{ResponseWriter: w}
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
	s.route(rw, r)
}

// route dispatches one request.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	api := p == "/healthz" || strings.HasPrefix(p, "/api/")
	if r.Method == http.MethodOptions && (api || s.static == nil) {
		preflight(w, r)
		return
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

func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Type")
}

// preflight answers a CORS preflight request.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "Content-Type")
	}
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Allow", "GET, HEAD, POST, OPTIONS")
	h.Add("Vary", "Access-Control-Request-Headers")
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

// responseWriter records whether a response has been started, so that a
// recovered panic answers 500 only when nothing was sent yet.
type responseWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *responseWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// healthz reports that the server is up and which models it holds.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status  string   `json:"status"`
		Models  []string `json:"models"`
		Default string   `json:"default"`
		Loaded  []string `json:"loaded"`
	}{"ok", s.reg.names(), s.reg.def, s.reg.loaded()})
}
