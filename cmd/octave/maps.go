package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
)

func init() {
	register("maps", "draw the high- and low-frequency feature maps of a layer as one PNG", runMaps)
}

// viridisStops are the colours of matplotlib's viridis at t = 0, 1/9, ...,
// 1 (the ten-colour viridis palette); [viridis] interpolates between them.
// Viridis is perceptually uniform, its lightness rises monotonically, and it
// reads in grey and for colour-blind viewers.
var viridisStops = [...][3]float64{
	{0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x4a, 0x89}, {0x31, 0x68, 0x8e}, {0x26, 0x82, 0x8e},
	{0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6d, 0xcd, 0x59}, {0xb4, 0xde, 0x2c}, {0xfd, 0xe7, 0x25},
}

// viridis maps t in [0, 1] (clamped) to a colour.
func viridis(t float64) color.RGBA {
	if !(t > 0) {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	n := len(viridisStops) - 1
	f := t * float64(n)
	i := int(f)
	if i == n {
		i = n - 1
	}
	u := f - float64(i)
	a, b := viridisStops[i], viridisStops[i+1]
	c := func(k int) uint8 { return uint8(math.Round(a[k] + u*(b[k]-a[k]))) }
	return color.RGBA{c(0), c(1), c(2), 255}
}

// montage layout constants, in pixels.
const (
	mapMargin  = 12
	mapGap     = 6
	lineHeight = 15 // basicfont.Face7x13 is 13 pixels high
	barWidth   = 256
	barHeight  = 12
)

var face = basicfont.Face7x13

func drawText(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y+face.Ascent)}
	d.DrawString(s)
}

func textWidth(s string) int { return font.MeasureString(face, s).Ceil() }

// fill paints r with c.
func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// panel is one side of the montage: the maps of one octave.
type panel struct {
	title  string
	prefix string // "H" or "L"
	maps   *octcore.Tensor
	n      int // maps shown
	cols   int
	cellW  int
	cellH  int
}

func newPanel(title, prefix string, t *octcore.Tensor, maxMaps, zoom int) *panel {
	p := &panel{title: title, prefix: prefix, maps: t}
	if t == nil {
		return p
	}
	p.n = min(t.C, maxMaps)
	p.cols = int(math.Ceil(math.Sqrt(float64(p.n))))
	p.cellW = max(t.W*zoom, textWidth(fmt.Sprintf("%s%d", prefix, t.C-1))) + mapGap
	p.cellH = t.H*zoom + lineHeight + mapGap
	return p
}

func (p *panel) size() (w, h int) {
	w = textWidth(p.title)
	if p.n == 0 {
		return w, lineHeight
	}
	rows := (p.n + p.cols - 1) / p.cols
	return max(w, p.cols*p.cellW), lineHeight + mapGap + rows*p.cellH
}

// draw draws the panel with its top-left corner at (x0, y0).
func (p *panel) draw(img *image.RGBA, x0, y0, zoom int, lo, hi float64) {
	drawText(img, x0, y0, p.title, color.Black)
	if p.n == 0 {
		return
	}
	t := p.maps
	scale := 0.0
	if hi > lo {
		scale = 1 / (hi - lo)
	}
	for k := 0; k < p.n; k++ {
		cx := x0 + (k%p.cols)*p.cellW
		cy := y0 + lineHeight + mapGap + (k/p.cols)*p.cellH
		ch := t.Channel(k)
		for y := 0; y < t.H; y++ {
			for x := 0; x < t.W; x++ {
				v := 0.5
				if scale > 0 {
					v = (float64(ch[y*t.W+x]) - lo) * scale
				}
				fill(img, image.Rect(cx+x*zoom, cy+y*zoom, cx+(x+1)*zoom, cy+(y+1)*zoom), viridis(v))
			}
		}
		drawText(img, cx, cy+t.H*zoom+1, fmt.Sprintf("%s%d", p.prefix, k), color.Black)
	}
}

// valueRange returns the smallest and largest values of the first n maps of
// the given tensors.
func valueRange(ts []*octcore.Tensor, ns []int) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, t := range ts {
		if t == nil {
			continue
		}
		for _, v := range t.Data[:ns[i]*t.H*t.W] {
			lo = math.Min(lo, float64(v))
			hi = math.Max(hi, float64(v))
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// montage draws the maps of feature f of layer as one image.
func montage(title string, f octcore.Feature, maxMaps int) *image.RGBA {
	// One zoom for both octaves: a low map is drawn at half the size of a
	// high map, as its resolution is. Small maps are enlarged to about 64 px.
	side := 0
	for _, t := range []*octcore.Tensor{f.H, f.L} {
		if t != nil {
			side = max(side, t.H, t.W)
		}
	}
	if f.H == nil && f.L != nil {
		side *= 2 // keep the zoom that the high maps would have had
	}
	zoom := max(1, min(16, (64+side-1)/max(side, 1)))
	desc := func(name string, t *octcore.Tensor, shown int) string {
		if t == nil {
			return "no " + name + " maps in this layer"
		}
		s := fmt.Sprintf("%s: %d maps of %dx%d", name, t.C, t.H, t.W)
		if shown < t.C {
			s += fmt.Sprintf(" (first %d shown)", shown)
		}
		return s
	}
	hp := newPanel("", "H", f.H, maxMaps, zoom)
	lp := newPanel("", "L", f.L, maxMaps, zoom)
	hp.title = desc("high frequency", f.H, hp.n)
	lp.title = desc("low frequency", f.L, lp.n)
	lo, hi := valueRange([]*octcore.Tensor{f.H, f.L}, []int{hp.n, lp.n})

	hw, hh := hp.size()
	lw, lh := lp.size()
	legendH := lineHeight + barHeight + lineHeight + mapGap
	W := 2*mapMargin + hw + 3*mapMargin + lw
	W = max(W, 2*mapMargin+textWidth(title), 2*mapMargin+barWidth+2*textWidth("-0.000e+00"))
	H := mapMargin + lineHeight + mapGap + legendH + mapMargin + max(hh, lh) + mapMargin
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	y := mapMargin
	drawText(img, mapMargin, y, title, color.Black)
	y += lineHeight + mapGap
	// Legend: the colour bar and the values at its ends and middle.
	drawText(img, mapMargin, y, "colour scale, shared by every map:", color.Black)
	y += lineHeight
	for x := 0; x < barWidth; x++ {
		fill(img, image.Rect(mapMargin+x, y, mapMargin+x+1, y+barHeight), viridis(float64(x)/(barWidth-1)))
	}
	y += barHeight + 1
	for _, tick := range []struct {
		frac float64
		v    float64
	}{{0, lo}, {0.5, (lo + hi) / 2}, {1, hi}} {
		s := fmt.Sprintf("%.3g", tick.v)
		x := mapMargin + int(tick.frac*(barWidth-1)) - textWidth(s)/2
		x = max(mapMargin, min(x, mapMargin+barWidth-textWidth(s)))
		drawText(img, x, y, s, color.Black)
	}
	y += lineHeight + mapGap + mapMargin
	hp.draw(img, mapMargin, y, zoom, lo, hi)
	// A rule between the octaves.
	xr := mapMargin + hw + mapMargin + mapMargin/2
	draw.Draw(img, image.Rect(xr, y, xr+1, H-mapMargin), image.NewUniform(color.Gray{160}), image.Point{}, draw.Src)
	lp.draw(img, xr+mapMargin+mapMargin/2, y, zoom, lo, hi)
	return img
}

func runMaps(args []string, stdout io.Writer) error {
	fs := newFlags("maps", "--model FILE --layer NAME -o OUT.png [--max N] [--size N] IMAGE")
	model := fs.String("model", "", "model file (.safetensors)")
	layer := fs.String("layer", "", "name of the layer whose output to draw (see octave info)")
	out := fs.String("o", "", "output PNG file")
	maxMaps := fs.Int("max", 64, "largest number of maps drawn per octave")
	size := fs.Int("size", 224, "longer side to scale the image to, for models that take any size")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *model == "":
		return usagef("--model is required")
	case *layer == "":
		return usagef("--layer is required")
	case *out == "":
		return usagef("-o is required")
	case fs.NArg() != 1:
		return usagef("want one image, got %d", fs.NArg())
	case *maxMaps < 1 || *maxMaps > 4096:
		return usagef("--max %d outside 1..4096", *maxMaps)
	case *size < 1 || *size > imageio.MaxSide:
		return usagef("--size %d outside 1..%d", *size, imageio.MaxSide)
	}
	m, err := loadModel(*model)
	if err != nil {
		return err
	}
	found := false
	var names []string
	for _, l := range m.Graph {
		names = append(names, l.Name)
		found = found || l.Name == *layer
	}
	if !found {
		return fmt.Errorf("%s has no layer %q (layers: %v)", *model, *layer, names)
	}
	net, err := m.Build()
	if err != nil {
		return fmt.Errorf("%s: %v", *model, err)
	}
	path := fs.Arg(0)
	x, err := readImageTensor(path, m.Meta.Input, *size)
	if err != nil {
		return err
	}
	if _, err := net.Run(x); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	f, err := net.Output(*layer)
	if err != nil {
		return err
	}
	name := m.Meta.Name
	if name == "" {
		name = filepath.Base(*model)
	}
	img := montage(fmt.Sprintf("%s - layer %s - %s", name, *layer, filepath.Base(path)), f, *maxMaps)
	file, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := png.Encode(file, img); err != nil {
		file.Close()
		return fmt.Errorf("writing %s: %v", *out, err)
	}
	if err := file.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d)\n", *out, img.Bounds().Dx(), img.Bounds().Dy())
	return nil
}
