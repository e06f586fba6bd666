package server

import (
	"bytes"
	"net"
)

// Listener wraps ln for serving a [Server] with net/http. net/http answers
// some malformed requests itself, before any handler runs, by writing a
// short response straight to the connection (status line, then exactly
// "Content-Type: text/plain; charset=utf-8" and "Connection: close"):
// 400 for a bad request line, header or Content-Length, 431 for a header
// block over http.Server.MaxHeaderBytes, 501 for a Transfer-Encoding it
// does not implement (anything but "chunked" alone, e.g. "gzip, chunked")
// and 505 for a protocol version other than HTTP/1.x. Listener adds the
// headers every answer of the server carries (CORS and
// X-Content-Type-Options) to those responses and turns the 501 and 505 into
// 400: both are the client's mistake. Every other byte passes unchanged.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return conn{c}, nil
}

type conn struct{ net.Conn }

// netHTTPError is what follows the status line of net/http's own error
// responses (errorHeaders in net/http's server.go). The handler's responses
// never look like this: they carry CORS headers, which sort first, and a
// Date.
const netHTTPError = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// ownHeaders are the headers added to net/http's own error responses.
const ownHeaders = "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n"

func (c conn) Write(b []byte) (int, error) {
	answer := rewriteError(b)
	if answer == nil {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(answer); err != nil {
		return 0, err
	}
	return len(b), nil
}

// rewriteError returns the rewritten form of b when b is one of net/http's
// own error responses, or nil.
func rewriteError(b []byte) []byte {
	const proto = "HTTP/1.1 "
	if !bytes.HasPrefix(b, []byte(proto)) {
		return nil
	}
	end := bytes.Index(b, []byte(netHTTPError))
	if end < 0 || bytes.IndexByte(b[:end], '\n') >= 0 {
		return nil
	}
	status, body := b[len(proto):end], b[end+len(netHTTPError):]
	switch {
	case bytes.HasPrefix(status, []byte("501 ")):
		status = []byte("400 Bad Request")
		body = []byte("Unsupported Transfer-Encoding: send the body with Content-Length, or with Transfer-Encoding: chunked alone\n")
	case bytes.HasPrefix(status, []byte("505 ")):
		status = []byte("400 Bad Request")
		body = []byte("Unsupported protocol version: send HTTP/1.0 or HTTP/1.1\n")
	}
	var out bytes.Buffer
	out.WriteString(proto)
	out.Write(status)
	out.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n" + ownHeaders + "\r\n")
	out.Write(body)
	return out.Bytes()
}
