// Package pngtest writes PNG files chunk by chunk for tests that need files
// image/png would never write: headers that claim more than the data holds,
// unusual bit depths, interlacing, extra chunks.
package pngtest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Signature is the eight bytes every PNG file starts with.
const Signature = "\x89PNG\r\n\x1a\n"

// Chunk returns one PNG chunk: length, type, data and CRC.
func Chunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}
