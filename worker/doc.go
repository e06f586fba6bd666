// Command worker is Octave's edge server: the JSON inference API of package
// [github.com/octave-project/octave/server] compiled to WebAssembly
// (GOOS=js GOARCH=wasm) and served on Cloudflare Workers through
// github.com/syumai/workers, with the shipped models embedded.
//
// Build it with `make worker` (go run ./worker/cmd/buildworker), which
// copies the models into worker/models/, writes worker/build/ (app.wasm, the
// JavaScript entry worker.mjs from worker/shim/, wasm_exec.js, and the
// static assets in build/public/) and prints the compressed size. `make
// worker-dev` runs it locally in wrangler dev at 127.0.0.1:8787; docs/DEPLOY.md
// says how to deploy it.
//
// A native build of this package only explains this: the same handler runs
// natively as `octave serve`.
package main
