//go:build !(js && wasm)

package server

import (
	"bytes"
	"compress/gzip"
	"io"

	"github.com/andybalholm/brotli"
)

// encoder compresses a static file on the fly (brotli quality 6 or gzip at
// its best compression). The GOOS=js build has none: the Worker's page is
// served as static assets, and the encoder would grow its binary.
var encoder = func(raw []byte, enc string) ([]byte, error) {
	var buf bytes.Buffer
	var zw io.WriteCloser
	if enc == "br" {
		zw = brotli.NewWriterLevel(&buf, 6)
	} else {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
