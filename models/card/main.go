// Command card writes the model card of the shipped models: it reads every
// models/weights/*.safetensors and every training run kept in
// models/runs/*.safetensors, writes models/runs.json (each run's figures from
// its file's metadata), models/weights/README.md (tables built from the
// metadata, around fixed prose) and models/weights/accuracy.png, a chart of
// Fashion-MNIST test accuracy against multiply-adds across alpha with the
// spread over seeds, like Figure 4 of the OctConv paper.
//
//	go run ./models/card [-dir models/weights] [-runs models/runs]
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/octave-project/octave/octcore/weights"
)

type row struct {
	file               string
	dataset            string
	alpha              float64
	params, macs       int64
	fp32, int8, val    float64
	size, fp32Size     int
	seconds            float64
	command, seed, rec string
	sha                string // data_sha256, or the file's own SHA-256
}

func main() {
	dir := flag.String("dir", "models/weights", "directory of the shipped model files")
	runsDir := flag.String("runs", "models/runs", "directory of the training runs kept beside them")
	flag.Parse()
	rows, runs := collect(*dir, *runsDir)
	runsJSON := filepath.Join(filepath.Dir(*dir), "runs.json")
	if err := os.WriteFile(runsJSON, marshalRuns(runs), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "README.md"), []byte(readme(rows, runs)), 0o644); err != nil {
		log.Fatal(err)
	}
	var fashion []row
	for _, r := range rows {
		if r.dataset == "fashion-mnist" {
			fashion = append(fashion, r)
		}
	}
	ep := longestRecipe(runs, "fashion-mnist")
	if err := os.WriteFile(filepath.Join(*dir, "accuracy.png"), chart(fashion, groups(runs, "fashion-mnist", ep), ep), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s, %s/README.md and accuracy.png for %d shipped models and %d runs\n", runsJSON, *dir, len(rows), len(runs))
}

// collect reads the shipped files of dir and the kept runs of runsDir; runs
// lists both, with paths relative to their common parent (models/).
func collect(dir, runsDir string) ([]row, []runRecord) {
	rows := readRows(dir)
	var runs []runRecord
	for _, r := range rows {
		runs = append(runs, record(r, filepath.Join(filepath.Base(dir), r.file), true))
	}
	for _, r := range readRows(runsDir) {
		runs = append(runs, record(r, filepath.Join(filepath.Base(runsDir), r.file), false))
	}
	return rows, runs
}

// readRows reads every model file of dir, sorted by data set and alpha.
func readRows(dir string) []row {
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	var rows []row
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		m, err := weights.Load(data)
		if err != nil {
			log.Fatalf("%s: %v", f, err)
		}
		p := m.Meta.Provenance
		num := func(k string) float64 {
			v, err := strconv.ParseFloat(p[k], 64)
			if err != nil {
				log.Fatalf("%s: metadata %s = %q: %v", f, k, p[k], err)
			}
			return v
		}
		// The same network stored as float32, for the size ratio.
		var fp bytes.Buffer
		if err := weights.Write(&fp, m, weights.WriteOptions{DType: "float32"}); err != nil {
			log.Fatal(err)
		}
		rows = append(rows, row{file: filepath.Base(f), dataset: p["dataset"], alpha: num("alpha"),
			params: int64(num("params")), macs: int64(num("macs")), fp32: num("test_accuracy_fp32"),
			int8: num("test_accuracy_int8"), val: num("val_accuracy"), size: len(data), fp32Size: fp.Len(),
			seconds: num("train_seconds"), command: p["command"], seed: p["seed"], rec: p["recipe"],
			sha: m.Meta.DataSHA256})
		if rows[len(rows)-1].sha == "" {
			sum := sha256.Sum256(data)
			rows[len(rows)-1].sha = hex.EncodeToString(sum[:])
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].dataset != rows[j].dataset {
			return rows[i].dataset > rows[j].dataset
		}
		return rows[i].alpha < rows[j].alpha
	})
	return rows
}

func readme(rows []row, runs []runRecord) string {
	var b strings.Builder
	b.WriteString(`# Shipped models

Oct-ResNet-mini (` + "`octcore.Arch(\"oct-resnet-mini\", ...)`" + `: a vanilla 3x3 stem, three
stages of one basic block at 28, 14 and 7 pixels with 16, 32 and 64 channels, the last stage
vanilla and merging the octaves, global average pooling, a linear classifier) trained from
scratch in pure Go by ` + "`octave train`" + ` (package octcore/train), on 2 CPU cores. Every
Fashion-MNIST model uses one recipe and one seed; only alpha differs, and the parameters are
the same for every alpha. The files are int8 safetensors (BatchNorm folded, per-output-channel
symmetric scales; see docs/FORMAT.md), with the recipe, seed, command and measured accuracies
in their metadata.

**The page's default model is ` + "`fashion-oct-a500.safetensors`" + `** (Fashion-MNIST, alpha 0.5);
` + "`mnist-oct-a500.safetensors`" + ` serves the drawing pad. File names give alpha in
thousandths: ` + "`fashion-oct-a125`" + ` is alpha 0.125.

Accuracies are on the full 10,000-image test sets (used only for these final numbers; 5,000
training images are held out for validation). fp32 is the trained network; int8 is the
file as shipped, run by the octcore engine. ` + "`go test ./models/`" + ` (part of ` + "`make test`" + `)
re-evaluates every file and fails if it scores more than 0.05 points below its metadata.

| file | data | alpha | params | MACs | fp32 test acc | int8 test acc | val acc | size (vs fp32) | training time | seed |
|---|---|---|---|---|---|---|---|---|---|---|
`)
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %g | %d | %.2fM | %.2f%% | %.2f%% | %.2f%% | %.1f KB (%.0f%%) | %.0f min | %s |\n",
			r.file, r.dataset, r.alpha, r.params, float64(r.macs)/1e6, r.fp32, r.int8, r.val,
			float64(r.size)/1024, 100*float64(r.size)/float64(r.fp32Size), r.seconds/60, r.seed)
	}
	b.WriteString("\n![Fashion-MNIST test accuracy against multiply-adds](accuracy.png)\n\n")
	b.WriteString(targets(rows))
	b.WriteString(seedsSection(runs))
	b.WriteString("## How they were made\n\n")
	b.WriteString("The files were trained with the simd kernels by these commands (as each file records them):\n\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "- `%s`: `%s`\n", r.file, r.command)
	}
	if len(rows) > 0 {
		seen := map[string]bool{}
		b.WriteString("\n")
		for _, r := range rows {
			if key := r.dataset + "\x00" + r.rec; !seen[key] {
				seen[key] = true
				fmt.Fprintf(&b, "Recipe (%s): %s.\n", r.dataset, r.rec)
			}
		}
	}
	b.WriteString(`
Each shipped file is a byte-for-byte copy of seed 1 of its 20-epoch run in models/runs/
(` + "`make models`" + ` copies ` + "`models/runs/NAME-s1-e20.safetensors`" + ` and trains the run first with
` + "`make models-runs`" + ` when it is missing; the commands above are the ones recorded in each file).
Training time is the wall-clock time of the epochs with two workers on this 2-core machine,
which was shared with other work while they ran (so it is an upper bound); evaluation is not
included.

## Training throughput

` + "`GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go test -run '^$' -bench TrainStep ./octcore/train/`" + `
measures images/s of a full training step (forward, backward, SGD update; batch 128, width 1)
with one worker (one thread) and with one worker per CPU;
` + "`/usr/bin/python3 models/bench/torch_train_bench.py --threads 1`" + ` (Debian's python3-torch 1.13)
times the same network and step in PyTorch on one thread.

The last run, as ` + "`make models-throughput`" + ` wrote it to models/bench/throughput.txt
(Go's ` + "`workers=1`" + ` lines are one thread, ` + "`workers=2`" + ` use both cores):

` + "```" + `
` + throughputLog() + "```" + `

Read the ratio from the ` + "`workers=1`" + ` and ` + "`pytorch`" + ` lines of one run, with the load average of
its first line in mind: Go and PyTorch are timed one after the other, so on a shared machine a
busy neighbour can skew the ratio either way (` + "`images/cpu-s`" + `, per second of the process's own
CPU time, is the steadier Go figure). The trainer's matrix products run on the inference
engine's register tile (AVX2+FMA assembly where the CPU has it), which also adds into its output
in place; their im2col blocks are built inside the products from masked shifted copies of the
source (stride 1) or of its four phase planes (stride 2, even sizes), never stored whole; the
input gradient of a stride-1 convolution is the convolution of the output gradient with the
flipped weights (no col2im); BatchNorm, ReLU and residual passes are vectorized. In the last
profile (` + "`go test -bench TrainStep -cpuprofile`" + `) the tile is about 37% of an alpha-0 step; the
rest is those im2col copies and their transposes for the weight gradients, BatchNorm sweeps and
packing.
`)
	return b.String()
}

// throughputLog returns models/bench/throughput.txt (make models-throughput),
// or a line saying it has not been written.
func throughputLog() string {
	b, err := os.ReadFile(filepath.Join("models", "bench", "throughput.txt"))
	if err != nil {
		return "(no measurement yet: run make models-throughput)\n"
	}
	return string(b)
}

// targets checks the targets against the int8 accuracies as shipped.
func targets(rows []row) string {
	var b strings.Builder
	b.WriteString("## Targets\n\nChecked on the int8 files as shipped (this section is generated from their metadata):\n\n")
	yes := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	var vanilla, bestOct *row
	for i := range rows {
		r := &rows[i]
		switch {
		case r.dataset == "fashion-mnist" && r.alpha == 0:
			vanilla = r
		case r.dataset == "fashion-mnist" && (bestOct == nil || r.int8 > bestOct.int8):
			bestOct = r
		}
	}
	for _, r := range rows {
		if r.dataset == "fashion-mnist" && r.alpha == 0.5 {
			fmt.Fprintf(&b, "- Fashion-MNIST alpha 0.5 >= 93.0%%: %.2f%%, %s\n", r.int8, yes(r.int8 >= 93))
		}
		if r.dataset == "mnist" {
			fmt.Fprintf(&b, "- MNIST alpha 0.5 >= 99.5%%: %.2f%%, %s\n", r.int8, yes(r.int8 >= 99.5))
		}
	}
	if vanilla != nil && bestOct != nil {
		fmt.Fprintf(&b, "- best Oct model >= vanilla: alpha %g at %.2f%% vs alpha 0 at %.2f%%, %s\n",
			bestOct.alpha, bestOct.int8, vanilla.int8, yes(bestOct.int8 >= vanilla.int8))
	}
	worst, big := 0.0, 0.0
	for _, r := range rows {
		worst = math.Max(worst, math.Abs(r.fp32-r.int8))
		big = math.Max(big, float64(r.size)/float64(r.fp32Size))
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "- int8 within 0.2 points of fp32: largest difference %.2f points, %s\n", worst, yes(worst <= 0.2))
		fmt.Fprintf(&b, "- each file <= 30%% of its fp32 size: largest %.1f%%, %s\n", 100*big, yes(big <= 0.3))
	}
	b.WriteString("\nEvery alpha shares one recipe (epochs, schedule, augmentation, seed); nothing was tuned per alpha.\n\n")
	return b.String()
}

// chart draws Fashion-MNIST test accuracy (int8) against MACs: for the runs
// of the longest recipe, the mean over seeds with ±1 standard deviation bars
// and every seed as a small dot; the shipped files as rings.
func chart(shipped []row, gs []group, epochs int) []byte {
	const W, H = 640, 420
	const left, right, top, bottom = 70, 30, 40, 60
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	black := color.RGBA{0, 0, 0, 255}
	grey := color.RGBA{220, 220, 220, 255}
	seedGrey := color.RGBA{120, 120, 120, 255}
	blue := color.RGBA{31, 119, 180, 255}
	orange := color.RGBA{255, 127, 14, 255}
	text := func(x, y int, s string, c color.Color) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	text(left, 22, "Oct-ResNet-mini on Fashion-MNIST: int8 test accuracy vs multiply-adds", black)
	if len(shipped) == 0 && len(gs) == 0 {
		text(left, H/2, "no models yet", black)
		return encode(img)
	}
	minX, maxX := math.Inf(1), math.Inf(-1)
	minY, maxY := math.Inf(1), math.Inf(-1)
	see := func(macs int64, ys ...float64) {
		x := float64(macs) / 1e6
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		for _, y := range ys {
			if !math.IsNaN(y) {
				minY, maxY = math.Min(minY, y), math.Max(maxY, y)
			}
		}
	}
	for _, r := range shipped {
		see(r.macs, r.int8)
	}
	for _, g := range gs {
		see(g.macs, g.int8...)
		if !math.IsNaN(g.int8SD) {
			see(g.macs, g.int8Mean-g.int8SD, g.int8Mean+g.int8SD)
		}
	}
	padX := math.Max((maxX-minX)*0.1, 0.5)
	minX, maxX = minX-padX, maxX+padX
	minY, maxY = math.Floor((minY-0.2)*2)/2, math.Ceil((maxY+0.2)*2)/2
	px := func(x float64) int { return left + int((x-minX)/(maxX-minX)*float64(W-left-right)) }
	py := func(y float64) int { return H - bottom - int((y-minY)/(maxY-minY)*float64(H-top-bottom)) }
	for y := minY; y <= maxY+1e-9; y += 0.5 {
		hline(img, left, W-right, py(y), grey)
		text(8, py(y)+4, fmt.Sprintf("%.1f%%", y), black)
	}
	for x := math.Ceil(minX); x <= maxX; x++ {
		vline(img, px(x), top, H-bottom, grey)
		text(px(x)-4, H-bottom+16, fmt.Sprintf("%.0f", x), black)
	}
	hline(img, left, W-right, H-bottom, black)
	vline(img, left, top, H-bottom, black)
	text(W/2-80, H-18, "multiply-adds per image (millions)", black)
	for i, g := range gs {
		x := px(float64(g.macs) / 1e6)
		if i > 0 {
			p := gs[i-1]
			line(img, px(float64(p.macs)/1e6), py(p.int8Mean), x, py(g.int8Mean), blue)
		}
		if !math.IsNaN(g.int8SD) {
			lo, hi := py(g.int8Mean-g.int8SD), py(g.int8Mean+g.int8SD)
			vline(img, x, hi, lo, blue)
			hline(img, x-4, x+4, hi, blue)
			hline(img, x-4, x+4, lo, blue)
		}
		for _, v := range g.int8 {
			dot(img, x+8, py(v), 2, seedGrey)
		}
		dot(img, x, py(g.int8Mean), 4, blue)
		text(x+12, py(g.int8Mean)-6, fmt.Sprintf("a=%g n=%d", g.alpha, len(g.int8)), black)
	}
	for _, r := range shipped {
		ring(img, px(float64(r.macs)/1e6), py(r.int8), 5, orange)
	}
	lx := W - right - 230
	if len(gs) > 0 {
		dot(img, lx, top+10, 4, blue)
		text(lx+10, top+14, fmt.Sprintf("mean +/- SD over seeds, %d epochs", epochs), black)
		dot(img, lx, top+26, 2, seedGrey)
		text(lx+10, top+30, "each seed", black)
	}
	if len(shipped) > 0 {
		ring(img, lx, top+42, 5, orange)
		label := "shipped file"
		if m := epochsRe.FindStringSubmatch(shipped[0].rec); m != nil {
			label += ", " + m[1] + " epochs"
		}
		text(lx+10, top+46, label, black)
	}
	return encode(img)
}

func encode(img image.Image) []byte {
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		img.Set(x, y, c)
		img.Set(x, y+1, c)
	}
}

func dot(img *image.RGBA, cx, cy, r int, c color.Color) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r {
				img.Set(cx+x, cy+y, c)
			}
		}
	}
}

func ring(img *image.RGBA, cx, cy, r int, c color.Color) {
	for y := -r - 1; y <= r+1; y++ {
		for x := -r - 1; x <= r+1; x++ {
			d := x*x + y*y
			if d <= (r+1)*(r+1) && d >= (r-1)*(r-1) {
				img.Set(cx+x, cy+y, c)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
