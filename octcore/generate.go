package octcore

// kernel_vec_wasm.go is kernel_simd.go for the WebAssembly SIMD build.
//go:generate go run ./internal/genkernel
