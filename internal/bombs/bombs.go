// Package bombs builds the hostile images of issue 18 byte by byte, where no
// encoder would write them: headers that claim far more pixels than the data
// holds, and complete files that compress a thousand to one. cmd/hostilerss
// and the Worker's tests send them.
package bombs

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/octave-project/octave/internal/pngtest"
)

// PNGHeader returns a PNG signature and IHDR for a w x h image of the given
// bit depth, colour type (6 is RGBA) and interlace method.
func PNGHeader(w, h int, depth, colorType, interlace byte) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9], ihdr[12] = depth, colorType, interlace
	return append([]byte(pngtest.Signature), pngtest.Chunk("IHDR", ihdr)...)
}

// TruncatedPNG returns a PNG of exactly size bytes whose header claims a
// w x h RGBA image of 16 bits a channel and whose one IDAT chunk holds the
// start of a real zlib stream of its (all zero) rows, cut off: the issue's
// 207-byte bomb for 8192x4882. A decoder that trusts the header allocates
// the whole image (305 MiB) before it finds the data missing.
func TruncatedPNG(w, h, size int) []byte {
	head := PNGHeader(w, h, 16, 6, 0)
	n := size - len(head) - 12 // IDAT's length, type and CRC
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+8*w) // filter byte and the pixels
	for z.Len() < n {
		zw.Write(row)
		zw.Flush()
	}
	return append(head, pngtest.Chunk("IDAT", z.Bytes()[:n])...)
}

// ZeroPNG returns a complete, valid PNG of a w x h all-zero (transparent
// black) RGBA image of 16 bits a channel, interlaced (Adam7) when interlace
// is set: it compresses about a thousand to one, so a 300 KB file holds
// 300 MB of pixels.
func ZeroPNG(w, h int, interlace bool) []byte {
	var il byte
	if interlace {
		il = 1
	}
	out := PNGHeader(w, h, 16, 6, il)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	for _, p := range passes(w, h, interlace) {
		row := make([]byte, 1+8*p.X)
		for y := 0; y < p.Y; y++ {
			zw.Write(row)
		}
	}
	zw.Close()
	// Split IDAT at 1 MiB, as encoders do.
	for b := z.Bytes(); len(b) > 0; {
		k := min(len(b), 1<<20)
		out = append(out, pngtest.Chunk("IDAT", b[:k])...)
		b = b[k:]
	}
	return append(out, pngtest.Chunk("IEND", nil)...)
}

// passes returns the width and height of each non-empty pass of a w x h
// image: the seven Adam7 passes when interlaced, else the image itself.
func passes(w, h int, interlace bool) []image.Point {
	if !interlace {
		return []image.Point{{w, h}}
	}
	// Adam7: x offset, y offset, x step, y step.
	adam7 := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	var ps []image.Point
	for _, a := range adam7 {
		pw := (w - a[0] + a[2] - 1) / a[2]
		ph := (h - a[1] + a[3] - 1) / a[3]
		if pw > 0 && ph > 0 {
			ps = append(ps, image.Point{pw, ph})
		}
	}
	return ps
}

// VP8LWebP returns the 32-byte lossless WebP: a RIFF header, a VP8L
// chunk whose 5-byte header claims a w x h image with alpha, and a few
// bytes of data, far too few for the image.
func VP8LWebP(w, h int) []byte {
	var hdr [5]byte
	hdr[0] = 0x2f // VP8L signature
	// 14 bits width-1, 14 bits height-1, 1 bit alpha, 3 bits version 0.
	bits := uint32(w-1) | uint32(h-1)<<14 | 1<<28
	binary.LittleEndian.PutUint32(hdr[1:], bits)
	data := append(hdr[:], 0, 0, 0, 0, 0, 0, 0) // 12 bytes: even, as RIFF wants
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+len(data)))
	b.WriteString("WEBPVP8L")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// DeflateTIFF returns a little-endian TIFF of a w x h all-zero image,
// 8-bit gray (samples 1) or 16-bit RGBA (samples 4), in one
// Deflate-compressed strip: a few tens of kilobytes that inflate to the
// whole image.
func DeflateTIFF(w, h, samples int) []byte {
	bps := 8
	if samples == 4 {
		bps = 16
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, w*samples*bps/8)
	for y := 0; y < h; y++ {
		zw.Write(row)
	}
	zw.Close()

	type entry struct {
		tag, typ uint16
		vals     []uint32 // SHORT values when typ is 3, LONG when 4
	}
	const short, long = 3, 4
	photometric, bpsVals := uint32(1), []uint32{uint32(bps)} // BlackIsZero
	var extra []entry
	if samples == 4 {
		photometric = 2 // RGB
		bpsVals = []uint32{16, 16, 16, 16}
		extra = []entry{{338, short, []uint32{2}}} // ExtraSamples: unassociated alpha
	}
	// The strip follows the 8-byte header; the directory follows the strip.
	stripAt := uint32(8)
	entries := []entry{
		{256, long, []uint32{uint32(w)}},
		{257, long, []uint32{uint32(h)}},
		{258, short, bpsVals},
		{259, short, []uint32{8}}, // Deflate
		{262, short, []uint32{photometric}},
		{273, long, []uint32{stripAt}},
		{277, short, []uint32{uint32(samples)}},
		{278, long, []uint32{uint32(h)}},
		{279, long, []uint32{uint32(z.Len())}},
	}
	entries = append(entries, extra...)
	ifdAt := stripAt + uint32(z.Len())
	ifdAt += ifdAt & 1 // word aligned
	// Values that do not fit in 4 bytes go after the directory.
	valuesAt := ifdAt + 2 + 12*uint32(len(entries)) + 4
	var ifd, values bytes.Buffer
	binary.Write(&ifd, binary.LittleEndian, uint16(len(entries)))
	for _, e := range entries {
		size := 2
		if e.typ == long {
			size = 4
		}
		var v bytes.Buffer
		for _, x := range e.vals {
			if size == 2 {
				binary.Write(&v, binary.LittleEndian, uint16(x))
			} else {
				binary.Write(&v, binary.LittleEndian, x)
			}
		}
		binary.Write(&ifd, binary.LittleEndian, e.tag)
		binary.Write(&ifd, binary.LittleEndian, e.typ)
		binary.Write(&ifd, binary.LittleEndian, uint32(len(e.vals)))
		if v.Len() <= 4 {
			pad := 4 - v.Len()
			io.Copy(&ifd, &v)
			ifd.Write(make([]byte, pad))
		} else {
			binary.Write(&ifd, binary.LittleEndian, valuesAt+uint32(values.Len()))
			values.Write(v.Bytes())
		}
	}
	binary.Write(&ifd, binary.LittleEndian, uint32(0)) // no next directory

	var b bytes.Buffer
	b.WriteString("II")
	binary.Write(&b, binary.LittleEndian, uint16(42))
	binary.Write(&b, binary.LittleEndian, ifdAt)
	b.Write(z.Bytes())
	for uint32(b.Len()) < ifdAt {
		b.WriteByte(0)
	}
	b.Write(ifd.Bytes())
	b.Write(values.Bytes())
	return b.Bytes()
}

// PhotoPNG returns an ordinary w x h RGB photo-like PNG (smooth gradients
// and some texture) of the kind a client sends to be classified.
func PhotoPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 28)
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8((x+y)*127/(w+h)) + n, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// GrayTruncatedPNG returns a 200-byte PNG claiming a w x h 8-bit gray image
// whose data stops after a few rows: admitted by a decode budget (one byte a
// pixel), decoded until the data runs out, answered 400.
func GrayTruncatedPNG(w, h int) []byte {
	b := TruncatedPNG(w, h, 200)
	// The same IDAT (zeros, valid for any row width) after a gray IHDR.
	hdr := PNGHeader(w, h, 8, 0, 0)
	return append(hdr, b[len(hdr):]...)
}
