// Command demo serves the Octave demo page for local use.
//
// It serves the static page in web/ at /, the shipped models in
// models/weights/ at /models/, with the MIME types the browser needs
// (application/wasm for WebAssembly, so that streaming compilation works) and
// with brotli or gzip content encoding: a precompressed .br or .gz sibling is
// sent when it exists, other compressible files are compressed once and kept
// in memory.
//
// Usage:
//
//	go run ./cmd/demo [-addr 127.0.0.1:8080] [-web web] [-models models/weights]
//
// The port can also come from the environment variable PORT. With port 0 a
// free port is chosen; the URL is printed on the first line of standard
// output ("serving http://...").
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

func main() {
	addr := flag.String("addr", "", "listen address (default 127.0.0.1:$PORT, PORT defaulting to 8080)")
	web := flag.String("web", "web", "directory of the static page")
	models := flag.String("models", "models/weights", "directory of the model files, served at /models/")
	quiet := flag.Bool("quiet", false, "do not log requests")
	flag.Parse()
	if *addr == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		*addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	h := newHandler(*web, *models)
	var handler http.Handler = h
	if !*quiet {
		handler = logRequests(h)
	}
	fmt.Printf("serving http://%s/\n", ln.Addr())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// handler serves files from the page and model directories.
type handler struct {
	web, models string
	mu          sync.Mutex
	cache       map[string]*compressed
}

// compressed holds the encodings of one file at one modification time.
type compressed struct {
	mod      time.Time
	br, gzip []byte
}

func newHandler(web, models string) *handler {
	return &handler{web: web, models: models, cache: map[string]*compressed{}}
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

// compressible lists the types worth compressing on the fly.
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

// resolve maps a URL path to a file, refusing anything outside the roots.
func (h *handler) resolve(urlPath string) (string, bool) {
	p := path.Clean("/" + urlPath)
	root, rel := h.web, p
	if p == "/models" || strings.HasPrefix(p, "/models/") {
		root, rel = h.models, strings.TrimPrefix(p, "/models")
	}
	if strings.HasSuffix(rel, "/") || rel == "" {
		rel += "index.html"
	}
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") && part != "" {
			return "", false // no dot files, no traversal
		}
	}
	return filepath.Join(root, filepath.FromSlash(rel)), true
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := h.resolve(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	fi, err := os.Stat(name)
	if err == nil && fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		name = filepath.Join(name, "index.html")
		fi, err = os.Stat(name)
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType(name))
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	ext := strings.ToLower(filepath.Ext(name))
	if !compressible[ext] {
		h.serveFile(w, r, name, fi)
		return
	}
	hdr.Add("Vary", "Accept-Encoding")
	enc := negotiate(r.Header.Get("Accept-Encoding"))
	if enc == "" || r.Header.Get("Range") != "" {
		h.serveFile(w, r, name, fi)
		return
	}
	// A precompressed sibling wins if it is not older than the file.
	suffix := map[string]string{"br": ".br", "gzip": ".gz"}[enc]
	if sfi, err := os.Stat(name + suffix); err == nil && !sfi.ModTime().Before(fi.ModTime()) {
		hdr.Set("Content-Encoding", enc)
		h.serveFile(w, r, name+suffix, sfi)
		return
	}
	body, err := h.compress(name, fi, enc)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hdr.Set("Content-Encoding", enc)
	http.ServeContent(w, r, "", fi.ModTime(), bytes.NewReader(body))
}

// serveFile sends a file as it is; the Content-Type set before wins over
// http.ServeContent's sniffing.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string, fi os.FileInfo) {
	f, err := os.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// negotiate picks br over gzip when the client accepts it.
func negotiate(accept string) string {
	var br, gz bool
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		name := strings.ToLower(strings.TrimSpace(fields[0]))
		if len(fields) > 1 && strings.ReplaceAll(strings.TrimSpace(fields[1]), " ", "") == "q=0" {
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

// compress returns the encoded body of a file, cached per modification time.
func (h *handler) compress(name string, fi os.FileInfo, enc string) ([]byte, error) {
	h.mu.Lock()
	c := h.cache[name]
	if c == nil || !c.mod.Equal(fi.ModTime()) {
		c = &compressed{mod: fi.ModTime()}
		h.cache[name] = c
	}
	var body []byte
	if enc == "br" {
		body = c.br
	} else {
		body = c.gzip
	}
	h.mu.Unlock()
	if body != nil {
		return body, nil
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	var zw io.WriteCloser
	if enc == "br" {
		zw = brotli.NewWriterLevel(&buf, 6)
	} else {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	body = buf.Bytes()
	h.mu.Lock()
	if enc == "br" {
		c.br = body
	} else {
		c.gzip = body
	}
	h.mu.Unlock()
	return body, nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		start := time.Now()
		next.ServeHTTP(sw, r)
		log.Printf("%d %s %s %s %v", sw.status, r.Method, r.URL.Path, w.Header().Get("Content-Encoding"), time.Since(start).Round(time.Microsecond))
	})
}
