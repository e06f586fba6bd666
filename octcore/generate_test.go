package octcore

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// kernel_vec_wasm.go and winograd_vec_wasm.go are kernel_simd.go and
// winograd_vec.go for the wasm SIMD build, and kernel_wasm.s is written by
// genasm; regenerate them with go generate after
// editing the kernels.
func TestGeneratedKernelUpToDate(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("needs the go command")
	}
	for _, c := range []struct {
		gen, file string
		args      []string
	}{
		{"./internal/genkernel", "kernel_vec_wasm.go", []string{"-stdout", "kernel_vec_wasm.go"}},
		{"./internal/genkernel", "winograd_vec_wasm.go", []string{"-stdout", "winograd_vec_wasm.go"}},
		{"./internal/genasm", "kernel_wasm.s", []string{"-stdout"}},
	} {
		out, err := exec.Command("go", append([]string{"run", c.gen}, c.args...)...).Output()
		if err != nil {
			t.Fatalf("go run %s: %v", c.gen, err)
		}
		have, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, have) {
			t.Fatalf("%s is stale: run go generate ./octcore", c.file)
		}
	}
}
