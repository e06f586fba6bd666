package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"": "", "gzip": "gzip", "br": "br", "gzip, br": "br", "br;q=0, gzip": "gzip", "br;q=0.0, gzip;q=0": "", "gzip;q=0.5": "gzip", "identity": "",
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
}

// TestStaticCSP checks that every answer of Static (the page, its scripts,
// the wasm, a 404, a preflight) carries the page's policy, nosniff and CORS,
// and that the policy grants what the page needs and nothing that would let
// injected code run.
func TestStaticCSP(t *testing.T) {
	h := Static(fstest.MapFS{
		"index.html":       {Data: []byte("<!doctype html><title>Octave</title>")},
		"octave-worker.js": {Data: []byte("export {}")},
		"dist/octave.wasm": {Data: []byte("\x00asm")},
	})
	for _, c := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/octave-worker.js"}, {"GET", "/dist/octave.wasm"}, {"HEAD", "/"},
		{"GET", "/missing.js"}, {"OPTIONS", "/"}, {"POST", "/"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		hd := rec.Header()
		if hd.Get("Content-Security-Policy") != PageCSP || hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s %s: %d, headers %v", c.method, c.path, rec.Code, hd)
		}
	}
	dirs := map[string][]string{}
	for _, d := range strings.Split(PageCSP, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := dirs[f[0]]; dup {
			t.Errorf("directive %s twice", f[0])
		}
		dirs[f[0]] = f[1:]
	}
	want := map[string][]string{
		"default-src":     {"'self'"},
		"script-src":      {"'self'", "'wasm-unsafe-eval'"}, // WebAssembly.compile, nothing else
		"style-src":       {"'self'"},
		"connect-src":     {"'self'", "https:"}, // the page's own files, and a user's model by https URL
		"worker-src":      {"'self'", "blob:"},
		"img-src":         {"'self'", "data:", "blob:"},
		"object-src":      {"'none'"},
		"base-uri":        {"'none'"},
		"frame-ancestors": {"'none'"},
	}
	for name, sources := range want {
		if got := strings.Join(dirs[name], " "); got != strings.Join(sources, " ") {
			t.Errorf("%s = %q, want %q", name, got, strings.Join(sources, " "))
		}
	}
}
