package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{3}, {2, 3}, {1, 2, 3, 4}, {}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.5 - 1
		}
		var b bytes.Buffer
		if err := Write(&b, shape, data); err != nil {
			t.Fatal(err)
		}
		// numpy requires the data to start at a multiple of 64 (format 1.0 pads to 64).
		hlen := int(binary.LittleEndian.Uint16(b.Bytes()[8:10]))
		if (10+hlen)%64 != 0 || b.Bytes()[10+hlen-1] != '\n' {
			t.Errorf("shape %v: header of %d bytes does not end at a multiple of 64 with a newline", shape, hlen)
		}
		s, d, err := Read(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != len(shape) || len(d) != n {
			t.Fatalf("shape %v read back as %v (%d values)", shape, s, len(d))
		}
		for i := range d {
			if d[i] != data[i] {
				t.Fatalf("value %d: %v, want %v", i, d[i], data[i])
			}
		}
	}
}

// file assembles a .npy by hand: version, header, data.
func file(version byte, header string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write([]byte{version, 0})
	if version == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestReadFormats(t *testing.T) {
	f64 := make([]byte, 16)
	binary.LittleEndian.PutUint64(f64, math.Float64bits(2.5))
	binary.LittleEndian.PutUint64(f64[8:], math.Float64bits(-1))
	s, d, err := Read(bytes.NewReader(file(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", f64)))
	if err != nil || len(s) != 1 || s[0] != 2 || d[0] != 2.5 || d[1] != -1 {
		t.Errorf("version 2 float64: %v %v %v", s, d, err)
	}
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{[]byte("not npy at all"), "magic"},
		{file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), "dtype \"<i8\" not supported"},
		{file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", make([]byte, 16)), "Fortran"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", make([]byte, 12)), "needs 16 bytes"},
		{file(1, "{'descr': '<f4', 'fortran_order': False}", nil), "no shape"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 65536), }", nil), "too large"},
	} {
		_, _, err := Read(bytes.NewReader(c.b))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
