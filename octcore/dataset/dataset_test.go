package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeIDX writes an IDX file of bytes, gzip-compressed when gz.
func writeIDX(t *testing.T, path string, dims []int, data []byte, gz bool) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	out := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(out)
		w.Close()
		out = z.Bytes()
		path += ".gz"
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirSynthetic(t *testing.T) {
	dir := t.TempDir()
	px := make([]byte, 3*2*2)
	for i := range px {
		px[i] = byte(i * 10)
	}
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), []int{3, 2, 2}, px, true)
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), []int{3}, []byte{7, 0, 9}, false)
	s, err := LoadDir(dir, "fashion-mnist", "test")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 || s.Rows != 2 || s.Cols != 2 || s.Labels[2] != 9 || s.Image(1)[3] != 70 {
		t.Fatalf("got %d images %dx%d labels %v image1 %v", s.Len(), s.Rows, s.Cols, s.Labels, s.Image(1))
	}
	if s.ClassNames[9] != "Ankle boot" {
		t.Fatalf("class names %v", s.ClassNames)
	}
	sub := s.Subset([]int{2, 0})
	if sub.Len() != 2 || sub.Labels[0] != 9 || sub.Image(0)[0] != 80 {
		t.Fatalf("subset %v %v", sub.Labels, sub.Pixels)
	}
}

func TestParseIDXErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"short":     {0, 0, 8},
		"magic":     {0, 0, 9, 1, 0, 0, 0, 1, 5},
		"too many":  {0, 0, 8, 1, 0, 0, 0, 9, 5},
		"too large": {0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff, 5},
	} {
		if _, err := parseIDX(b, 1, name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Load("cifar", "train"); err == nil {
		t.Error("unknown set: no error")
	}
	if _, err := LoadDir(t.TempDir(), "mnist", "val"); err == nil {
		t.Error("unknown split: no error")
	}
}

// TestLoadReal reads the real sets where they are installed: the counts and
// the first labels of the original distributions.
func TestLoadReal(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("no go command or data files under js/wasm")
	}
	for _, c := range []struct {
		name, split string
		n           int
		first       []uint8
	}{
		{"mnist", "test", 10000, []uint8{7, 2, 1, 0, 4}},
		{"mnist", "train", 60000, []uint8{5, 0, 4, 1, 9}},
		{"fashion-mnist", "test", 10000, []uint8{9, 2, 1, 1, 6}},
		{"fashion-mnist", "train", 60000, []uint8{9, 0, 0, 3, 0}},
	} {
		if c.name == "fashion-mnist" {
			if _, err := Dir(c.name); err != nil {
				t.Logf("skipping %s: %v", c.name, err)
				continue
			}
		}
		s, err := Load(c.name, c.split)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != c.n || s.Rows != 28 || s.Cols != 28 || !bytes.Equal(s.Labels[:5], c.first) {
			t.Errorf("%s %s: %d images %dx%d, first labels %v, want %d 28x28 %v", c.name, c.split, s.Len(), s.Rows, s.Cols, s.Labels[:5], c.n, c.first)
		}
	}
}
