package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Timeouts and limits of the connections of [Serve], which `octave serve`
// and cmd/demo use (docs/DEPLOY.md, "Limits of octave serve"): a request's
// header must arrive within ReadHeaderTimeout and its whole body within
// ReadTimeout (a client sending a byte a second is cut off), its answer
// must be written within WriteTimeout of the header's end, an idle
// keep-alive connection is closed after IdleTimeout, and a header block
// over MaxHeaderBytes gets 431.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = time.Minute
	WriteTimeout      = 2 * time.Minute
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
	// ShutdownTimeout is how long requests in flight may take to finish
	// once Serve's context is done.
	ShutdownTimeout = 10 * time.Second
)

// Serve serves h on ln, wrapped in [Listener], with the timeouts above,
// until ctx is done; then it shuts down, letting requests in flight finish
// within ShutdownTimeout, and returns nil. It returns the error that ends
// serving otherwise.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(Listener(ln)) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
