package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

type resultRow struct {
	Case    string  `json:"case"`
	Engine  string  `json:"engine"`
	Runtime string  `json:"runtime"`
	Median  float64 `json:"median_ms"`
}

type caseInfo struct {
	Case   string  `json:"case"`
	Family string  `json:"family"`
	Alpha  float64 `json:"alpha"`
	MACs   int64   `json:"macs"`
}

var chartEngines = []struct {
	name string
	c    color.RGBA
}{
	{"octave-wasm-simd", color.RGBA{0xd6, 0x27, 0x28, 255}},
	{"octave-wasm-scalar", color.RGBA{0xf2, 0x9e, 0x8e, 255}},
	{"octave-native", color.RGBA{0x8c, 0x1d, 0x40, 255}},
	{"tfjs-wasm", color.RGBA{0x1f, 0x77, 0xb4, 255}},
	{"tfjs-cpu", color.RGBA{0x9e, 0xc9, 0xe8, 255}},
	{"ort-wasm", color.RGBA{0x2c, 0xa0, 0x2c, 255}},
	{"pytorch-cpu", color.RGBA{0xee, 0x7f, 0x0e, 255}},
}

var macColor = color.RGBA{0x55, 0x55, 0x55, 255}

// chart draws results.json as two bar panels: the speed-up of each alpha over
// alpha 0 against the MAC ratio, and each engine's speed against tfjs-wasm.
func chart(args []string) error {
	fs := flag.NewFlagSet("chart", flag.ExitOnError)
	in := fs.String("in", "bench/results.json", "results file")
	out := fs.String("out", "bench/results.png", "PNG to write")
	fs.Parse(args)
	b, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var res struct {
		Cases    []resultRow `json:"cases"`
		CaseInfo []caseInfo  `json:"case_info"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	ms := func(c, e string) float64 {
		for _, r := range res.Cases {
			if r.Case == c && r.Engine == e && (r.Runtime == "node" || r.Runtime == "native") {
				return r.Median
			}
		}
		return math.NaN()
	}
	const W, H = 1200, 600
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	// Panel 1: speed-up over alpha 0.
	var g1 []group
	infos := append([]caseInfo(nil), res.CaseInfo...)
	sort.SliceStable(infos, func(i, j int) bool { return infos[i].Family > infos[j].Family })
	for _, fam := range []string{"mini", "resnet50"} {
		var base *caseInfo
		for i := range infos {
			if infos[i].Family == fam && infos[i].Alpha == 0 {
				base = &infos[i]
			}
		}
		if base == nil {
			continue
		}
		for _, c := range infos {
			if c.Family != fam || c.Alpha == 0 {
				continue
			}
			gr := group{label: fmt.Sprintf("%s a=%g", map[string]string{"mini": "mini", "resnet50": "R50"}[fam], c.Alpha)}
			gr.vals = append(gr.vals, float64(base.MACs)/float64(c.MACs))
			for _, e := range chartEngines {
				gr.vals = append(gr.vals, ms(base.Case, e.name)/ms(c.Case, e.name))
			}
			g1 = append(g1, gr)
		}
	}
	colors := []color.RGBA{macColor}
	for _, e := range chartEngines {
		colors = append(colors, e.c)
	}
	panel := image.Rect(60, 50, 620, 500)
	top := 2.0
	for _, g := range g1 {
		for _, v := range g.vals {
			if !math.IsNaN(v) && v > top {
				top = math.Ceil(v*2) / 2
			}
		}
	}
	text(img, 60, 30, "Speed-up over alpha 0 (Node, one thread); grey: MAC ratio")
	axis(img, panel)
	for t := 0.0; t <= top+1e-9; t += 0.5 {
		y := panel.Max.Y - int(t/top*float64(panel.Dy()))
		hline(img, panel.Min.X, panel.Max.X, y, color.RGBA{0xdd, 0xdd, 0xdd, 255})
		text(img, 25, y+4, fmt.Sprintf("%.1f", t))
	}
	y1 := panel.Max.Y - int(1/top*float64(panel.Dy()))
	hline(img, panel.Min.X, panel.Max.X, y1, color.RGBA{0, 0, 0, 255})
	bars(img, panel, g1, colors, func(v float64) int { return int(v / top * float64(panel.Dy())) }, 0)

	// Panel 2: tfjs-wasm time / engine time, log scale.
	var g2 []group
	for _, c := range res.CaseInfo {
		gr := group{label: shortCase(c.Case)}
		gr.vals = append(gr.vals, math.NaN())
		for _, e := range chartEngines {
			gr.vals = append(gr.vals, ms(c.Case, "tfjs-wasm")/ms(c.Case, e.name))
		}
		g2 = append(g2, gr)
	}
	p2 := image.Rect(680, 50, 1180, 500)
	text(img, 680, 30, "tfjs-wasm time / engine time (Node; log scale, above 1 = faster)")
	axis(img, p2)
	lo, hi := -2.0, 1.0
	scale := func(v float64) int { return int((math.Log10(v) - lo) / (hi - lo) * float64(p2.Dy())) }
	for e := lo; e <= hi; e++ {
		y := p2.Max.Y - int((e-lo)/(hi-lo)*float64(p2.Dy()))
		c := color.RGBA{0xdd, 0xdd, 0xdd, 255}
		if e == 0 {
			c = color.RGBA{0, 0, 0, 255}
		}
		hline(img, p2.Min.X, p2.Max.X, y, c)
		text(img, 640, y+4, fmt.Sprintf("%gx", math.Pow(10, e)))
	}
	bars(img, p2, g2, colors, scale, 0)

	// Legend.
	x := 60
	for i, name := range append([]string{"MAC ratio"}, engineNames()...) {
		fill(img, image.Rect(x, 560, x+14, 574), colors[i])
		text(img, x+18, 572, name)
		x += 26 + 7*len(name)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func engineNames() []string {
	var s []string
	for _, e := range chartEngines {
		s = append(s, e.name)
	}
	return s
}

// shortCase fits a case name under its bars: conv, m.000 .. m.750, m.odd,
// R50.000, R50.500.
func shortCase(c string) string {
	switch {
	case strings.HasPrefix(c, "resnet50-a"):
		return "R50." + c[len("resnet50-a"):]
	case strings.HasPrefix(c, "conv"):
		return "conv"
	case strings.HasPrefix(c, "mini-a") && strings.Contains(c[6:], "-"):
		return "m.odd"
	case strings.HasPrefix(c, "mini-a"):
		return "m." + c[len("mini-a"):]
	}
	return c
}

// group is one group of bars: the MAC ratio, then one value per engine.
type group struct {
	label string
	vals  []float64
}

// bars draws groups of bars; h maps a value to a height in pixels (from the
// panel's bottom); NaN values are skipped.
func bars(img *image.RGBA, p image.Rectangle, groups []group, colors []color.RGBA, h func(float64) int, _ int) {
	if len(groups) == 0 {
		return
	}
	gw := p.Dx() / len(groups)
	for gi, g := range groups {
		bw := (gw - 10) / len(g.vals)
		x0 := p.Min.X + gi*gw + 5
		for i, v := range g.vals {
			if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
				continue
			}
			bh := h(v)
			bh = max(1, min(bh, p.Dy()))
			fill(img, image.Rect(x0+i*bw, p.Max.Y-bh, x0+(i+1)*bw-1, p.Max.Y), colors[i])
		}
		text(img, x0, p.Max.Y+16, g.label)
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) { fill(img, image.Rect(x0, y, x1, y+1), c) }

func axis(img *image.RGBA, p image.Rectangle) {
	fill(img, image.Rect(p.Min.X-1, p.Min.Y, p.Min.X, p.Max.Y+1), color.Black)
	fill(img, image.Rect(p.Min.X-1, p.Max.Y, p.Max.X, p.Max.Y+1), color.Black)
}

func text(img *image.RGBA, x, y int, s string) {
	d := &font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
