package octcore

// kernel_vec_wasm.go is kernel_simd.go for the WebAssembly SIMD build.
//go:generate go run ./internal/genkernel

// kernel_wasm.s holds the WebAssembly SIMD micro kernels.
//go:generate go run ./internal/genasm
