//go:build js && wasm

package server

// encoder is nil in the GOOS=js build: see compress.go.
var encoder func(raw []byte, enc string) ([]byte, error)
