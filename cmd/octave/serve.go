package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/octave-project/octave/server"
)

func init() {
	register("serve", "serve the JSON inference API and the demo page over HTTP", runServe)
}

// serveOptions are the settings of one `octave serve`.
type serveOptions struct {
	addr, models, web, model string
	maxBody                  int64
	decodeBudgetMiB          int64
	maxConcurrent            int
	queueWait                time.Duration
	quiet                    bool
}

func runServe(args []string, stdout io.Writer) error {
	fs := newFlags("serve", "[--addr HOST:PORT] [--models DIR] [--web DIR] [--model NAME]")
	var o serveOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&o.models, "models", "models/weights", "directory of the model files (*.safetensors)")
	fs.StringVar(&o.web, "web", "web", `directory of the demo page served at / ("" serves the API only)`)
	fs.StringVar(&o.model, "model", "", "default model (default fashion-oct-a500 when present, else the first)")
	fs.Int64Var(&o.maxBody, "max-body", server.DefaultMaxBody, "largest request body in bytes")
	fs.Int64Var(&o.decodeBudgetMiB, "decode-budget", server.DefaultDecodeBudget>>20, "MiB that the images being decoded at one time may take together")
	fs.IntVar(&o.maxConcurrent, "max-concurrent", server.DefaultMaxConcurrent, "requests handled at once")
	fs.DurationVar(&o.queueWait, "queue-wait", server.DefaultQueueWait, "how long a request waits for a slot or decode budget before 503")
	fs.BoolVar(&o.quiet, "quiet", false, "do not log requests")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if o.maxBody < 1 {
		return usagef("--max-body %d: want at least 1", o.maxBody)
	}
	if o.decodeBudgetMiB < 1 {
		return usagef("--decode-budget %d: want at least 1 (MiB)", o.decodeBudgetMiB)
	}
	if o.maxConcurrent < 1 {
		return usagef("--max-concurrent %d: want at least 1", o.maxConcurrent)
	}
	if o.queueWait <= 0 {
		return usagef("--queue-wait %v: want a positive duration", o.queueWait)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, o, stdout)
}

// newServer returns the handler of `octave serve`: the API over o.models and,
// unless o.web is empty, the page in o.web.
func newServer(o serveOptions) (*server.Server, error) {
	if fi, err := os.Stat(o.models); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--models %s: not a directory", o.models)
	}
	var static fs.FS
	if o.web != "" {
		if fi, err := os.Stat(o.web); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--web %s: not a directory", o.web)
		}
		static = os.DirFS(o.web)
	}
	return server.New(server.Options{
		Models: os.DirFS(o.models), Static: static, DefaultModel: o.model, MaxBody: o.maxBody,
		DecodeBudget: o.decodeBudgetMiB << 20, MaxConcurrent: o.maxConcurrent, QueueWait: o.queueWait,
		Logf: log.New(os.Stderr, "octave serve: ", log.LstdFlags).Printf,
	})
}

// serve listens on o.addr and serves until ctx is done, then shuts down,
// letting requests in flight finish. The first line written to stdout is
// "serving http://HOST:PORT/".
func serve(ctx context.Context, o serveOptions, stdout io.Writer) error {
	srv, err := newServer(o)
	if err != nil {
		return err
	}
	if len(srv.ModelNames()) == 0 {
		fmt.Fprintf(os.Stderr, "octave serve: warning: no model files in %s: the API will answer 400 (make models trains them)\n", o.models)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	var h http.Handler = srv
	if !o.quiet {
		h = server.LogRequests(h)
	}
	fmt.Fprintf(stdout, "serving http://%s/ (models: %v, default %q)\n", ln.Addr(), srv.ModelNames(), srv.DefaultModel())
	return server.Serve(ctx, ln, h)
}
