package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/weights"
)

// TestServe runs `octave serve` on a free loopback port and talks to it
// over HTTP: the page, a model file, the API, an error, then a shutdown.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	web := filepath.Join(dir, "web")
	for _, d := range []string{models, web} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	m := &weights.Model{Graph: g, Params: octcore.RandomParams(g, 3), Meta: weights.Metadata{
		Name: "random", Labels: dataset.FashionClasses,
		Input: weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.5}, Std: []float32{0.25}},
	}}
	modelPath := writeModel(t, models, "fashion-oct-a500.safetensors", m, "int8")
	if err := os.WriteFile(filepath.Join(web, "index.html"), []byte("<!doctype html><title>Octave demo</title>"), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, serveOptions{addr: "127.0.0.1:0", models: models, web: web, maxBody: 1 << 20, quiet: true}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "serving" || !strings.HasPrefix(f[1], "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	base := strings.TrimSuffix(f[1], "/")
	client := &http.Client{Timeout: 30 * time.Second}

	get := func(path string) (int, []byte) {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if st, b := get("/"); st != 200 || !bytes.Contains(b, []byte("Octave demo")) {
		t.Errorf("GET /: %d %q", st, b)
	}
	want, _ := os.ReadFile(modelPath)
	if st, b := get("/models/fashion-oct-a500.safetensors"); st != 200 || !bytes.Equal(b, want) {
		t.Errorf("GET the model file: %d, %d bytes", st, len(b))
	}
	if st, b := get("/healthz"); st != 200 || !bytes.Contains(b, []byte(`"status":"ok"`)) {
		t.Errorf("GET /healthz: %d %s", st, b)
	}

	var img bytes.Buffer
	if err := png.Encode(&img, uniformGray(28, 28, 200)); err != nil {
		t.Fatal(err)
	}
	res, err := client.Post(base+"/api/v1/classify?top=3", "image/png", bytes.NewReader(img.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var cr struct {
		Model string
		Top   []struct {
			Label       string
			Index       int
			Probability float64
		}
	}
	err = json.NewDecoder(res.Body).Decode(&cr)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || cr.Model != "fashion-oct-a500" || len(cr.Top) != 3 || cr.Top[0].Label != dataset.FashionClasses[cr.Top[0].Index] {
		t.Errorf("classify: %d %+v %v", res.StatusCode, cr, err)
	}
	res, err = client.Post(base+"/api/v1/classify", "image/png", bytes.NewReader(make([]byte, 1<<20+1)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("body over --max-body: %d, want 413", res.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeUsage(t *testing.T) {
	if st, _, _ := runCmd("serve", "extra"); st != 2 {
		t.Errorf("serve with an argument: status %d, want 2", st)
	}
	if st, _, _ := runCmd("serve", "--max-body", "0"); st != 2 {
		t.Errorf("serve --max-body 0: status %d, want 2", st)
	}
	dir := t.TempDir()
	if st, _, stderr := runCmd("serve", "--models", filepath.Join(dir, "none"), "--addr", "127.0.0.1:0"); st != 1 || !strings.Contains(stderr, "not a directory") {
		t.Errorf("serve --models missing: status %d, %q", st, stderr)
	}
	if st, _, stderr := runCmd("serve", "--models", dir, "--web", filepath.Join(dir, "none"), "--addr", "127.0.0.1:0"); st != 1 || !strings.Contains(stderr, "--web") {
		t.Errorf("serve --web missing: status %d, %q", st, stderr)
	}
	if st, _, stderr := runCmd("serve", "--models", dir, "--web", "", "--model", "nope", "--addr", "127.0.0.1:0"); st != 1 || !strings.Contains(stderr, "nope") {
		t.Errorf("serve --model unknown: status %d, %q", st, stderr)
	}
}
