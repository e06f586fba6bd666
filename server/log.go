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
		sr := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
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

// statusRecorder keeps the status of a response for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
