// Package imageio turns images into network inputs, the one definition of
// that path for every interface (the command line, the HTTP server and,
// through the wasm bindings, the JavaScript library and the demo page): it
// decodes PNG, JPEG and GIF (standard library) and WebP, BMP and TIFF
// (golang.org/x/image; not in the browser build, see below) after checking
// their dimensions, resizes and crops as the model's input metadata says
// ([Input], [PlanFor]), with golang.org/x/image/draw, converts to the
// model's channel count and normalizes per channel.
//
// Pixel values are taken in [0, 1]. Transparent pixels are composited over
// black (the premultiplied colour is used as is). One channel is the luma
// Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as image/color's Gray model).
//
// Built with the tag octave_stdformats (as cmd/buildwasm builds the browser
// library, whose runtime decodes images itself), only the standard library's
// decoders are registered: PNG, JPEG and GIF.
package imageio

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // register GIF
	_ "image/jpeg"
	_ "image/png"

	"golang.org/x/image/draw"

	"github.com/octave-project/octave/octcore"
)

// Limits on the images that [Decode] accepts, checked from the header before
// any pixel is decoded.
const (
	MaxSide   = 8192       // pixels on either side
	MaxPixels = 40_000_000 // width x height
)

// DecodeConfig returns the dimensions and format name of an encoded image
// without decoding its pixels, and an error if the format is unknown or the
// image is larger than [MaxSide] or [MaxPixels], or decoding it would take
// more than [MaxDecodedBytes] (see [DecodeCost]). Size errors wrap
// [ErrTooLarge].
func DecodeConfig(data []byte) (image.Config, string, error) {
	cfg, format, cost, err := inspect(data)
	if err == nil && cost > MaxDecodedBytes {
		err = &tooLarge{fmt.Sprintf("imageio: %s image of %dx%d pixels is too large: decoding it takes %.1f MiB, at most %d MiB",
			format, cfg.Width, cfg.Height, float64(cost)/(1<<20), MaxDecodedBytes>>20)}
	}
	return cfg, format, err
}

// decodeConfig reads the header and checks the sides and the pixel count.
func decodeConfig(data []byte) (image.Config, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if err == image.ErrFormat {
			return cfg, "", fmt.Errorf("imageio: unknown image format (supported: %s)", formats)
		}
		return cfg, format, fmt.Errorf("imageio: reading the %s header: %v", orUnknown(format), err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, format, fmt.Errorf("imageio: %s image of %dx%d pixels is empty", format, cfg.Width, cfg.Height)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide {
		return cfg, format, &tooLarge{fmt.Sprintf("imageio: %s image of %dx%d pixels is too large: at most %d pixels a side",
			format, cfg.Width, cfg.Height, MaxSide)}
	}
	if cfg.Width*cfg.Height > MaxPixels {
		return cfg, format, &tooLarge{fmt.Sprintf("imageio: %s image of %dx%d pixels is too large: %.1f megapixels, at most %d",
			format, cfg.Width, cfg.Height, float64(cfg.Width*cfg.Height)/1e6, MaxPixels/1_000_000)}
	}
	return cfg, format, nil
}

func orUnknown(f string) string {
	if f == "" {
		return "image"
	}
	return f
}

// Decode checks an encoded image with [DecodeConfig] and decodes it. It
// returns the image and its format name ("png", "jpeg", "gif", "webp", "bmp",
// "tiff"). Animated GIFs give their first frame.
func Decode(data []byte) (image.Image, string, error) {
	cfg, format, err := DecodeConfig(data)
	if err != nil {
		return nil, format, err
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("imageio: decoding the %s image: %v", orUnknown(format), err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, format, fmt.Errorf("imageio: %s header says %dx%d, the pixels are %dx%d", format, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return img, format, nil
}

// Resize returns img scaled to w x h: Catmull-Rom when it shrinks along
// either axis (it filters what it drops), approximate bilinear otherwise.
func Resize(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	b := img.Bounds()
	var s draw.Scaler = draw.ApproxBiLinear
	if w < b.Dx() || h < b.Dy() {
		s = draw.CatmullRom
	}
	s.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// FitLonger returns img scaled, keeping its aspect ratio, so that its longer
// side is n pixels (the shorter side is rounded, at least 1).
func FitLonger(img image.Image, n int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w >= h {
		return Resize(img, n, max(1, (h*n+w/2)/w))
	}
	return Resize(img, max(1, (w*n+h/2)/h), n)
}

// Tensor converts img to a normalized network input of channels x height x
// width: resized with [Resize] when its size differs (height = width = 0
// keeps the image's size), reduced to luma for one channel or kept as RGB for
// three, then mapped to (v - mean[c]) / std[c] with v in [0, 1]. Nil mean and
// std mean 0 and 1.
func Tensor(img image.Image, channels, height, width int, mean, std []float32) (*octcore.Tensor, error) {
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("imageio: a model input of %d channels: images give 1 (gray) or 3 (RGB)", channels)
	}
	if mean == nil {
		mean = make([]float32, channels)
	}
	if std == nil {
		std = make([]float32, channels)
		for i := range std {
			std[i] = 1
		}
	}
	if len(mean) != channels || len(std) != channels {
		return nil, fmt.Errorf("imageio: %d mean and %d std values for %d channels", len(mean), len(std), channels)
	}
	for c, s := range std {
		if !(s > 0) {
			return nil, fmt.Errorf("imageio: std[%d] = %v must be positive", c, s)
		}
	}
	b := img.Bounds()
	if (height == 0) != (width == 0) || height < 0 || width < 0 {
		return nil, fmt.Errorf("imageio: model input size %dx%d", height, width)
	}
	if height == 0 {
		height, width = b.Dy(), b.Dx()
	}
	if height*width > octcore.MaxInputPixels {
		return nil, fmt.Errorf("imageio: input of %dx%d pixels is more than the %d the engine takes", width, height, octcore.MaxInputPixels)
	}
	if b.Dx() != width || b.Dy() != height {
		img = Resize(img, width, height)
		b = img.Bounds()
	}
	t := octcore.NewTensor(channels, height, width)
	hw := height * width
	set := func(i int, r, g, bl uint32) {
		if channels == 1 {
			// The weights of image/color's Gray model (19595 + 38470 + 7471 = 65536).
			y := float32(19595*r+38470*g+7471*bl) / (65536 * 0xffff)
			t.Data[i] = (y - mean[0]) / std[0]
			return
		}
		t.Data[i] = (float32(r)/0xffff - mean[0]) / std[0]
		t.Data[hw+i] = (float32(g)/0xffff - mean[1]) / std[1]
		t.Data[2*hw+i] = (float32(bl)/0xffff - mean[2]) / std[2]
	}
	// The common case, an *image.RGBA from Resize, is read directly.
	if rgba, ok := img.(*image.RGBA); ok {
		for y := 0; y < height; y++ {
			row := rgba.Pix[(y+b.Min.Y-rgba.Rect.Min.Y)*rgba.Stride+(b.Min.X-rgba.Rect.Min.X)*4:]
			for x := 0; x < width; x++ {
				p := row[4*x : 4*x+4]
				set(y*width+x, uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101)
			}
		}
		return t, nil
	}
	// Pixels from a browser (see [Pixels]) are premultiplied here as
	// color.NRGBA.RGBA does it.
	if n, ok := img.(*image.NRGBA); ok {
		for y := 0; y < height; y++ {
			row := n.Pix[(y+b.Min.Y-n.Rect.Min.Y)*n.Stride+(b.Min.X-n.Rect.Min.X)*4:]
			for x := 0; x < width; x++ {
				p := row[4*x : 4*x+4]
				a := uint32(p[3]) * 0x101
				set(y*width+x, uint32(p[0])*0x101*a/0xffff, uint32(p[1])*0x101*a/0xffff, uint32(p[2])*0x101*a/0xffff)
			}
		}
		return t, nil
	}
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			set(y*width+x, r, g, bl)
		}
	}
	return t, nil
}
