//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "worker: build this package with GOOS=js GOARCH=wasm (make worker); run the same server natively with `octave serve`")
	os.Exit(2)
}
