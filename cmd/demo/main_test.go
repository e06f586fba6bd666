package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func setup(t *testing.T) http.Handler {
	t.Helper()
	dir := t.TempDir()
	web, models := filepath.Join(dir, "web"), filepath.Join(dir, "models")
	for _, d := range []string{web, filepath.Join(web, "dist"), models} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(web, "index.html"):              "<!doctype html><title>x</title>",
		filepath.Join(web, "app.js"):                  "export const x = 1;\n",
		filepath.Join(web, "dist", "a.wasm"):          "\x00asm\x01\x00\x00\x00",
		filepath.Join(web, "dist", "a.wasm.br"):       "BR",
		filepath.Join(models, "m.safetensors"):        "model bytes",
		filepath.Join(dir, "secret.txt"):              "no",
		filepath.Join(web, ".hidden"):                 "no",
		filepath.Join(web, "dist", "plain.png"):       "\x89PNG",
		filepath.Join(web, "dist", "plain.png.gz"):    "not used",
		filepath.Join(models, "README.md"):            "# models",
		filepath.Join(web, "dist", "wasm_exec.js"):    "// go",
		filepath.Join(web, "dist", "wasm_exec.js.gz"): "GZ",
	}
	// One modification time for every file: the handler serves a .br or
	// .gz sibling only when it is not older than the file, and the order in
	// which the map writes them (hence their mtimes) is random.
	mod := time.Now().Add(-time.Hour).Truncate(time.Second)
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	return newHandler(web, models)
}

func get(h http.Handler, path, accept string) *http.Response {
	r := httptest.NewRequest("GET", path, nil)
	if accept != "" {
		r.Header.Set("Accept-Encoding", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTypesAndEncodings(t *testing.T) {
	h := setup(t)
	cases := []struct {
		path, accept, status, ctype, enc, body string
	}{
		{"/", "", "200", "text/html; charset=utf-8", "", "<!doctype html><title>x</title>"},
		{"/dist/a.wasm", "gzip, deflate, br", "200", "application/wasm", "br", "BR"},
		{"/dist/a.wasm", "", "200", "application/wasm", "", "\x00asm\x01\x00\x00\x00"},
		{"/dist/wasm_exec.js", "gzip", "200", "text/javascript; charset=utf-8", "gzip", "GZ"},
		{"/dist/plain.png", "gzip", "200", "image/png", "", "\x89PNG"},
		{"/models/m.safetensors", "", "200", "application/octet-stream", "", "model bytes"},
		{"/../secret.txt", "", "404", "", "", ""},
		{"/.hidden", "", "404", "", "", ""},
		{"/nope.js", "", "404", "", "", ""},
	}
	for _, c := range cases {
		r := get(h, c.path, c.accept)
		if got := r.Status[:3]; got != c.status {
			t.Errorf("%s: status %s, want %s", c.path, r.Status, c.status)
			continue
		}
		if c.status != "200" {
			continue
		}
		if got := r.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := r.Header.Get("Content-Encoding"); got != c.enc {
			t.Errorf("%s: Content-Encoding %q, want %q", c.path, got, c.enc)
		}
		if got := body(t, r); got != c.body {
			t.Errorf("%s: body %q, want %q", c.path, got, c.body)
		}
	}
}

func TestOnTheFlyCompression(t *testing.T) {
	h := setup(t)
	r := get(h, "/app.js", "br")
	if r.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("Content-Encoding %q, want br", r.Header.Get("Content-Encoding"))
	}
	dec, err := io.ReadAll(brotli.NewReader(bytes.NewReader([]byte(body(t, r)))))
	if err != nil || string(dec) != "export const x = 1;\n" {
		t.Fatalf("brotli body decodes to %q, %v", dec, err)
	}
	r = get(h, "/models/README.md", "gzip;q=1, br;q=0")
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", r.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body(t, r))))
	if err != nil {
		t.Fatal(err)
	}
	dec, _ = io.ReadAll(zr)
	if string(dec) != "# models" {
		t.Fatalf("gzip body decodes to %q", dec)
	}
}
