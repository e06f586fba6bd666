package octcore

import (
	"encoding/binary"
	"flag"
	"math"
	"os"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_mini.bin from this build")

// goldenOutputs runs the small Oct-ResNet (alpha .5, fixed random weights)
// on a fixed odd-sized input and returns every octave layer's maps and the
// logits, concatenated.
func goldenOutputs(t *testing.T) [][]float32 {
	g, err := Arch("oct-resnet-mini", ArchOptions{Alpha: .5})
	if err != nil {
		t.Fatal(err)
	}
	net, err := Build(g, RandomParams(g, 7))
	if err != nil {
		t.Fatal(err)
	}
	x := NewTensor(1, 29, 27)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)*0.37)) * 1.5
	}
	if _, err := net.Run(x); err != nil {
		t.Fatal(err)
	}
	var maps [][]float32
	for _, l := range g {
		f, _ := net.Output(l.Name)
		for _, p := range []*Tensor{f.H, f.L} {
			if p != nil {
				maps = append(maps, append([]float32(nil), p.Data...))
			}
		}
	}
	return maps
}

// The SIMD and scalar builds (and native and js/wasm) agree to 1e-5 of each
// map's scale with golden outputs written by the scalar build
// (go test -run TestGoldenAcrossBuilds ./octcore -args -update-golden).
func TestGoldenAcrossBuilds(t *testing.T) {
	maps := goldenOutputs(t)
	path := "testdata/golden_mini.bin"
	if *updateGolden {
		if SIMD {
			t.Fatal("write the golden file with the scalar build (no GOEXPERIMENT=simd)")
		}
		var buf []byte
		for _, m := range maps {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(len(m)))
			for _, v := range m {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
		}
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range maps {
		if len(buf) < 4 {
			t.Fatalf("golden file ends before map %d", i)
		}
		n := int(binary.LittleEndian.Uint32(buf))
		buf = buf[4:]
		if n != len(m) || len(buf) < 4*n {
			t.Fatalf("map %d: %d values, golden has %d", i, len(m), n)
		}
		want := make([]float32, n)
		scale := 1e-6
		for k := range want {
			want[k] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*k:]))
			scale = math.Max(scale, math.Abs(float64(want[k])))
		}
		buf = buf[4*n:]
		for k, v := range m {
			if d := math.Abs(float64(v) - float64(want[k])); d > 1e-5*scale {
				t.Fatalf("map %d value %d: %v, golden %v (diff %g > 1e-5 x %g; SIMD build: %v)", i, k, v, want[k], d, scale, SIMD)
			}
		}
	}
	if len(buf) != 0 {
		t.Fatalf("golden file has %d bytes more than the outputs", len(buf))
	}
}
