// Command demo serves the Octave demo page for local use.
//
// It serves the static page in web/ at / and the shipped models in
// models/weights/ at /models/ with the static handler of `octave serve`
// ([server.Static]): the MIME types the browser needs (application/wasm for
// WebAssembly, so that streaming compilation works) and brotli or gzip
// content encoding (a precompressed .br or .gz sibling when it exists, other
// compressible files compressed once and kept in memory), through the same
// listener, timeouts and graceful shutdown ([server.Serve]). Unlike `octave
// serve` it offers no inference API.
//
// Usage:
//
//	go run ./cmd/demo [-addr 127.0.0.1:8080] [-web web] [-models models/weights]
//
// The port can also come from the environment variable PORT. With port 0 a
// free port is chosen; the URL is printed on the first line of standard
// output ("serving http://...").
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/octave-project/octave/server"
)

func main() {
	addr := flag.String("addr", "", "listen address (default 127.0.0.1:$PORT, PORT defaulting to 8080)")
	web := flag.String("web", "web", "directory of the static page")
	models := flag.String("models", "models/weights", "directory of the model files, served at /models/")
	quiet := flag.Bool("quiet", false, "do not log requests")
	flag.Parse()
	if *addr == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		*addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	h := newHandler(*web, *models)
	if !*quiet {
		h = server.LogRequests(h)
	}
	fmt.Printf("serving http://%s/\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Serve(ctx, ln, h); err != nil {
		log.Fatal(err)
	}
}

// newHandler serves the page directory at / and the model directory at
// /models/.
func newHandler(web, models string) http.Handler {
	page := server.Static(os.DirFS(web))
	files := http.StripPrefix("/models", server.Static(os.DirFS(models)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/models" || strings.HasPrefix(p, "/models/") {
			files.ServeHTTP(w, r)
			return
		}
		page.ServeHTTP(w, r)
	})
}
