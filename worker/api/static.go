package api

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// staticHandler serves the files of fsys. A .wasm or .js file is sent as its
// precompressed .br or .gz sibling when the client accepts that encoding and
// the sibling exists (cmd/buildwasm writes them). Dot files are not served.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		for _, part := range strings.Split(name, "/") {
			if strings.HasPrefix(part, ".") {
				writeError(w, http.StatusNotFound, "not found")
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if ext := path.Ext(name); (ext == ".wasm" || ext == ".js") && r.Header.Get("Range") == "" {
			w.Header().Add("Vary", "Accept-Encoding")
			for _, enc := range []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}} {
				if !accepts(r.Header.Get("Accept-Encoding"), enc.name) {
					continue
				}
				if fi, err := fs.Stat(fsys, name+enc.suffix); err == nil && !fi.IsDir() {
					w.Header().Set("Content-Type", mime.TypeByExtension(ext))
					w.Header().Set("Content-Encoding", enc.name)
					http.ServeFileFS(w, r, fsys, name+enc.suffix)
					return
				}
			}
		}
		files.ServeHTTP(w, r)
	})
}

// accepts reports whether an Accept-Encoding header value accepts enc (a
// q=0 entry refuses it).
func accepts(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(part, ";")
		if !strings.EqualFold(strings.TrimSpace(fields[0]), enc) {
			continue
		}
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(strings.ReplaceAll(f, " ", ""), "q="); ok && strings.Trim(v, "0.") == "" {
				return false
			}
		}
		return true
	}
	return false
}
