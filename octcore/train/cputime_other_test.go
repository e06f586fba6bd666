//go:build !unix

package train

// cpuSeconds is 0 where the process's CPU time cannot be read (js/wasm):
// the benchmark then reports wall-clock images/s only.
func cpuSeconds() float64 { return 0 }
