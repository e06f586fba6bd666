// Command buildwasm builds the WebAssembly library of Octave.
//
// It compiles ./wasm twice for GOOS=js GOARCH=wasm, stripped:
//
//	web/dist/octave.wasm         SIMD128 kernels (Go 1.27.3, GOEXPERIMENT=simd)
//	web/dist/octave-nosimd.wasm  scalar kernels (the same toolchain, no experiment)
//
// appends to octave.wasm the octave.relaxed custom section (the offsets of
// microKernelWasm's eight multiply+add pairs, which web/octave.js rewrites as
// f32x4.relaxed_madd where the engine has relaxed SIMD; see relaxed.go),
// copies that toolchain's wasm_exec.js beside them, writes a .gz and a .br
// sibling of every file, and prints the size of each. It also copies the
// models that the npm package ships (Octave.models: fashion and mnist, from
// -models) into the output directory, beside the wasm. Both binaries come from
// one toolchain so that one wasm_exec.js serves both.
//
// Usage:
//
//	go run ./cmd/buildwasm [-out web/dist] [-toolchain go1.27.3] [-pkg ./wasm] [-models models/weights] [-relaxed=false]
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"
)

// Limits of the SIMD build (issue 5): raw and brotli-compressed bytes.
const (
	maxRaw    = 2_500_000
	maxBrotli = 700_000
)

func main() {
	out := flag.String("out", "web/dist", "output directory")
	toolchain := flag.String("toolchain", "go1.27.3", "Go toolchain for both builds (GOTOOLCHAIN)")
	pkg := flag.String("pkg", "./wasm", "package to build")
	goCmd := flag.String("go", "go", "go command")
	models := flag.String("models", "models/weights", "directory of the models the package ships ("+strings.Join(packagedModels, ", ")+"); empty: none")
	relaxed := flag.Bool("relaxed", true, "append octave.wasm's relaxed-SIMD patch table (the octave.relaxed section)")
	strict := flag.Bool("strict", false, "fail when octave.wasm is over its size budget (default: warn)")
	flag.Parse()
	err := run(*out, *toolchain, *pkg, *goCmd, *relaxed, os.Stdout)
	var over overBudget
	if errors.As(err, &over) && !*strict {
		fmt.Fprintln(os.Stderr, "buildwasm: warning:", err)
		err = nil
	}
	// After the budget warning: a binary over budget still gets its models.
	if err == nil && *models != "" {
		err = copyModels(*models, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildwasm:", err)
		os.Exit(1)
	}
}

type target struct {
	file string
	simd bool
}

func run(out, toolchain, pkg, goCmd string, relaxed bool, w io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var files []string
	for _, t := range []target{{"octave.wasm", true}, {"octave-nosimd.wasm", false}} {
		dst := filepath.Join(out, t.file)
		if err := build(goCmd, toolchain, pkg, dst, t.simd); err != nil {
			return fmt.Errorf("building %s: %w", t.file, err)
		}
		if t.simd && relaxed {
			n, err := addRelaxedTable(goCmd, toolchain, pkg, dst)
			if err != nil {
				return fmt.Errorf("the relaxed-SIMD table of %s: %w", t.file, err)
			}
			fmt.Fprintf(w, "%s: %s section, %d multiply+add pairs; patched, it validates with relaxed SIMD\n", t.file, relaxedSection, n)
		}
		files = append(files, dst)
	}
	root, err := goEnv(goCmd, toolchain, "GOROOT")
	if err != nil {
		return err
	}
	execJS := filepath.Join(out, "wasm_exec.js")
	if err := copyFile(filepath.Join(root, "lib", "wasm", "wasm_exec.js"), execJS); err != nil {
		return err
	}
	files = append(files, execJS)

	fmt.Fprintf(w, "%-28s %10s %10s %10s\n", "file", "raw", "gzip", "brotli")
	var problems []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		gz, err := gzipBytes(raw)
		if err != nil {
			return err
		}
		br, err := brotliBytes(raw)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f+".gz", gz, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(f+".br", br, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "%-28s %10d %10d %10d\n", filepath.Base(f), len(raw), len(gz), len(br))
		if filepath.Base(f) == "octave.wasm" {
			if len(raw) > maxRaw {
				problems = append(problems, fmt.Sprintf("octave.wasm is %d bytes, over the %d limit", len(raw), maxRaw))
			}
			if len(br) > maxBrotli {
				problems = append(problems, fmt.Sprintf("octave.wasm.br is %d bytes, over the %d limit", len(br), maxBrotli))
			}
		}
	}
	if len(problems) > 0 {
		return overBudget(strings.Join(problems, "; "))
	}
	return nil
}

// packagedModels are the model files of Octave.models in web/octave.js.
var packagedModels = []string{"fashion-oct-a500.safetensors", "mnist-oct-a500.safetensors"}

// copyModels copies packagedModels from dir to out.
func copyModels(dir, out string) error {
	for _, f := range packagedModels {
		if err := copyFile(filepath.Join(dir, f), filepath.Join(out, f)); err != nil {
			return fmt.Errorf("copying the packaged model: %w", err)
		}
	}
	return nil
}

// overBudget reports a binary larger than its size budget.
type overBudget string

func (e overBudget) Error() string { return string(e) }

// build compiles pkg to dst for js/wasm, stripped of symbols and DWARF.
func build(goCmd, toolchain, pkg, dst string, simd bool) error {
	return buildLd(goCmd, toolchain, pkg, dst, simd, "-s -w")
}

// buildLd is build with the linker flags ldflags (-w alone keeps the name
// section, which the relaxed table's search reads).
func buildLd(goCmd, toolchain, pkg, dst string, simd bool, ldflags string) error {
	// octave_nomathrand leaves octcore.RandomParams (and with it math/rand,
	// about 190 KB here) out of the library, which only loads trained weights.
	args := []string{"build", "-trimpath", "-ldflags=" + ldflags, "-tags=octave_nomathrand,octave_stdformats", "-o", dst, pkg}
	cmd := exec.Command(goCmd, args...)
	env := []string{"GOOS=js", "GOARCH=wasm", "GOTOOLCHAIN=" + toolchain}
	// nojsonv2 keeps encoding/json on its own v1 code: implemented over
	// encoding/json/v2 (the default of Go 1.27) it costs 1.5 MB more.
	exp := "GOEXPERIMENT=nojsonv2"
	if simd {
		exp += ",simd"
	}
	env = append(env, exp)
	cmd.Env = append(filterEnv(os.Environ(), "GOOS", "GOARCH", "GOTOOLCHAIN", "GOEXPERIMENT"), env...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

func goEnv(goCmd, toolchain, name string) (string, error) {
	cmd := exec.Command(goCmd, "env", name)
	cmd.Env = append(filterEnv(os.Environ(), "GOTOOLCHAIN"), "GOTOOLCHAIN="+toolchain)
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// filterEnv drops the variables named in names from env.
func filterEnv(env []string, names ...string) []string {
	var kept []string
outer:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue outer
			}
		}
		kept = append(kept, kv)
	}
	return kept
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func brotliBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	if _, err := bw.Write(b); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
