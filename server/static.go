package server

import (
	"bytes"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Static returns the handler that serves the files of fsys for GET and HEAD,
// the way the demo page needs them: `octave serve --web` and cmd/demo (`make
// demo`) both use it.
//
//   - Content-Type comes from a fixed table (application/wasm for .wasm, so
//     that streaming compilation works), not from the system's mime database.
//   - A compressible file (.html, .js, .wasm, .json, .safetensors, ...) is sent
//     brotli- or gzip-encoded when the client accepts it: as its precompressed
//     .br or .gz sibling when that exists and is not older than the file
//     (cmd/buildwasm writes them), else compressed once and kept in memory
//     (native builds only; the GOOS=js build sends such files as they are).
//   - Dot files, directories named test or node_modules and files named
//     *.test.* are not served (the page's own tests live in web/test); a
//     directory serves its index.html.
//
// Every response says Cache-Control: no-cache, X-Content-Type-Options:
// nosniff, Access-Control-Allow-Origin: * and the page's
// Content-Security-Policy ([PageCSP]). OPTIONS answers 204 with Allow; other
// methods are answered 405.
func Static(fsys fs.FS) http.Handler {
	return &static{fsys: fsys, files: http.FileServerFS(fsys), cache: map[string]*compressed{}}
}

type static struct {
	fsys  fs.FS
	files http.Handler
	mu    sync.Mutex
	cache map[string]*compressed
}

// compressed holds the encodings of one file at one modification time.
type compressed struct {
	mod      time.Time
	br, gzip []byte
}

// types are the MIME types the page needs, set explicitly so that the result
// does not depend on the system's mime database.
var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".wasm":        "application/wasm",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".webp":        "image/webp",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".ts":          "text/plain; charset=utf-8",
	".safetensors": "application/octet-stream",
}

// compressible lists the types worth compressing.
var compressible = map[string]bool{
	".html": true, ".js": true, ".mjs": true, ".css": true, ".json": true, ".map": true,
	".wasm": true, ".svg": true, ".txt": true, ".md": true, ".ts": true, ".safetensors": true,
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// PageCSP is the Content-Security-Policy of the demo page and its files.
// Scripts, styles and fonts come from the page's origin only; fetches too,
// or from an https URL (a model file the user gives by URL, which that
// site must let the page read with CORS);
// WebAssembly may be compiled ('wasm-unsafe-eval'; eval itself stays
// forbidden); workers come from the origin or a blob: URL (octave.js wraps a
// cross-origin worker script in one); images also from data: and blob: URLs,
// media also from the camera; no plugins, no <base>, no form posts, and no
// page may frame this one (frame-ancestors 'none', the clickjacking guard).
// The Worker's static assets carry the same policy: cmd/buildworker writes it
// to their _headers file.
const PageCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self' https:; " +
	"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// hidden reports whether a path segment names something the page does not
// need and a server must not serve: dot files, the tests, npm's packages.
func hidden(part string) bool {
	return strings.HasPrefix(part, ".") || part == "test" || part == "node_modules" || strings.Contains(part, ".test.")
}

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	setCORS(h)
	h.Set("Content-Security-Policy", PageCSP)
	if r.Method == http.MethodOptions {
		preflight(w, []string{http.MethodGet, http.MethodHead})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use GET or HEAD")
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	for _, part := range strings.Split(name, "/") {
		if hidden(part) {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
	}
	if name == "" {
		name = "."
	}
	fi, err := fs.Stat(s.fsys, name)
	if err != nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			// http.FileServerFS redirects to the path with a slash.
			s.files.ServeHTTP(w, r)
			return
		}
		name = path.Join(name, "index.html")
		if fi, err = fs.Stat(s.fsys, name); err != nil || fi.IsDir() {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
	}
	h.Set("Content-Type", contentType(name))
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if !compressible[strings.ToLower(path.Ext(name))] {
		s.serveFile(w, r, name, fi)
		return
	}
	h.Add("Vary", "Accept-Encoding")
	enc := negotiate(r.Header.Get("Accept-Encoding"))
	if enc == "" || r.Header.Get("Range") != "" {
		s.serveFile(w, r, name, fi)
		return
	}
	// A precompressed sibling wins if it is not older than the file.
	suffix := map[string]string{"br": ".br", "gzip": ".gz"}[enc]
	if sfi, err := fs.Stat(s.fsys, name+suffix); err == nil && !sfi.IsDir() && !sfi.ModTime().Before(fi.ModTime()) {
		h.Set("Content-Encoding", enc)
		s.serveFile(w, r, name+suffix, sfi)
		return
	}
	body, err := s.compress(name, fi, enc)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if body == nil { // no compressor in this build
		s.serveFile(w, r, name, fi)
		return
	}
	h.Set("Content-Encoding", enc)
	http.ServeContent(w, r, "", fi.ModTime(), bytes.NewReader(body))
}

// serveFile sends a file as it is; the Content-Type set before wins over
// http.ServeContent's sniffing.
func (s *static) serveFile(w http.ResponseWriter, r *http.Request, name string, fi fs.FileInfo) {
	f, err := s.fsys.Open(name)
	if err != nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	defer f.Close()
	if rs, ok := f.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", fi.ModTime(), rs)
		return
	}
	b, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	http.ServeContent(w, r, "", fi.ModTime(), bytes.NewReader(b))
}

// negotiate picks br over gzip when the client accepts it (a q=0 entry
// refuses an encoding).
func negotiate(accept string) string {
	var br, gz bool
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		name := strings.ToLower(strings.TrimSpace(fields[0]))
		refused := false
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(strings.ReplaceAll(f, " ", ""), "q="); ok && strings.Trim(v, "0.") == "" {
				refused = true
			}
		}
		if refused {
			continue
		}
		switch name {
		case "br":
			br = true
		case "gzip":
			gz = true
		}
	}
	switch {
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}

// compress returns the encoded body of a file, cached per modification time,
// or nil when this build compresses nothing on the fly.
func (s *static) compress(name string, fi fs.FileInfo, enc string) ([]byte, error) {
	if encoder == nil {
		return nil, nil
	}
	s.mu.Lock()
	c := s.cache[name]
	if c == nil || !c.mod.Equal(fi.ModTime()) {
		c = &compressed{mod: fi.ModTime()}
		s.cache[name] = c
	}
	body := c.gzip
	if enc == "br" {
		body = c.br
	}
	s.mu.Unlock()
	if body != nil {
		return body, nil
	}
	raw, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		return nil, err
	}
	if body, err = encoder(raw, enc); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if enc == "br" {
		c.br = body
	} else {
		c.gzip = body
	}
	s.mu.Unlock()
	return body, nil
}
