// Command genkernel writes octcore/kernel_vec_wasm.go from kernel_simd.go:
// the same kernel source for the WebAssembly SIMD build, where vec is
// simd/archsimd's Float32x4 and the portable simd package (whose start-up
// code links fmt and reflection) is not imported. Run it with go generate
// in octcore; TestGeneratedKernelUpToDate checks the copy.
package main

import (
	"log"
	"os"
)

func main() {
	src, err := os.ReadFile("kernel_simd.go")
	if err != nil {
		log.Fatal(err)
	}
	out, err := Generate(src)
	if err != nil {
		log.Fatal(err)
	}
	if len(os.Args) > 1 && os.Args[1] == "-stdout" {
		os.Stdout.Write(out)
		return
	}
	if err := os.WriteFile("kernel_vec_wasm.go", out, 0o644); err != nil {
		log.Fatal(err)
	}
}
