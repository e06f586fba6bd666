//go:build !octave_stdformats

package imageio

import (
	_ "golang.org/x/image/bmp" // register BMP
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// formats lists the decoders registered, for error messages.
const formats = "PNG, JPEG, GIF, WebP, BMP, TIFF"
