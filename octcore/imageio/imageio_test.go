package imageio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// testImage is a 6x4 image of eight saturated colours: channel values 0 or
// 255 only, so that palette and lossy formats keep them recognisable.
func testImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 6, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			img.Set(x, y, want(x, y))
		}
	}
	return img
}

func want(x, y int) color.RGBA {
	k := x + y // 0..8
	bit := func(b int) uint8 {
		if k>>b&1 == 1 {
			return 255
		}
		return 0
	}
	return color.RGBA{bit(0), bit(1), bit(2), 255}
}

// bitWriter packs bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf  []byte
	nbit uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if w.nbit%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		w.buf[len(w.buf)-1] |= byte(v>>i&1) << (w.nbit % 8)
		w.nbit++
	}
}

// losslessWebP encodes img (every channel 0 or 255, opaque) as a lossless
// WebP, written here by hand because golang.org/x/image has no WebP encoder.
// The VP8L bitstream (RFC 9649) has no transforms, no colour cache and one
// prefix-code group. Green, red and blue each use a "simple" prefix code of
// two symbols, 0 and 255, one bit each (0 -> bit 0, 255 -> bit 1); alpha is
// the one symbol 255 and the distance code the one symbol 0, zero bits each.
// Every pixel is then three bits: green, red, blue.
func losslessWebP(img *image.RGBA) []byte {
	b := img.Bounds()
	w := &bitWriter{}
	w.buf = append(w.buf, 0x2f) // VP8L signature
	w.nbit = 8
	w.write(uint32(b.Dx()-1), 14)
	w.write(uint32(b.Dy()-1), 14)
	w.write(0, 1) // alpha_is_used: no
	w.write(0, 3) // version 0
	w.write(0, 1) // no transform
	w.write(0, 1) // no colour cache
	w.write(0, 1) // no meta prefix codes
	twoSymbols := func() {
		w.write(1, 1) // simple code
		w.write(1, 1) // two symbols
		w.write(0, 1) // first symbol in 1 bit
		w.write(0, 1) // symbol 0
		w.write(255, 8)
	}
	oneSymbol := func(s uint32) {
		w.write(1, 1) // simple code
		w.write(0, 1) // one symbol
		w.write(1, 1) // in 8 bits
		w.write(s, 8)
	}
	twoSymbols()   // green
	twoSymbols()   // red
	twoSymbols()   // blue
	oneSymbol(255) // alpha
	oneSymbol(0)   // distance
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.RGBAAt(x, y)
			w.write(uint32(c.G)&1, 1)
			w.write(uint32(c.R)&1, 1)
			w.write(uint32(c.B)&1, 1)
		}
	}
	chunk := w.buf
	var out bytes.Buffer
	out.WriteString("RIFF")
	size := 4 + 8 + len(chunk) + len(chunk)%2
	binary.Write(&out, binary.LittleEndian, uint32(size))
	out.WriteString("WEBPVP8L")
	binary.Write(&out, binary.LittleEndian, uint32(len(chunk)))
	out.Write(chunk)
	if len(chunk)%2 == 1 {
		out.WriteByte(0)
	}
	return out.Bytes()
}

// TestDecodeFormats encodes the test image in every format and checks the
// decoded pixels: exactly for the lossless formats, the luma plane within 3
// for JPEG (whose 2x2 chroma subsampling blurs colour edges).
func TestDecodeFormats(t *testing.T) {
	src := testImage()
	enc := map[string]func() ([]byte, error){
		"png": func() ([]byte, error) { var b bytes.Buffer; err := png.Encode(&b, src); return b.Bytes(), err },
		"jpeg": func() ([]byte, error) {
			var b bytes.Buffer
			err := jpeg.Encode(&b, src, &jpeg.Options{Quality: 100})
			return b.Bytes(), err
		},
		"gif": func() ([]byte, error) {
			// A paletted image holding exactly the eight colours.
			var pal color.Palette
			for k := 0; k < 8; k++ {
				pal = append(pal, want(k, 0))
			}
			p := image.NewPaletted(src.Bounds(), pal)
			draw.Draw(p, p.Bounds(), src, image.Point{}, draw.Src)
			var b bytes.Buffer
			err := gif.Encode(&b, p, nil)
			return b.Bytes(), err
		},
		"bmp":  func() ([]byte, error) { var b bytes.Buffer; err := bmp.Encode(&b, src); return b.Bytes(), err },
		"tiff": func() ([]byte, error) { var b bytes.Buffer; err := tiff.Encode(&b, src, nil); return b.Bytes(), err },
		"webp": func() ([]byte, error) { return losslessWebP(src), nil },
	}
	for name, e := range enc {
		t.Run(name, func(t *testing.T) {
			data, err := e()
			if err != nil {
				t.Fatal(err)
			}
			img, format, err := Decode(data)
			if !strings.Contains(strings.ToLower(formats), name) {
				t.Skipf("built with octave_stdformats: %s is not among %s", name, formats)
			}
			if err != nil {
				t.Fatal(err)
			}
			if format != name {
				t.Errorf("format %q, want %q", format, name)
			}
			if b := img.Bounds(); b.Dx() != 6 || b.Dy() != 4 {
				t.Fatalf("size %v", b)
			}
			tol := 0
			for y := 0; y < 4; y++ {
				for x := 0; x < 6; x++ {
					r, g, b, _ := img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y).RGBA()
					w := want(x, y)
					if name == "jpeg" {
						// Chroma is subsampled 2x2, so RGB edges blur; the
						// luma plane is kept at full resolution.
						yc, ok := img.(*image.YCbCr)
						if !ok {
							t.Fatalf("jpeg decoded to %T", img)
						}
						ref, _, _ := color.RGBToYCbCr(w.R, w.G, w.B)
						got := yc.Y[yc.YOffset(x, y)]
						if d := int(got) - int(ref); d > 3 || d < -3 {
							t.Fatalf("pixel (%d, %d): luma %v, want %v", x, y, got, ref)
						}
						continue
					}
					for i, p := range [][2]int{{int(r >> 8), int(w.R)}, {int(g >> 8), int(w.G)}, {int(b >> 8), int(w.B)}} {
						if d := p[0] - p[1]; d > tol || -d > tol {
							t.Fatalf("pixel (%d, %d) channel %d = %d, want %d", x, y, i, p[0], p[1])
						}
					}
				}
			}
		})
	}
}

// pngHeader returns a PNG whose IHDR claims w x h pixels (the pixel data is
// that of a 1x1 image: DecodeConfig must refuse before reading it).
func pngHeader(w, h int) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	data := b.Bytes()
	// Signature (8), IHDR length (4), "IHDR" (4), width, height, ...
	binary.BigEndian.PutUint32(data[16:], uint32(w))
	binary.BigEndian.PutUint32(data[20:], uint32(h))
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

func TestDecodeLimits(t *testing.T) {
	cases := []struct {
		data []byte
		want string
	}{
		{pngHeader(9000, 10), "at most 8192 pixels a side"},
		{pngHeader(10, 8193), "at most 8192 pixels a side"},
		{pngHeader(7000, 7000), "49.0 megapixels, at most 40"},
		{[]byte("GIF89a\x00"), "gif"},
		{[]byte("not an image at all"), "unknown image format"},
		{nil, "unknown image format"},
	}
	for _, c := range cases {
		_, _, err := Decode(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%.20q): error %v, want one mentioning %q", c.data, err, c.want)
		}
	}
	if _, _, err := Decode(pngHeader(8192, 4096)); err == nil || strings.Contains(err.Error(), "too large") {
		t.Errorf("an 8192x4096 header is within the limits; the error should be about the pixel data, got %v", err)
	}
}

// TestTensorGray checks luma and normalization against the BT.601 formula.
func TestTensorGray(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	cols := []color.NRGBA{{200, 100, 50, 255}, {0, 0, 0, 255}, {255, 255, 255, 255}, {10, 20, 30, 255}, {0, 255, 0, 255}, {90, 80, 70, 255}}
	for i, c := range cols {
		img.SetNRGBA(i%3, i/3, c)
	}
	x, err := Tensor(img, 1, 0, 0, []float32{0.5}, []float32{0.25})
	if err != nil {
		t.Fatal(err)
	}
	if x.C != 1 || x.H != 2 || x.W != 3 {
		t.Fatalf("shape %v", x.Shape())
	}
	for i, c := range cols {
		y := (0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)) / 255
		if d := math.Abs(float64(x.Data[i]) - (y-0.5)/0.25); d > 1e-4 {
			t.Errorf("pixel %d: %v, want %v", i, x.Data[i], (y-0.5)/0.25)
		}
	}
}

// TestTensorRGB checks channel order, the RGBA fast path and a sub-image
// whose bounds do not start at the origin.
func TestTensorRGB(t *testing.T) {
	big := image.NewRGBA(image.Rect(0, 0, 5, 5))
	for y := 0; y < 5; y++ {
		for x := 0; x < 5; x++ {
			big.SetRGBA(x, y, color.RGBA{uint8(10 * x), uint8(20 * y), 255, 255})
		}
	}
	sub := big.SubImage(image.Rect(2, 1, 4, 4)) // 2 wide, 3 high
	mean := []float32{0.1, 0.2, 0.3}
	std := []float32{0.5, 1, 2}
	x, err := Tensor(sub, 3, 3, 2, mean, std)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 3; y++ {
		for xx := 0; xx < 2; xx++ {
			ref := []float64{float64(10 * (xx + 2)), float64(20 * (y + 1)), 255}
			for c := 0; c < 3; c++ {
				w := (ref[c]/255 - float64(mean[c])) / float64(std[c])
				if d := math.Abs(float64(x.At(c, y, xx)) - w); d > 1e-5 {
					t.Errorf("(%d, %d, %d) = %v, want %v", c, y, xx, x.At(c, y, xx), w)
				}
			}
		}
	}
	if _, err := Tensor(sub, 4, 0, 0, nil, nil); err == nil {
		t.Error("4 channels accepted")
	}
	if _, err := Tensor(sub, 1, 0, 0, nil, []float32{0}); err == nil {
		t.Error("std 0 accepted")
	}
}

// TestResize checks sizes and that resizing keeps what it should: a uniform
// image stays uniform both ways; a left-dark right-bright image stays so.
func TestResize(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for y := 0; y < 8; y++ {
		for x := 4; x < 8; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	small, err := Tensor(img, 1, 4, 4, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 4; y++ {
		if l, r := small.At(0, y, 0), small.At(0, y, 3); l > 0.05 || r < 0.95 {
			t.Errorf("row %d: left %v, right %v", y, l, r)
		}
	}
	for _, sz := range []int{3, 40} {
		up := Resize(&image.Gray{Pix: bytes.Repeat([]byte{77}, 100), Stride: 10, Rect: image.Rect(0, 0, 10, 10)}, sz, sz)
		for i := 0; i < len(up.Pix); i += 4 {
			if up.Pix[i] != 77 || up.Pix[i+3] != 255 {
				t.Fatalf("%dx%d: uniform 77 became %v", sz, sz, up.Pix[i:i+4])
			}
		}
	}
	for _, c := range []struct{ w, h, n, ww, wh int }{{300, 150, 100, 100, 50}, {150, 300, 100, 50, 100}, {1000, 1, 100, 100, 1}, {3, 2, 9, 9, 6}} {
		got := FitLonger(image.NewGray(image.Rect(0, 0, c.w, c.h)), c.n).Bounds()
		if got.Dx() != c.ww || got.Dy() != c.wh {
			t.Errorf("FitLonger(%dx%d, %d) = %dx%d, want %dx%d", c.w, c.h, c.n, got.Dx(), got.Dy(), c.ww, c.wh)
		}
	}
}

// ExampleFitLonger scales a 640x480 photo so that its longer side is 224.
func ExampleFitLonger() {
	photo := image.NewRGBA(image.Rect(0, 0, 640, 480))
	fmt.Println(FitLonger(photo, 224).Bounds().Size())
	// Output: (224,168)
}

// ExampleTensor turns a 4x1 grey ramp into a one-channel input normalized
// with mean 0.5 and std 0.5, so black maps to -1 and white to 1.
func ExampleTensor() {
	ramp := image.NewGray(image.Rect(0, 0, 4, 1))
	for x, v := range []uint8{0, 85, 170, 255} {
		ramp.SetGray(x, 0, color.Gray{Y: v})
	}
	x, err := Tensor(ramp, 1, 0, 0, []float32{0.5}, []float32{0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Shape())
	fmt.Printf("%.3f\n", x.Data)
	// Output:
	// [1 1 4]
	// [-1.000 -0.333 0.333 1.000]
}
