package octcore

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// kernel_vec_wasm.go is kernel_simd.go for the wasm SIMD build; regenerate it
// with go generate after editing the kernels.
func TestGeneratedKernelUpToDate(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("needs the go command")
	}
	out, err := exec.Command("go", "run", "./internal/genkernel", "-stdout").Output()
	if err != nil {
		t.Fatalf("go run ./internal/genkernel: %v", err)
	}
	have, err := os.ReadFile("kernel_vec_wasm.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, have) {
		t.Fatal("kernel_vec_wasm.go is stale: run go generate ./octcore")
	}
}
