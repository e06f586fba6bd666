package imageio

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
)

// MaxDecodedBytes bounds the memory that decoding one image may take: 128 MiB,
// counted by [DecodeCost] from the header before any pixel is decoded. It
// admits, for example, a 33-megapixel 8-bit RGBA PNG, a 40-megapixel
// baseline JPEG or an 8-bit gray PNG at the 40-megapixel limit, but no
// 16-bit RGBA image over 16 megapixels.
const MaxDecodedBytes = 128 << 20

// ErrTooLarge is wrapped by every error that refuses an image for its size:
// its sides, its pixel count or the bytes decoding it needs. A server
// answers those with 413 rather than 400.
var ErrTooLarge = errors.New("image too large")

// tooLarge is an error that refuses an image for its size.
type tooLarge struct{ msg string }

func (e *tooLarge) Error() string { return e.msg }
func (e *tooLarge) Unwrap() error { return ErrTooLarge }

// DecodeCost returns the bytes that [Decode] allocates at its peak for data,
// estimated from the image's header alone: the decoded image in the form
// the decoder produces (its bytes per pixel follow the bit depth, the colour
// type and the alpha of the file) plus the decoder's working buffers (an
// interlaced PNG's passes, a progressive JPEG's coefficients, a TIFF strip,
// a lossless WebP's transforms). It returns the errors of [DecodeConfig] but
// not the one for exceeding [MaxDecodedBytes], so that a caller with its own
// budget can weigh an image before decoding it.
func DecodeCost(data []byte) (int64, error) {
	_, _, cost, err := inspect(data)
	return cost, err
}

// inspect reads the header of data: its configuration, format and decoding
// cost, checked against MaxSide and MaxPixels.
func inspect(data []byte) (image.Config, string, int64, error) {
	cfg, format, err := decodeConfig(data)
	if err != nil {
		return cfg, format, 0, err
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	cost := int64(float64(px)*bytesPerPixel(data, format, cfg.ColorModel)) + decoderState
	if format == "png" {
		// The current and previous row of the image or of each pass, at
		// most 8 bytes a pixel.
		cost += 16 * 8 * int64(cfg.Width)
	}
	return cfg, format, cost, nil
}

// decoderState is what a decoder allocates whatever the image's size: an
// inflater's window and tables, Huffman tables, row buffers of small images.
const decoderState = 64 << 10

// bytesPerPixel returns the peak bytes per pixel that decoding data takes.
// Each figure follows what the decoder allocates (image/png, image/jpeg,
// image/gif, golang.org/x/image/{webp,vp8l,bmp,tiff}); where the header does
// not say enough, the larger case is taken.
func bytesPerPixel(data []byte, format string, cm color.Model) float64 {
	out := float64(modelBytes(cm))
	switch format {
	case "png":
		interlaced, trns := pngInfo(data)
		if trns && (cm == color.GrayModel || cm == color.Gray16Model) {
			// Gray with a transparent value decodes to NRGBA(64).
			out *= 4
		}
		if interlaced {
			// Each of the seven passes is decoded into an image of its own
			// and merged into the full one: together another full image.
			out *= 2
		}
		return out
	case "jpeg":
		return jpegBytes(data)
	case "gif":
		// The first frame as *image.Paletted (at most the logical screen).
		return 1
	case "webp":
		switch cm {
		case color.YCbCrModel: // lossy: 4:2:0 planes and per-macroblock state
			return 2
		case color.NYCbCrAModel: // lossy with alpha, itself possibly a lossless image
			return 8
		}
		// Lossless: the pixels, and a colour-indexing transform builds a
		// second buffer of the full size.
		return 8
	case "tiff":
		// The image, and one strip or tile read or decompressed whole (a
		// strip may be the whole image) into a buffer grown by doubling:
		// its bytes up to four times over. Without parsing the directory
		// the compression is unknown; the compressed case is taken.
		return 5 * out
	}
	return out
}

// modelBytes returns the bytes per pixel of the image type that decoders
// return for colour model cm.
func modelBytes(cm color.Model) int {
	switch cm {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := cm.(color.Palette); ok {
		return 1
	}
	return 8
}

// pngInfo reads a PNG's interlace method from IHDR and whether a tRNS chunk
// comes before the image data.
func pngInfo(data []byte) (interlaced, trns bool) {
	// Signature (8), then chunks: length (4), type (4), data, CRC (4). IHDR
	// is first; its 13 bytes end with the interlace method.
	if len(data) < 33 {
		return false, false
	}
	interlaced = data[28] != 0
	for at := 8; at+8 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[at:]))
		switch string(data[at+4 : at+8]) {
		case "tRNS":
			return interlaced, true
		case "IDAT", "IEND":
			return interlaced, false
		}
		next := int64(at) + 12 + n
		if next > int64(len(data)) {
			break
		}
		at = int(next)
	}
	return interlaced, false
}

// jpegBytes returns the peak bytes per pixel of decoding a JPEG: its
// component planes at their sampling (YCbCr 4:2:0 is 1.5), a progressive
// file's coefficients (an int32 per sample of every plane, kept until the
// end), and for four components the CMYK image that the planes convert to.
func jpegBytes(data []byte) float64 {
	const worst = 3*(1+4) + 4 // three full planes, progressive, and a conversion
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return worst
	}
	for at := 2; at+4 <= len(data); {
		if data[at] != 0xff {
			return worst
		}
		m := data[at+1]
		if m == 0xff { // fill byte
			at++
			continue
		}
		if m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7) {
			at += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[at+2:]))
		sof := m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
		if !sof {
			at += 2 + n
			continue
		}
		// SOFn: length, precision, height, width, components, then
		// (id, sampling h<<4|v, table) per component.
		seg := data[at+4 : min(len(data), at+2+n)]
		if len(seg) < 6 {
			return worst
		}
		nc := int(seg[5])
		if nc < 1 || len(seg) < 6+3*nc {
			return worst
		}
		hmax, vmax := 1, 1
		for i := 0; i < nc; i++ {
			s := seg[6+3*i+1]
			hmax, vmax = max(hmax, int(s>>4)), max(vmax, int(s&15))
		}
		planes := 0.0
		for i := 0; i < nc; i++ {
			s := seg[6+3*i+1]
			planes += float64(max(1, int(s>>4))*max(1, int(s&15))) / float64(hmax*vmax)
		}
		b := planes
		if m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce { // progressive
			b += 4 * planes
		}
		if nc == 4 {
			b += 4
		}
		// Planes are allocated in whole 8x8 blocks of the largest sampling:
		// up to (8*hmax-1) columns and rows of padding, a few percent.
		return b * 1.1
	}
	return worst
}
