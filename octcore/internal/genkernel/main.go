// Command genkernel writes octcore/kernel_vec_wasm.go from kernel_simd.go
// and octcore/winograd_vec_wasm.go from winograd_vec.go: the same kernel
// source for the WebAssembly SIMD build, where the vectors are
// simd/archsimd's Float32x4 and the portable simd package (whose start-up
// code links fmt and reflection) is not imported. Run it with go generate
// in octcore; TestGeneratedKernelUpToDate checks the copies. With
// -stdout FILE it prints the generated FILE instead.
package main

import (
	"log"
	"os"
)

// files maps each generated file to its source.
var files = []struct{ out, src string }{
	{"kernel_vec_wasm.go", "kernel_simd.go"},
	{"winograd_vec_wasm.go", "winograd_vec.go"},
}

func main() {
	only := ""
	if len(os.Args) > 2 && os.Args[1] == "-stdout" {
		only = os.Args[2]
	}
	for _, f := range files {
		if only != "" && f.out != only {
			continue
		}
		src, err := os.ReadFile(f.src)
		if err != nil {
			log.Fatal(err)
		}
		out, err := Generate(src, f.src)
		if err != nil {
			log.Fatal(err)
		}
		if only != "" {
			os.Stdout.Write(out)
			return
		}
		if err := os.WriteFile(f.out, out, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if only != "" {
		log.Fatalf("genkernel: no generated file %s", only)
	}
}
