package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/octave-project/octave/internal/pngtest"
)

// rawPNG writes a PNG by hand: IHDR for w x h at the colour type and depth,
// the extra chunks, then the pixels (bpp bytes each, from px) unfiltered,
// Adam7-interlaced when asked. image/png writes neither interlaced files
// nor tRNS for gray images.
func rawPNG(w, h, depth, ctype, bpp int, interlaced bool, extra []byte, px func(x, y int) []byte) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(ctype)
	passes := [][4]int{{0, 0, 1, 1}}
	if interlaced {
		ihdr[12] = 1
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	var raw bytes.Buffer
	for _, p := range passes {
		if px == nil { // a header without pixel data
			break
		}
		for y := p[1]; y < h; y += p[3] {
			if p[0] >= w {
				break
			}
			raw.WriteByte(0) // filter: none
			for x := p[0]; x < w; x += p[2] {
				raw.Write(px(x, y)[:bpp])
			}
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	out := []byte(pngtest.Signature)
	out = append(out, pngtest.Chunk("IHDR", ihdr)...)
	out = append(out, extra...)
	out = append(out, pngtest.Chunk("IDAT", z.Bytes())...)
	return append(out, pngtest.Chunk("IEND", nil)...)
}

// decodeAlloc returns the bytes allocated while decoding data, as the
// runtime counts them.
func decodeAlloc(t *testing.T, data []byte) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	img, _, err := image.Decode(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(img)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeCostBounds decodes a 512x384 image in every form the decoders
// distinguish and checks DecodeCost against the bytes the runtime saw
// allocated: never below them, and at most 2.5 times them (an estimate that
// refuses what it could admit is a limit of its own).
func TestDecodeCostBounds(t *testing.T) {
	const w, h = 512, 384
	noise := func(x, y int) []byte {
		v := uint32(x*2654435761) ^ uint32(y*40503)
		return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(x), byte(y), byte(x ^ y), 0xff}
	}
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	gray := image.NewGray(image.Rect(0, 0, w, h))
	pal := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := noise(x, y)
			rgba.Set(x, y, color.NRGBA{p[0], p[1], p[2], p[3]})
			gray.SetGray(x, y, color.Gray{p[0]})
			pal.SetColorIndex(x, y, p[1])
		}
	}
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	trns := pngtest.Chunk("tRNS", []byte{0, 7})
	cases := []struct {
		name string
		data []byte
		over float64 // the largest ratio allowed, when not 2.5
	}{
		{"png gray8", rawPNG(w, h, 8, 0, 1, false, nil, noise), 0},
		{"png gray8 tRNS", rawPNG(w, h, 8, 0, 1, false, trns, noise), 0},
		{"png gray16 tRNS", rawPNG(w, h, 16, 0, 2, false, trns, noise), 0},
		{"png rgb8", rawPNG(w, h, 8, 2, 3, false, nil, noise), 0},
		{"png rgba8", rawPNG(w, h, 8, 6, 4, false, nil, noise), 0},
		{"png rgba16", rawPNG(w, h, 16, 6, 8, false, nil, noise), 0},
		{"png rgba16 interlaced", rawPNG(w, h, 16, 6, 8, true, nil, noise), 0},
		{"png gray8 interlaced", rawPNG(w, h, 8, 0, 1, true, nil, noise), 0},
		{"png paletted", enc(func(b *bytes.Buffer) error { return png.Encode(b, pal) }), 0},
		{"jpeg 4:2:0", enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, rgba, nil) }), 0},
		{"jpeg gray", enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, nil) }), 0},
		{"gif", enc(func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) }), 0},
		{"bmp", enc(func(b *bytes.Buffer) error { return bmp.Encode(b, rgba) }), 0},
		{"tiff deflate", enc(func(b *bytes.Buffer) error { return tiff.Encode(b, rgba, &tiff.Options{Compression: tiff.Deflate}) }), 0},
		// The header does not say whether a TIFF is compressed: the cost
		// is that of the compressed case, 2.5 times what a plain file takes.
		{"tiff", enc(func(b *bytes.Buffer) error { return tiff.Encode(b, rgba, nil) }), 2.6},
		{"webp lossless", losslessWebP(testImageSized(w, h)), 0},
	}
	for _, c := range cases {
		if strings.HasPrefix(c.name, "webp") && !strings.Contains(formats, "WebP") {
			continue // built with octave_stdformats
		}
		cost, err := DecodeCost(c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := decodeAlloc(t, c.data)
		if c.over == 0 {
			c.over = 2.5
		}
		if uint64(cost) < got || float64(cost) > c.over*float64(got) {
			t.Errorf("%s: DecodeCost %d, decoding allocated %d (%.2fx)", c.name, cost, got, float64(cost)/float64(got))
		} else {
			t.Logf("%s: DecodeCost %d, decoding allocated %d (%.2fx)", c.name, cost, got, float64(cost)/float64(got))
		}
	}
}

// testImageSized is the test image's pattern at w x h.
func testImageSized(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, want(x%6, y%4))
		}
	}
	return img
}

// TestDecodeCostRefuses checks the images of the hostile-input probe: a
// header-only PNG claiming 8192x4882 16-bit RGBA (320 MB of pixels) and a
// 32-byte lossless WebP of the same size are refused from the header, with
// ErrTooLarge, while the same sizes in gray pass.
func TestDecodeCostRefuses(t *testing.T) {
	bomb := rawPNG(8192, 4882, 16, 6, 8, false, nil, nil) // no pixel data
	webp := losslessWebP(testImageSized(1, 1))
	// Overwrite the VP8L size fields: 14 bits of width-1, 14 of height-1.
	v := uint32(8191) | uint32(4881)<<14
	binary.LittleEndian.PutUint32(webp[21:], v|uint32(webp[24]&0xf0)<<24)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"png rgba16", bomb, "png image of 8192x4882 pixels is too large: decoding it takes 306.2 MiB"},
		{"png rgba16 interlaced", rawPNG(4096, 4096, 16, 6, 8, true, nil, nil), "decoding it takes 256.6 MiB"},
		{"webp lossless", webp, "webp image of 8192x4882 pixels is too large"},
	} {
		if strings.HasPrefix(c.name, "webp") && !strings.Contains(formats, "WebP") {
			continue
		}
		_, _, err := Decode(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge and %q", c.name, err, c.want)
		}
	}
	gray := rawPNG(8192, 4882, 8, 0, 1, false, nil, nil)
	if _, _, err := DecodeConfig(gray); err != nil {
		t.Errorf("8192x4882 8-bit gray (40 MB decoded): %v", err)
	}
	if cost, _ := DecodeCost(gray); cost < 8192*4882 || cost > 8192*4882+2<<20 {
		t.Errorf("8192x4882 8-bit gray: DecodeCost %d", cost)
	}
	if _, _, err := Decode(pngHeader(9000, 10)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a side over MaxSide: %v does not wrap ErrTooLarge", err)
	}
	if _, _, err := Decode([]byte("not an image")); errors.Is(err, ErrTooLarge) {
		t.Errorf("an unknown format wraps ErrTooLarge: %v", err)
	}
}

// TestJPEGProgressive checks the progressive case from the header: the same
// file with its SOF0 marker changed to SOF2 costs five times the planes.
func TestJPEGProgressive(t *testing.T) {
	var b bytes.Buffer
	jpeg.Encode(&b, testImageSized(512, 512), nil)
	base := b.Bytes()
	i := bytes.Index(base, []byte{0xff, 0xc0})
	prog := append([]byte(nil), base...)
	prog[i+1] = 0xc2
	if a, p := jpegBytes(base), jpegBytes(prog); a < 1.5 || a > 1.7 || p < 5*1.5 || p > 5*1.7 {
		t.Errorf("bytes per pixel: baseline 4:2:0 %.2f, progressive %.2f; want 1.5 and 7.5 (plus padding)", a, p)
	}
}
