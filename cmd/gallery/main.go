// Command gallery writes the test-image gallery of the demo page: for each
// image set (MNIST and Fashion-MNIST) a grey-level PNG sprite sheet of test
// images and a JSON index with their labels, into web/gallery/.
//
// It takes the first n/10 test images of every class, kept in test-set order,
// so the gallery is balanced and reproducible.
//
// Usage:
//
//	go run ./cmd/gallery [-out web/gallery] [-n 300] [-cols 30]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/octave-project/octave/octcore/dataset"
)

// Index is the JSON description of one sprite sheet.
type Index struct {
	Dataset string   `json:"dataset"`
	Split   string   `json:"split"`
	Sprite  string   `json:"sprite"`  // file name of the PNG, relative to the index
	Tile    int      `json:"tile"`    // tile width and height in pixels
	Cols    int      `json:"cols"`    // tiles per row of the sprite
	Count   int      `json:"count"`   // number of tiles
	Classes []string `json:"classes"` // class names, indexed by label
	Labels  []int    `json:"labels"`  // label of tile i
	Indices []int    `json:"indices"` // index of tile i in the test set
}

func main() {
	out := flag.String("out", "web/gallery", "output directory")
	n := flag.Int("n", 300, "images per set (a multiple of 10)")
	cols := flag.Int("cols", 30, "tiles per sprite row")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	for _, name := range dataset.Names() {
		if err := write(*out, name, *n, *cols); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gallery:", err)
	os.Exit(1)
}

// pick returns the indices of the first perClass images of every class, in
// set order.
func pick(s *dataset.Set, perClass int) []int {
	seen := make([]int, len(s.ClassNames))
	var idx []int
	for i, l := range s.Labels {
		if seen[l] < perClass {
			seen[l]++
			idx = append(idx, i)
		}
	}
	return idx
}

func write(dir, name string, n, cols int) error {
	s, err := dataset.Load(name, "test")
	if err != nil {
		return err
	}
	idx := pick(s, n/len(s.ClassNames))
	if s.Rows != s.Cols {
		return fmt.Errorf("%s: images are %dx%d, want square", name, s.Rows, s.Cols)
	}
	t := s.Rows
	rows := (len(idx) + cols - 1) / cols
	img := image.NewGray(image.Rect(0, 0, cols*t, rows*t))
	ix := Index{Dataset: name, Split: "test", Sprite: name + ".png", Tile: t, Cols: cols,
		Count: len(idx), Classes: s.ClassNames}
	for k, i := range idx {
		px := s.Image(i)
		x0, y0 := (k%cols)*t, (k/cols)*t
		for y := 0; y < t; y++ {
			copy(img.Pix[(y0+y)*img.Stride+x0:], px[y*t:(y+1)*t])
		}
		ix.Labels = append(ix.Labels, int(s.Labels[i]))
		ix.Indices = append(ix.Indices, i)
	}
	f, err := os.Create(filepath.Join(dir, ix.Sprite))
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	js, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d images -> %s, %s\n", name, len(idx), filepath.Join(dir, ix.Sprite), p)
	return nil
}
