package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServe checks what Serve adds to a handler: the Listener's rewrite of
// net/http's own answers, and a shutdown that returns nil when the context
// ends.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	go func() { done <- Serve(ctx, ln, h) }()
	addr := ln.Addr().String()
	if code, _ := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); code != 200 {
		t.Errorf("GET /: %d", code)
	}
	// net/http's own 501, through Listener: 400 with the server's headers.
	code, hdr := rawRequest(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
	if code != 400 || hdr.Get("Access-Control-Allow-Origin") != "*" || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Transfer-Encoding: gzip, chunked: %d %v, want 400 with CORS and nosniff", code, hdr)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after its context ended: %v", err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections after shutdown")
	}
}
