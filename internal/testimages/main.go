// Command testimages writes the inputs of the image-path test
// (web/test/page-imagepath.test.mjs): colour PNG and JPEG files of several
// sizes, odd and large ones included, and a small RGB model with random
// weights whose input metadata asks for a resize of the shorter side and a
// centre crop, as ImageNet models do.
//
//	go run ./internal/testimages -out DIR
//
// DIR receives NAME.png / NAME.jpg and rgb-crop.safetensors.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// Sizes of the PNG files; the JPEG files are the first three.
var sizes = [][2]int{{97, 61}, {300, 512}, {28, 28}, {1031, 777}, {5, 3}, {61, 97}}

func main() {
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: testimages -out DIR")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "testimages:", err)
		os.Exit(1)
	}
}

// picture is a deterministic colour picture with smooth gradients, edges and
// fine texture, so that resizing, colour conversion and cropping all matter.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 120*math.Sin(9*u+2*v)
			g := 128 + 120*math.Cos(5*v-3*u*v)
			b := float64((x*7 + y*13) % 256)
			if (x/9+y/7)%2 == 0 {
				r, b = b, r
			}
			if math.Hypot(u-0.4, v-0.6) < 0.2 {
				g = 255 - g
			}
			img.SetRGBA(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return img
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range sizes {
		img := picture(s[0], s[1])
		name := fmt.Sprintf("colour-%dx%d", s[0], s[1])
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), b.Bytes(), 0o644); err != nil {
			return err
		}
		if i < 3 {
			b.Reset()
			if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, name+".jpg"), b.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	conv := func(name string, in, out, stride int, ai, ao float64) octcore.Layer {
		kind := "octconv"
		if ai == 0 && ao == 0 {
			kind = "conv"
		}
		return octcore.Layer{Name: name, Kind: kind, In: in, Out: out, Kernel: 3, Stride: stride, Pad: 1,
			Groups: 1, AlphaIn: ai, AlphaOut: ao, BN: true, Act: "relu"}
	}
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 3},
		conv("stem", 3, 8, 1, 0, 0),
		conv("oct1", 8, 16, 2, 0, 0.5),
		conv("oct2", 16, 16, 1, 0.5, 0.5),
		conv("merge", 16, 24, 1, 0.5, 0),
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 24, Out: 5, Bias: true},
	}
	m := &weights.Model{Graph: g, Params: octcore.RandomParams(g, 7), Meta: weights.Metadata{
		Name: "small RGB octave net with a centre crop, random weights", Labels: []string{"a", "b", "c", "d", "e"},
		Input: weights.InputSpec{Channels: 3, Height: 32, Width: 32, Mean: []float32{0.485, 0.456, 0.406},
			Std: []float32{0.229, 0.224, 0.225}, ResizeShorter: 36, Crop: weights.CropCenter},
	}}
	var b bytes.Buffer
	if err := weights.Write(&b, m, weights.WriteOptions{DType: "float32"}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "rgb-crop.safetensors"), b.Bytes(), 0o644)
}
