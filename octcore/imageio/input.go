package imageio

import (
	"fmt"
	"image"

	"golang.org/x/image/draw"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// Options are a caller's say in how an image becomes a model's input, where
// the model's input metadata leaves it open or the caller overrides it.
type Options struct {
	// Width and Height, when both are set, resize the image to exactly that
	// size (stretching it), in place of the model's size and preprocessing.
	Width, Height int
	// Longer, for a model that takes any size and states no resize_shorter,
	// scales the image (aspect kept) so that its longer side has this many
	// pixels; 0 keeps the image's own size.
	Longer int
}

// Plan is the geometry of turning a W x H image into a network input: the
// image is resized to Width x Height, then the window Crop of that is taken
// (all of it when there is no crop).
type Plan struct {
	Width, Height int
	Crop          image.Rectangle
}

// PlanFor returns the geometry for a w x h image, a model input spec and the
// caller's options. The rules, in order:
//
//   - Options.Width x Height: stretch to that size.
//   - A model of fixed size with crop "center": scale (aspect kept) so that
//     the shorter side is resize_shorter pixels, or, without resize_shorter,
//     the least that covers height x width; then take the centre height x
//     width window. As torchvision's Resize(n) and CenterCrop: the longer
//     side is int(n * longer / shorter), truncated, and the window's offset
//     is round((scaled - crop) / 2), ties to even.
//   - A model of fixed size without a crop: stretch to height x width.
//   - A model of any size with resize_shorter: scale the shorter side to it.
//   - A model of any size, Options.Longer > 0: scale the longer side to it
//     (the other side rounded, at least 1), as [FitLonger].
//   - Otherwise the image's own size.
func PlanFor(w, h int, in weights.InputSpec, o Options) (Plan, error) {
	if w <= 0 || h <= 0 {
		return Plan{}, fmt.Errorf("imageio: an image of %dx%d pixels", w, h)
	}
	if (o.Width == 0) != (o.Height == 0) || o.Width < 0 || o.Height < 0 || o.Longer < 0 {
		return Plan{}, fmt.Errorf("imageio: options size %dx%d, longer side %d", o.Width, o.Height, o.Longer)
	}
	if (in.Height == 0) != (in.Width == 0) || in.Height < 0 || in.Width < 0 || in.ResizeShorter < 0 {
		return Plan{}, fmt.Errorf("imageio: model input size %dx%d, resize_shorter %d", in.Height, in.Width, in.ResizeShorter)
	}
	whole := func(w, h int) Plan { return Plan{w, h, image.Rect(0, 0, w, h)} }
	var p Plan
	switch {
	case o.Width > 0:
		p = whole(o.Width, o.Height)
	case in.Height > 0 && in.Crop == weights.CropCenter:
		cw, ch := in.Width, in.Height
		var sw, sh int
		if n := in.ResizeShorter; n > 0 {
			sw, sh = shorterTo(w, h, n)
		} else if w*ch >= h*cw { // wider than the crop: fit the height
			sw, sh = max(cw, (w*ch+h/2)/h), ch
		} else {
			sw, sh = cw, max(ch, (h*cw+w/2)/w)
		}
		if sw < cw || sh < ch {
			return Plan{}, fmt.Errorf("imageio: a %dx%d image scaled to %dx%d is smaller than the %dx%d crop", w, h, sw, sh, cw, ch)
		}
		x0, y0 := halfEven(sw-cw), halfEven(sh-ch)
		p = Plan{sw, sh, image.Rect(x0, y0, x0+cw, y0+ch)}
	case in.Height > 0:
		if in.Crop != "" {
			return Plan{}, fmt.Errorf("imageio: unknown crop %q", in.Crop)
		}
		p = whole(in.Width, in.Height)
	case in.ResizeShorter > 0:
		p = whole(shorterTo(w, h, in.ResizeShorter))
	case o.Longer > 0:
		if w >= h {
			p = whole(o.Longer, max(1, (h*o.Longer+w/2)/w))
		} else {
			p = whole(max(1, (w*o.Longer+h/2)/h), o.Longer)
		}
	default:
		p = whole(w, h)
	}
	if p.Width > MaxSide || p.Height > MaxSide || p.Crop.Dx()*p.Crop.Dy() > octcore.MaxInputPixels {
		return Plan{}, fmt.Errorf("imageio: a %dx%d image would be scaled to %dx%d, more than the engine takes (%d pixels a side, %d in all)",
			w, h, p.Width, p.Height, MaxSide, octcore.MaxInputPixels)
	}
	return p, nil
}

// shorterTo scales w x h so that its shorter side is n: the longer side is
// int(n * longer / shorter), truncated, as torchvision computes it.
func shorterTo(w, h, n int) (int, int) {
	if w <= h {
		return n, max(1, int(float64(n*h)/float64(w)))
	}
	return max(1, int(float64(n*w)/float64(h))), n
}

// halfEven is round(d / 2) with ties to even, as Python's round: the offset
// of a centre crop that leaves d pixels over.
func halfEven(d int) int {
	q := d / 2
	if d%2 == 1 && q%2 == 1 {
		q++
	}
	return q
}

// Input turns img into a model's input as [PlanFor] says, then as [Tensor]
// converts and normalizes it with the spec's channels, mean and std.
func Input(img image.Image, in weights.InputSpec, o Options) (*octcore.Tensor, error) {
	b := img.Bounds()
	p, err := PlanFor(b.Dx(), b.Dy(), in, o)
	if err != nil {
		return nil, err
	}
	if p.Width != b.Dx() || p.Height != b.Dy() {
		img = Resize(img, p.Width, p.Height)
		b = img.Bounds()
	}
	if p.Crop.Dx() != b.Dx() || p.Crop.Dy() != b.Dy() {
		sub, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		})
		if !ok { // every image type of the standard library has SubImage
			rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
			sub, b = rgba, rgba.Bounds()
		}
		img = sub.SubImage(p.Crop.Add(b.Min))
	}
	return Tensor(img, in.Channels, p.Crop.Dy(), p.Crop.Dx(), in.Mean, in.Std)
}

// Pixels wraps RGBA bytes (4 a pixel, row by row, not premultiplied, as a
// browser's ImageData holds them) as an image, without copying them.
func Pixels(rgba []byte, width, height int) (*image.NRGBA, error) {
	if width <= 0 || height <= 0 || width > MaxSide || height > MaxSide || width*height > MaxPixels {
		return nil, fmt.Errorf("imageio: pixels of %dx%d: each side 1..%d, at most %d in all", width, height, MaxSide, MaxPixels)
	}
	if len(rgba) != 4*width*height {
		return nil, fmt.Errorf("imageio: %dx%d pixels need %d RGBA bytes, got %d", width, height, 4*width*height, len(rgba))
	}
	return &image.NRGBA{Pix: rgba, Stride: 4 * width, Rect: image.Rect(0, 0, width, height)}, nil
}
