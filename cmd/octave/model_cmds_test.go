package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/weights"
)

// writeModel writes m to dir/name with the given dtype and returns the path.
func writeModel(t *testing.T, dir, name string, m *weights.Model, dtype string) string {
	t.Helper()
	var b bytes.Buffer
	if err := weights.Write(&b, m, weights.WriteOptions{DType: dtype}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePNG writes img as a PNG file and returns its path.
func writePNG(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCmd runs the command line and returns the status, stdout and stderr.
func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	st := run(args, &out, &errb)
	return st, out.String(), errb.String()
}

func uniformGray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// linearModel is input(1) -> gap -> linear(1 -> 3) -> softmax with weights
// [1, -1, 0] and biases [0, 0, 0.5]: for an image whose normalized pixels
// are all x, the logits are [x, -x, 0.5].
func linearModel() *weights.Model {
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 1},
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 1, Out: 3},
		{Name: "prob", Kind: "softmax"},
	}
	p := octcore.Params{
		"fc.weight": {Shape: []int{3, 1}, Data: []float32{1, -1, 0}},
		"fc.bias":   {Shape: []int{3}, Data: []float32{0, 0, 0.5}},
	}
	return &weights.Model{Graph: g, Params: p, Meta: weights.Metadata{
		Name:   "linear test",
		Labels: []string{"bright", "dark", "neutral"},
		Input:  weights.InputSpec{Channels: 1, Height: 8, Width: 8, Mean: []float32{0.5}, Std: []float32{0.25}},
		Provenance: map[string]string{
			"dataset": "none",
			"recipe":  "hand-set weights",
		},
	}}
}

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "lin.safetensors", linearModel(), "float32")
	img := writePNG(t, dir, "gray.png", uniformGray(20, 10, 204)) // resized to 8x8, stays uniform
	st, out, errs := runCmd("classify", "--model", model, "--top", "2", "--json", img)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errs)
	}
	var res []struct {
		Image string
		Top   []struct {
			Index       int
			Label       string
			Probability float64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// x = (204/255 - 0.5) / 0.25 = 1.2; softmax of [1.2, -1.2, 0.5].
	x := (204.0/255 - 0.5) / 0.25
	z := math.Exp(x) + math.Exp(-x) + math.Exp(0.5)
	want := []struct {
		i int
		p float64
	}{{0, math.Exp(x) / z}, {2, math.Exp(0.5) / z}}
	if len(res) != 1 || len(res[0].Top) != 2 || res[0].Image != img {
		t.Fatalf("result %+v", res)
	}
	for k, w := range want {
		got := res[0].Top[k]
		if got.Index != w.i || math.Abs(got.Probability-w.p) > 1e-5 {
			t.Errorf("top %d: %+v, want class %d with %v", k, got, w.i, w.p)
		}
	}
	if res[0].Top[0].Label != "bright" {
		t.Errorf("label %q", res[0].Top[0].Label)
	}
	// Text output, two images.
	dark := writePNG(t, dir, "dark.png", uniformGray(8, 8, 0))
	st, out, errs = runCmd("classify", "--model", model, "--top", "1", img, dark)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errs)
	}
	if !strings.Contains(out, "gray.png\n") || !strings.Contains(out, "bright") || !strings.Contains(out, "dark.png\n") || !strings.Contains(out, "dark\n") {
		t.Errorf("output:\n%s", out)
	}
}

// TestCommandErrors checks exit statuses and that errors name the problem
// without a stack trace.
func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "lin.safetensors", linearModel(), "int8")
	img := writePNG(t, dir, "g.png", uniformGray(4, 4, 9))
	bad := filepath.Join(dir, "bad.safetensors")
	data, _ := os.ReadFile(model)
	os.WriteFile(bad, data[:len(data)-3], 0o644)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)-1] ^= 2 // a weight byte, still a valid int8
	os.WriteFile(corrupt, flipped, 0o644)
	// A 1x1 conv to 1024 channels at 1024x1024: 8 KB of weights, (1+1024)
	// x 2^20 activations, more than weights.MaxActivations.
	wide := octcore.Graph{{Name: "input", Kind: "input", Out: 1}, {Name: "c", Kind: "conv", In: 1, Out: 1024, Kernel: 1}}
	costly := writeModel(t, dir, "costly.safetensors", &weights.Model{Graph: wide, Params: octcore.RandomParams(wide, 1),
		Meta: weights.Metadata{Input: weights.InputSpec{Channels: 1, Height: 1024, Width: 1024}}}, "float32")
	notImage := filepath.Join(dir, "x.png")
	os.WriteFile(notImage, []byte("hello"), 0o644)
	cases := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"info"}, 2, "want one model file"},
		{[]string{"info", filepath.Join(dir, "none")}, 1, "no such file"},
		{[]string{"info", bad}, 1, "run past the data section"},
		{[]string{"info", img}, 1, "header length"},
		{[]string{"info", corrupt}, 1, "data_sha256"},
		{[]string{"info", costly}, 1, fmt.Sprintf("%d activations at its input size 1024x1024", 1025<<20)},
		{[]string{"classify", "--model", corrupt, img}, 1, "corrupted"},
		{[]string{"classify", img}, 2, "--model is required"},
		{[]string{"classify", "--model", model}, 2, "no images"},
		{[]string{"classify", "--model", model, "--top", "0", img}, 2, "--top 0"},
		{[]string{"classify", "--bogus", "--model", model, img}, 2, "bogus"},
		{[]string{"classify", "--model", model, notImage}, 1, "unknown image format"},
		{[]string{"classify", "--model", bad, img}, 1, "bad.safetensors"},
		{[]string{"maps", "--model", model, "--layer", "fc", img}, 2, "-o is required"},
		{[]string{"maps", "--model", model, "--layer", "nope", "-o", filepath.Join(dir, "o.png"), img}, 1, `no layer "nope"`},
		{[]string{"eval", "--model", model}, 2, "--dataset"},
		{[]string{"eval", "--model", model, "--dataset", "cifar"}, 2, "cifar"},
	}
	for _, c := range cases {
		st, _, errs := runCmd(c.args...)
		if st != c.status || !strings.Contains(errs, c.want) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args, st, errs, c.status, c.want)
		}
		if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
			t.Errorf("%v: stack trace in %q", c.args, errs)
		}
	}
}

func TestInfo(t *testing.T) {
	dir := t.TempDir()
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	m := &weights.Model{Graph: g, Params: octcore.RandomParams(g, 1), Meta: weights.Metadata{
		Name:       "mini",
		Input:      weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.286}, Std: []float32{0.353}},
		Provenance: map[string]string{"dataset": "fashion-mnist", "int8 accuracy": "0.9"},
	}}
	path := writeModel(t, dir, "mini.safetensors", m, "int8")
	st, out, errs := runCmd("info", path)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errs)
	}
	// The folded graph's cost, as the flops command counts it (BN folded:
	// a bias instead of scale and shift).
	fg, _, _ := weights.FoldBN(g, m.Params)
	c, _ := octcore.CostOf(fg, 28, 28)
	raw, _ := os.ReadFile(path)
	sum := sha256.Sum256(raw[8+binary.LittleEndian.Uint64(raw):])
	for _, w := range []string{"model:   mini", "data:    sha256 " + hex.EncodeToString(sum[:]) + " (verified)", "28x28", "fashion-mnist", "int8 accuracy", "stage2.conv1", "octconv", "0.5→0.5",
		fmt.Sprintf("%d MACs", c.MACs), fmt.Sprintf("total: %d params", c.Params)} {
		if !strings.Contains(out, w) {
			t.Errorf("info output lacks %q:\n%s", w, out)
		}
	}
	st, out, _ = runCmd("info", "--json", path)
	var j struct {
		Name  string
		Graph octcore.Graph
		Cost  octcore.Cost
	}
	if st != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Name != "mini" || len(j.Graph) != len(g) || j.Cost.MACs != c.MACs {
		t.Errorf("info --json: status %d, %+v", st, j)
	}
}

// TestMaps draws the maps of an octconv with 2 high and 2 low channels on a
// 16x12 image. The zoom makes high maps 64 px on their longer side (4x), so
// the montage holds 2 high maps of 64x48 and 2 low maps of 32x24 (the same
// scale: half the size) plus the 256x12 colour bar, and every other pixel is
// white, black or grey (text, background, rule).
func TestMaps(t *testing.T) {
	dir := t.TempDir()
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 1},
		{Name: "oct", Kind: "octconv", In: 1, Out: 4, Kernel: 1, AlphaOut: 0.5, Bias: true},
	}
	m := &weights.Model{Graph: g, Params: octcore.RandomParams(g, 3)}
	m.Meta.Input = weights.InputSpec{Channels: 1, Height: 12, Width: 16, Mean: []float32{0}, Std: []float32{1}}
	model := writeModel(t, dir, "oct.safetensors", m, "float32")
	src := image.NewGray(image.Rect(0, 0, 16, 12))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	img := writePNG(t, dir, "in.png", src)
	out := filepath.Join(dir, "maps.png")
	st, stdout, errs := runCmd("maps", "--model", model, "--layer", "oct", "-o", out, img)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errs)
	}
	if !strings.Contains(stdout, "maps.png") {
		t.Errorf("stdout %q", stdout)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mont, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := mont.Bounds()
	colored := 0
	leftmost, rightmost := b.Max.X, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := mont.At(x, y).RGBA()
			if r != g || g != bl {
				colored++
				leftmost, rightmost = min(leftmost, x), max(rightmost, x)
			}
		}
	}
	if want := 2*64*48 + 2*32*24 + 256*12; colored != want {
		t.Errorf("%d coloured pixels, want %d", colored, want)
	}
	if rightmost < b.Dx()/2 {
		t.Errorf("no maps on the right half (rightmost coloured pixel %d of %d)", rightmost, b.Dx())
	}
}

// TestViridis checks the colour map's ends against matplotlib's viridis and
// that its luminance rises monotonically, the property it is chosen for.
func TestViridis(t *testing.T) {
	if c := viridis(0); c != (color.RGBA{0x44, 0x01, 0x54, 255}) {
		t.Errorf("viridis(0) = %v", c)
	}
	if c := viridis(1); c != (color.RGBA{0xfd, 0xe7, 0x25, 255}) {
		t.Errorf("viridis(1) = %v", c)
	}
	lin := func(v uint8) float64 {
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	prev := -1.0
	for i := 0; i <= 1000; i++ {
		c := viridis(float64(i) / 1000)
		y := 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
		if y < prev-1e-3 {
			t.Fatalf("luminance falls at t = %v: %v after %v", float64(i)/1000, y, prev)
		}
		prev = y
	}
}

// TestEval runs eval with a model whose prediction the test computes on its
// own: input -> gap -> linear(1 -> 10) with logits_k = k*m - k*k/8, m the
// normalized mean brightness, so the class is the k nearest m*4. The test
// reads the set itself and counts the matches in float64.
func TestEval(t *testing.T) {
	ds, err := dataset.Load("fashion-mnist", "test")
	if err != nil {
		t.Skipf("fashion-mnist not available: %v", err)
	}
	g := octcore.Graph{
		{Name: "input", Kind: "input", Out: 1},
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 1, Out: 10},
	}
	w, b := make([]float32, 10), make([]float32, 10)
	for k := range w {
		w[k] = float32(k)
		b[k] = -float32(k*k) / 8
	}
	const mean, std = 0.1, 0.1
	m := &weights.Model{Graph: g, Params: octcore.Params{
		"fc.weight": {Shape: []int{10, 1}, Data: w},
		"fc.bias":   {Shape: []int{10}, Data: b},
	}, Meta: weights.Metadata{Input: weights.InputSpec{Channels: 1, Height: 28, Width: 28, Mean: []float32{mean}, Std: []float32{std}}}}
	model := writeModel(t, t.TempDir(), "eval.safetensors", m, "float32")
	correct := 0
	for i := 0; i < ds.Len(); i++ {
		s := 0.0
		for _, p := range ds.Image(i) {
			s += float64(p) / 255
		}
		mv := (s/float64(len(ds.Image(i))) - mean) / std
		best, bestV := 0, math.Inf(-1)
		for k := 0; k < 10; k++ {
			if v := float64(k)*mv - float64(k*k)/8; v > bestV {
				best, bestV = k, v
			}
		}
		if best == int(ds.Labels[i]) {
			correct++
		}
	}
	st, out, errs := runCmd("eval", "--model", model, "--dataset", "fashion-mnist", "--json")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errs)
	}
	var r struct {
		Accuracy float64 `json:"accuracy"`
		N        int     `json:"n"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	// float32 against float64 may flip an image that sits on a tie.
	if r.N != 10000 || math.Abs(r.Accuracy*10000-float64(correct)) > 5 {
		t.Errorf("eval: %+v, the test counts %d of %d correct", r, correct, ds.Len())
	}
	if !strings.HasPrefix(out, `{"accuracy":`) {
		t.Errorf("json output %q", out)
	}
}
