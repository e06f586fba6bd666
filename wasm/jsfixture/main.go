// Command jsfixture writes the fixtures of the JavaScript tests: small model
// files built from octcore's architectures with random weights, test images,
// and the outputs that native octcore computes for them, as JSON. The tests
// of web/octave.js compare what the wasm builds compute with these.
//
// Usage:
//
//	go run ./wasm/jsfixture -out DIR
//
// DIR receives mini.safetensors, rgb.safetensors and expected.json.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
	"github.com/octave-project/octave/octcore/weights"
)

// tensorJSON is a tensor as the JavaScript tests read it.
type tensorJSON struct {
	Channels int       `json:"channels"`
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Data     []float32 `json:"data"`
}

type mapJSON struct {
	Layer string      `json:"layer"`
	High  *tensorJSON `json:"high"`
	Low   *tensorJSON `json:"low"`
}

type modelJSON struct {
	File    string     `json:"file"`
	Labels  []string   `json:"labels"`
	Params  int64      `json:"params"`
	MACs    int64      `json:"macs"`
	Layers  int        `json:"layers"`
	Image   rgbaJSON   `json:"image"`
	Classes []float32  `json:"probabilities"` // of Image, through imageio.Tensor at the model's size
	Input   tensorJSON `json:"input"`         // an odd-sized normalized tensor
	Maps    []mapJSON  `json:"maps"`          // of Input
	Probs2  []float32  `json:"inputProbabilities"`
}

// rgbaJSON holds pixels as numbers (encoding/json would write []byte as base64).
type rgbaJSON struct {
	Width  int   `json:"width"`
	Height int   `json:"height"`
	Data   []int `json:"data"`
}

func main() {
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: jsfixture -out DIR")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "jsfixture:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mini, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
	if err != nil {
		return err
	}
	res := map[string]*modelJSON{}
	var labels []string
	for i := 0; i < 10; i++ {
		labels = append(labels, fmt.Sprintf("class %d", i))
	}
	res["mini"], err = fixture(dir, "mini", mini, weights.Metadata{
		Name: "oct-resnet-mini alpha 0.5, random weights", Labels: labels,
		Input:      weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.286}, Std: []float32{0.353}},
		Provenance: map[string]string{"dataset": "none (random weights for tests)"},
	}, 28, 28, 33, 45, "int8")
	if err != nil {
		return err
	}
	res["rgb"], err = fixture(dir, "rgb", rgbGraph(), weights.Metadata{
		Name: "small RGB octave net, random weights", Labels: []string{"a", "b", "c", "d", "e"},
		Input: weights.InputSpec{Channels: 3, Height: 20, Width: 24,
			Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}},
	}, 20, 24, 17, 23, "float32")
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "expected.json"), b, 0o644)
}

// rgbGraph is a small three-channel network whose octave layers use every
// path, strides 1 and 2, and odd sizes.
func rgbGraph() octcore.Graph {
	conv := func(name string, in, out, stride int, ai, ao float64) octcore.Layer {
		kind := "octconv"
		if ai == 0 && ao == 0 {
			kind = "conv"
		}
		return octcore.Layer{Name: name, Kind: kind, In: in, Out: out, Kernel: 3, Stride: stride, Pad: 1,
			Groups: 1, AlphaIn: ai, AlphaOut: ao, BN: true, Act: "relu"}
	}
	return octcore.Graph{
		{Name: "input", Kind: "input", Out: 3},
		conv("stem", 3, 8, 1, 0, 0),
		conv("oct1", 8, 16, 2, 0, 0.5),
		conv("oct2", 16, 16, 1, 0.5, 0.5),
		conv("merge", 16, 24, 1, 0.5, 0),
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 24, Out: 5},
	}
}

// fixture writes one model and computes its expected outputs natively.
func fixture(dir, name string, g octcore.Graph, meta weights.Metadata, h, w, mh, mw int, dtype string) (*modelJSON, error) {
	var buf bytes.Buffer
	err := weights.Write(&buf, &weights.Model{Graph: g, Params: octcore.RandomParams(g, 5), Meta: meta}, weights.WriteOptions{DType: dtype})
	if err != nil {
		return nil, err
	}
	file := name + ".safetensors"
	if err := os.WriteFile(filepath.Join(dir, file), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	// Read the file back, as the wasm build does: the same (dequantized) weights.
	m, err := weights.Load(buf.Bytes())
	if err != nil {
		return nil, err
	}
	net, err := m.Build()
	if err != nil {
		return nil, err
	}
	cost, err := net.Cost(h, w)
	if err != nil {
		return nil, err
	}
	mj := &modelJSON{File: file, Labels: meta.Labels, Params: cost.Params, MACs: cost.MACs, Layers: len(g)}

	// An image at the model's size, through the native CLI's image path.
	img := testImage(w, h)
	mj.Image = rgbaJSON{Width: w, Height: h}
	for _, p := range img.Pix {
		mj.Image.Data = append(mj.Image.Data, int(p))
	}
	in := meta.Input
	x, err := imageio.Input(img, in, imageio.Options{})
	if err != nil {
		return nil, err
	}
	if mj.Classes, err = probabilities(net, x); err != nil {
		return nil, err
	}

	// An odd-sized tensor: probabilities and every layer's output.
	t := octcore.NewTensor(in.Channels, mh, mw)
	for i := range t.Data {
		t.Data[i] = float32(math.Sin(float64(i)*0.37) + 0.5*math.Cos(float64(i)*0.011))
	}
	mj.Input = tensorJSON{t.C, t.H, t.W, t.Data}
	if mj.Probs2, err = probabilities(net, t); err != nil {
		return nil, err
	}
	for _, l := range g {
		f, err := net.Output(l.Name)
		if err != nil {
			return nil, err
		}
		mj.Maps = append(mj.Maps, mapJSON{Layer: l.Name, High: tj(f.H), Low: tj(f.L)})
	}
	return mj, nil
}

// probabilities runs net on x and applies a softmax to its output.
func probabilities(net *octcore.Net, x *octcore.Tensor) ([]float32, error) {
	out, err := net.Run(x)
	if err != nil {
		return nil, err
	}
	p := append([]float32(nil), out.H.Data...)
	// A float64 softmax written out here, independent of octcore.Softmax.
	mx := math.Inf(-1)
	for _, v := range p {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	e := make([]float64, len(p))
	for i, v := range p {
		e[i] = math.Exp(float64(v) - mx)
		sum += e[i]
	}
	for i := range p {
		p[i] = float32(e[i] / sum)
	}
	return p, nil
}

func tj(t *octcore.Tensor) *tensorJSON {
	if t == nil || t.C == 0 {
		return nil
	}
	return &tensorJSON{t.C, t.H, t.W, append([]float32(nil), t.Data...)}
}

// testImage is an opaque w x h image with gradients, stripes and a disc.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			dx, dy := float64(x)-float64(w)/2, float64(y)-float64(h)/3
			disc := 0.0
			if dx*dx+dy*dy < float64(w*w)/10 {
				disc = 120
			}
			img.Pix[i] = uint8((x*255/w + int(disc)) % 256)
			img.Pix[i+1] = uint8((y * 255 / h) ^ (x * 16 % 256))
			img.Pix[i+2] = uint8(((x + y) % 5) * 50)
			img.Pix[i+3] = 255
		}
	}
	return img
}
