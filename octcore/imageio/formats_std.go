//go:build octave_stdformats

package imageio

// formats lists the decoders registered, for error messages.
const formats = "PNG, JPEG, GIF"
