package octcore

// kernel_vec_wasm.go and winograd_vec_wasm.go are kernel_simd.go and
// winograd_vec.go for the WebAssembly SIMD build.
//go:generate go run ./internal/genkernel

// kernel_wasm.s holds the WebAssembly SIMD micro kernels.
//go:generate go run ./internal/genasm
