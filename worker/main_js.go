//go:build js && wasm

package main

import (
	"embed"
	"io/fs"
	"runtime/debug"

	"github.com/syumai/workers"

	"github.com/octave-project/octave/server"
)

// files holds the models that cmd/buildworker copied into models/.
//
//go:embed models
var files embed.FS

func main() {
	models, err := fs.Sub(files, "models")
	if err != nil {
		panic(err)
	}
	// An isolate has 128 MB for everything (docs/DEPLOY.md, "Memory of
	// the Worker"), and WebAssembly memory only grows: a smaller decode
	// budget than octave serve's, and a soft limit that makes the Go
	// collector work harder rather than grow the heap past it.
	debug.SetMemoryLimit(MemoryLimit)
	srv, err := server.New(server.Options{Models: models, DecodeBudget: DecodeBudget, MaxPixels: MaxPixels})
	if err != nil {
		panic(err)
	}
	// One Go program serves every request of its isolate: shim/worker.mjs
	// starts it once and calls its handler per request, so the models
	// load once per instance. (syumai/workers' Serve would exit after the
	// first response, and its stock entry starts a new program for each
	// request.)
	workers.ServeNonBlock(srv)
	workers.Ready()
	select {}
}
