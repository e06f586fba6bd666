// Command buildworker builds Octave's edge server for Cloudflare Workers.
//
// It copies the shipped models (models/weights/*.safetensors) into
// worker/models/, where the worker embeds them — or, when there are none yet,
// writes an untrained model there (untrained-oct-a500) so that the worker
// still builds and answers; then it writes worker/build/:
//
//	app.wasm       the Go program (GOOS=js GOARCH=wasm go build ./worker)
//	wasm_exec.js   the Go runtime glue of github.com/syumai/workers
//	worker.mjs     the entry point (worker/shim/worker.mjs)
//	public/        the static assets: the demo page (web/, without its tests
//	               and precompressed copies) and the models under models/,
//	               with a _headers file that gives every asset the headers
//	               of `octave serve`: server.PageCSP, nosniff and CORS
//	size.json      the script's raw and gzip sizes
//
// and prints the compressed size of the script against Cloudflare's limits
// (3 MB on the free plan, 10 MB on the paid plans; static assets do not count).
//
// Usage, from the repository root:
//
//	go run ./worker/cmd/buildworker [-simd=false] [-random] [-models models/weights] [-match GLOB]
//
// The default build uses Go 1.27.3 with GOEXPERIMENT=simd, whose SIMD128
// kernels cut the CPU time per request (what Workers bill and limit);
// -simd=false builds the scalar engine with the local toolchain.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/octave-project/octave/internal/testmodel"
	"github.com/octave-project/octave/server"
)

// Cloudflare's limits on a Worker's compressed script size.
const (
	freeLimit = 3 << 20
	paidLimit = 10 << 20
)

func main() {
	modelsDir := flag.String("models", "models/weights", "directory of the model files to ship")
	webDir := flag.String("web", "web", "directory of the demo page")
	out := flag.String("out", "worker/build", "output directory")
	match := flag.String("match", "*.safetensors", "which model files of -models to ship (a glob)")
	random := flag.Bool("random", false, "ship only an untrained model, even when trained ones exist")
	simd := flag.Bool("simd", true, "build with Go 1.27.3 and GOEXPERIMENT=simd (WebAssembly SIMD128); false: the scalar build of the local toolchain")
	goCmd := flag.String("go", "go", "the go command")
	flag.Parse()
	if err := build(*modelsDir, *match, *webDir, *out, *random, *simd, *goCmd); err != nil {
		fmt.Fprintln(os.Stderr, "buildworker:", err)
		os.Exit(1)
	}
}

func build(modelsDir, match, webDir, out string, random, simd bool, goCmd string) error {
	if _, err := os.Stat("worker/shim/worker.mjs"); err != nil {
		return fmt.Errorf("run from the repository root: %v", err)
	}
	models, err := stageModels(modelsDir, match, "worker/models", random)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	public := filepath.Join(out, "public")
	if err := os.MkdirAll(filepath.Join(public, "models"), 0o755); err != nil {
		return err
	}

	// The runtime glue from syumai/workers' own generator.
	gen, err := os.MkdirTemp("", "workers-assets-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gen)
	if err := run(nil, goCmd, "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", gen); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(gen, "wasm_exec.js"), filepath.Join(out, "wasm_exec.js")); err != nil {
		return err
	}
	if err := copyFile("worker/shim/worker.mjs", filepath.Join(out, "worker.mjs")); err != nil {
		return err
	}
	wasm := filepath.Join(out, "app.wasm")
	env := []string{"GOOS=js", "GOARCH=wasm"}
	if simd {
		// Go 1.27's wasm_exec.js is the same as 1.26's, for which
		// syumai/workers generated its copy.
		env = append(env, "GOTOOLCHAIN=go1.27.3", "GOEXPERIMENT=simd")
	}
	if err := run(env, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", wasm, "./worker"); err != nil {
		return err
	}

	// Static assets: the page and the models.
	if err := copyTree(webDir, public); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(public, "dist", "octave.wasm")); err != nil {
		fmt.Fprintln(os.Stderr, "buildworker: warning: web/dist has no octave.wasm (run make wasm): the page will not run")
	}
	for _, m := range models {
		if err := copyFile(filepath.Join("worker/models", m), filepath.Join(public, "models", m)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(public, "_headers"), []byte(assetHeaders), 0o644); err != nil {
		return err
	}
	return report(out, models, simd)
}

// assetHeaders is the _headers file of the static assets (Cloudflare applies
// it to every asset response and does not serve the file itself; wrangler dev
// does the same): the headers server.Static sends for the same files.
var assetHeaders = "/*\n" +
	"  Content-Security-Policy: " + server.PageCSP + "\n" +
	"  X-Content-Type-Options: nosniff\n" +
	"  Access-Control-Allow-Origin: *\n"

// stageModels replaces the model files in dst with those of src that match
// the glob, or with an
// untrained model when src has none or random is set. It returns the file
// names.
func stageModels(src, match, dst string, random bool) ([]string, error) {
	old, _ := filepath.Glob(filepath.Join(dst, "*.safetensors"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return nil, err
		}
	}
	var names []string
	if !random {
		files, err := filepath.Glob(filepath.Join(src, match))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !strings.HasSuffix(f, ".safetensors") {
				continue
			}
			if err := copyFile(f, filepath.Join(dst, filepath.Base(f))); err != nil {
				return nil, err
			}
			names = append(names, filepath.Base(f))
		}
	}
	if len(names) == 0 {
		b, err := testmodel.File(0.5, 1)
		if err != nil {
			return nil, err
		}
		name := "untrained-oct-a500.safetensors"
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "buildworker: no model files in %s: shipping %s (random weights)\n", src, name)
		names = append(names, name)
	}
	return names, nil
}

// report prints and records the script's size.
func report(out string, models []string, simd bool) error {
	type file struct {
		Name string `json:"name"`
		Raw  int64  `json:"raw"`
		Gzip int64  `json:"gzip"`
	}
	var files []file
	var raw, gz int64
	for _, n := range []string{"app.wasm", "wasm_exec.js", "worker.mjs"} {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			return err
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
		zw.Write(b)
		zw.Close()
		files = append(files, file{n, int64(len(b)), int64(z.Len())})
		raw += int64(len(b))
		gz += int64(z.Len())
	}
	fmt.Printf("worker script: %s raw, %s gzip (limits: %s free, %s paid)\n", mib(raw), mib(gz), mib(freeLimit), mib(paidLimit))
	for _, f := range files {
		fmt.Printf("  %-13s %10d bytes  %10d gzip\n", f.Name, f.Raw, f.Gzip)
	}
	fmt.Printf("models embedded: %s; SIMD build: %v\n", strings.Join(models, ", "), simd)
	switch {
	case gz <= freeLimit:
		fmt.Println("fits the free plan")
	case gz <= paidLimit:
		fmt.Println("over the free plan's 3 MB: needs a paid plan (10 MB)")
	default:
		fmt.Println("over the paid plan's 10 MB: cannot be deployed")
	}
	b, err := json.MarshalIndent(struct {
		Files     []file   `json:"files"`
		Raw       int64    `json:"raw"`
		Gzip      int64    `json:"gzip"`
		FreeLimit int64    `json:"free_limit"`
		PaidLimit int64    `json:"paid_limit"`
		Models    []string `json:"models"`
	}{files, raw, gz, freeLimit, paidLimit, models}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "size.json"), append(b, '\n'), 0o644)
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func run(env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// copyTree copies the page: every file but tests, dot files and the .br and
// .gz copies (Cloudflare compresses assets itself).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		base := d.Name()
		if rel != "." && (strings.HasPrefix(base, ".") || (d.IsDir() && (rel == "test" || base == "node_modules"))) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(base, ".br") || strings.HasSuffix(base, ".gz") {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}
