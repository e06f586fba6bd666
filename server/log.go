package server

import (
	"log"
	"net/http"
	"time"
)

// LogRequests wraps next so that every request is logged (package log) once
// it is answered: status, method, request URI, the content encoding when
// there is one, and the time taken. `octave serve` and cmd/demo use it.
func LogRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sr := record(w)
		start := time.Now()
		next.ServeHTTP(sr, r)
		took := time.Since(start).Round(time.Microsecond)
		if enc := w.Header().Get("Content-Encoding"); enc != "" {
			log.Printf("%d %s %s %s %v", sr.status, r.Method, r.URL.RequestURI(), enc, took)
			return
		}
		log.Printf("%d %s %s %v", sr.status, r.Method, r.URL.RequestURI(), took)
	})
}

// recorder keeps what the request log and the panic handler need to know
// of a response: its status and whether anything was sent yet. One recorder
// serves a request even when LogRequests wraps a Server.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// record returns w's recorder, wrapping w only when it is not one already.
func record(w http.ResponseWriter) *recorder {
	if r, ok := w.(*recorder); ok {
		return r
	}
	return &recorder{ResponseWriter: w, status: http.StatusOK}
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
	}
	r.wrote = true
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
