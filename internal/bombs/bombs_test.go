package bombs

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// The payloads are what the issue describes, as the real decoders read them.
func TestPayloadHeaders(t *testing.T) {
	cases := []struct {
		name   string
		data   []byte
		size   int // exact length, 0 for any
		format string
		w, h   int
		model  color.Model
	}{
		{"truncated", TruncatedPNG(8192, 4882, 207), 207, "png", 8192, 4882, color.NRGBA64Model},
		{"vp8l", VP8LWebP(8192, 4882), 32, "webp", 8192, 4882, color.NRGBAModel},
		{"gray-truncated", GrayTruncatedPNG(5000, 5000), 200, "png", 5000, 5000, color.GrayModel},
		{"interlaced", ZeroPNG(8000, 5000, true), 0, "png", 8000, 5000, color.NRGBA64Model},
		{"tiff", DeflateTIFF(5000, 5000, 1), 0, "tiff", 5000, 5000, color.GrayModel},
	}
	for _, c := range cases {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(c.data))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if format != c.format || cfg.Width != c.w || cfg.Height != c.h || cfg.ColorModel != c.model {
			t.Errorf("%s: %s %dx%d %T, want %s %dx%d %T", c.name, format, cfg.Width, cfg.Height, cfg.ColorModel, c.format, c.w, c.h, c.model)
		}
		if c.size != 0 && len(c.data) != c.size {
			t.Errorf("%s: %d bytes, want %d", c.name, len(c.data), c.size)
		}
	}
	// The interlaced file was about 310 KB.
	if n := len(ZeroPNG(8000, 5000, true)); n < 250_000 || n > 400_000 {
		t.Errorf("interlaced 8000x5000 PNG: %d bytes, want about 310 KB", n)
	}
	// The truncated PNG's data is a real zlib stream that stops early:
	// image/png fails on it, not on its header.
	if _, err := png.Decode(bytes.NewReader(TruncatedPNG(64, 64, 120))); err == nil {
		t.Error("truncated PNG decoded")
	}
}

// Small versions of the complete files decode to what they claim: black
// (black, or transparent black) pixels.
func TestPayloadsDecode(t *testing.T) {
	for _, il := range []bool{false, true} {
		img, err := png.Decode(bytes.NewReader(ZeroPNG(37, 21, il)))
		if err != nil {
			t.Fatalf("ZeroPNG interlace=%v: %v", il, err)
		}
		checkZero(t, "ZeroPNG", img, 37, 21)
	}
	for _, samples := range []int{1, 4} {
		img, err := tiff.Decode(bytes.NewReader(DeflateTIFF(37, 21, samples)))
		if err != nil {
			t.Fatalf("DeflateTIFF samples=%d: %v", samples, err)
		}
		checkZero(t, "DeflateTIFF", img, 37, 21)
	}
	if _, err := png.Decode(bytes.NewReader(PhotoPNG(64, 48))); err != nil {
		t.Fatalf("PhotoPNG: %v", err)
	}
}

func checkZero(t *testing.T, name string, img image.Image, w, h int) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: %v, want %dx%d", name, b, w, h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if r, g, b, a := img.At(x, y).RGBA(); r|g|b != 0 {
				t.Fatalf("%s: pixel (%d,%d) = %d %d %d %d, want black", name, x, y, r, g, b, a)
			}
		}
	}
}
