package imageio

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore/weights"
)

// imagenet is the usual ImageNet input: shorter side to 256, centre 224.
var imagenet = weights.InputSpec{Channels: 3, Height: 224, Width: 224,
	Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}, ResizeShorter: 256, Crop: weights.CropCenter}

// TestPlanForImageNet checks the resize-and-crop geometry against the
// definition in torchvision's terms, computed here in floating point:
// Resize(256) makes the shorter side 256 and the longer int(256 * long /
// short); CenterCrop(224) starts at round((size - 224) / 2), Python's round
// (ties to even).
func TestPlanForImageNet(t *testing.T) {
	for _, c := range []struct{ w, h int }{{97, 61}, {61, 97}, {256, 256}, {300, 512}, {225, 224}, {50, 1000}, {4000, 3000}, {257, 256}, {259, 256}, {261, 256}} {
		p, err := PlanFor(c.w, c.h, imagenet, Options{Longer: 99, Width: 0})
		if err != nil {
			t.Fatalf("%dx%d: %v", c.w, c.h, err)
		}
		sw, sh := 256, 256
		if c.w < c.h {
			sh = int(math.Trunc(256 * float64(c.h) / float64(c.w)))
		} else if c.w > c.h {
			sw = int(math.Trunc(256 * float64(c.w) / float64(c.h)))
		}
		x0 := int(math.RoundToEven(float64(sw-224) / 2))
		y0 := int(math.RoundToEven(float64(sh-224) / 2))
		want := Plan{sw, sh, image.Rect(x0, y0, x0+224, y0+224)}
		if p != want {
			t.Errorf("%dx%d: plan %+v, want %+v", c.w, c.h, p, want)
		}
	}
}

// TestPlanForRules checks the other rules of PlanFor.
func TestPlanForRules(t *testing.T) {
	fixed := weights.InputSpec{Channels: 1, Height: 28, Width: 28}
	cover := weights.InputSpec{Channels: 1, Height: 20, Width: 30, Crop: weights.CropCenter}
	anySize := weights.InputSpec{Channels: 1}
	shorter := weights.InputSpec{Channels: 1, ResizeShorter: 64}
	whole := func(w, h int) Plan { return Plan{w, h, image.Rect(0, 0, w, h)} }
	for _, c := range []struct {
		w, h int
		in   weights.InputSpec
		o    Options
		want Plan
	}{
		{97, 61, fixed, Options{}, whole(28, 28)},
		{97, 61, fixed, Options{Width: 10, Height: 5}, whole(10, 5)},
		{97, 61, imagenet, Options{Width: 10, Height: 5}, whole(10, 5)},
		{97, 61, anySize, Options{}, whole(97, 61)},
		{97, 61, anySize, Options{Longer: 224}, whole(224, 141)}, // 61*224/97 = 140.87
		{61, 97, anySize, Options{Longer: 224}, whole(141, 224)},
		{97, 61, shorter, Options{Longer: 224}, whole(101, 64)}, // int(64*97/61) = int(101.77)
		{60, 60, cover, Options{}, Plan{30, 30, image.Rect(0, 5, 30, 25)}},
		{90, 30, cover, Options{}, Plan{60, 20, image.Rect(15, 0, 45, 20)}},
	} {
		p, err := PlanFor(c.w, c.h, c.in, c.o)
		if err != nil || p != c.want {
			t.Errorf("%dx%d %+v %+v: %+v, %v; want %+v", c.w, c.h, c.in, c.o, p, err, c.want)
		}
	}
	for _, c := range []struct {
		w, h int
		in   weights.InputSpec
		o    Options
		want string
	}{
		{0, 5, fixed, Options{}, "0x5"},
		{5, 5, fixed, Options{Width: 3}, "options size 3x0"},
		{5, 5, anySize, Options{Longer: 20000}, "more than the engine takes"},
		{5, 5, weights.InputSpec{Channels: 1, Height: 4, Width: 4, Crop: "top"}, Options{}, `crop "top"`},
	} {
		if _, err := PlanFor(c.w, c.h, c.in, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%dx%d %+v %+v: error %v, want one that says %q", c.w, c.h, c.in, c.o, err, c.want)
		}
	}
}

// coords is an image whose pixel (x, y) is (x, y, x^y) in its low bits, so
// that a crop can be checked pixel by pixel.
func coords(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}

// TestInputCrop: an image whose shorter side already has resize_shorter
// pixels is only cropped; the tensor holds exactly the centre window.
func TestInputCrop(t *testing.T) {
	in := weights.InputSpec{Channels: 3, Height: 6, Width: 4, Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, ResizeShorter: 8, Crop: weights.CropCenter}
	for _, c := range []struct{ w, h, x0, y0 int }{{8, 13, 2, 4}, {11, 8, 4, 1}, {8, 8, 2, 1}} {
		for _, img := range []image.Image{coords(c.w, c.h), opaque{coords(c.w, c.h)}} {
			x, err := Input(img, in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if x.C != 3 || x.H != 6 || x.W != 4 {
				t.Fatalf("shape %v", x.Shape())
			}
			for y := 0; y < 6; y++ {
				for xx := 0; xx < 4; xx++ {
					X, Y := xx+c.x0, y+c.y0
					want := []int{X, Y, X ^ Y}
					for ch := 0; ch < 3; ch++ {
						if got := x.At(ch, y, xx) * 255; math.Abs(float64(got)-float64(want[ch])) > 1e-3 {
							t.Fatalf("%dx%d %T: (%d, %d, %d) = %v/255, want %d", c.w, c.h, img, ch, y, xx, got, want[ch])
						}
					}
				}
			}
		}
	}
}

// opaque hides an image's concrete type (and SubImage), for the general paths.
type opaque struct{ image.Image }

// TestInputResizeCrop: a resize then crop equals Resize to the planned size
// followed by taking the window by hand; the mean and std apply per channel.
func TestInputResizeCrop(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	img := image.NewNRGBA(image.Rect(0, 0, 97, 61))
	r.Read(img.Pix)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	x, err := Input(img, imagenet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := PlanFor(97, 61, imagenet, Options{})
	big := Resize(img, p.Width, p.Height)
	for y := 0; y < 224; y += 7 {
		for xx := 0; xx < 224; xx += 5 {
			px := big.RGBAAt(p.Crop.Min.X+xx, p.Crop.Min.Y+y)
			for c, v := range []uint8{px.R, px.G, px.B} {
				want := (float64(v)/255 - float64(imagenet.Mean[c])) / float64(imagenet.Std[c])
				if d := math.Abs(float64(x.At(c, y, xx)) - want); d > 1e-5 {
					t.Fatalf("(%d, %d, %d) = %v, want %v", c, y, xx, x.At(c, y, xx), want)
				}
			}
		}
	}
}

// TestPixelsPremultiplied: browser pixels (not premultiplied) give what
// color.NRGBA's own conversion gives, transparent ones over black.
func TestPixelsPremultiplied(t *testing.T) {
	raw := []byte{200, 100, 50, 255, 200, 100, 50, 128, 255, 255, 255, 0, 9, 99, 199, 77}
	img, err := Pixels(raw, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	in := weights.InputSpec{Channels: 3, Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	fast, err := Input(img, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	slow, _ := Input(opaque{img}, in, Options{})
	for i := 0; i < 4; i++ {
		c := color.NRGBA{raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3]}
		r, g, b, _ := c.RGBA()
		for ch, v := range []uint32{r, g, b} {
			want := float32(v) / 0xffff
			if got := fast.Data[ch*4+i]; got != want || slow.Data[ch*4+i] != want {
				t.Errorf("pixel %d channel %d: %v (general path %v), want %v", i, ch, got, slow.Data[ch*4+i], want)
			}
		}
	}
	for _, c := range []struct {
		n, w, h int
		want    string
	}{{15, 2, 2, "need 16 RGBA bytes, got 15"}, {0, 0, 1, "0x1"}, {4, 1 << 14, 1, "16384x1"}} {
		if _, err := Pixels(make([]byte, c.n), c.w, c.h); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Pixels(%d bytes, %dx%d): %v, want %q", c.n, c.w, c.h, err, c.want)
		}
	}
}

// ExampleInput prepares a 640x480 photo as the usual ImageNet input: the
// shorter side scaled to 256, the centre 224x224 taken, normalized per
// channel.
func ExampleInput() {
	in := weights.InputSpec{Channels: 3, Height: 224, Width: 224,
		Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225},
		ResizeShorter: 256, Crop: weights.CropCenter}
	p, _ := PlanFor(640, 480, in, Options{})
	fmt.Println("scaled to", p.Width, "x", p.Height, "then the window", p.Crop)
	x, _ := Input(image.NewRGBA(image.Rect(0, 0, 640, 480)), in, Options{})
	fmt.Println(x.Shape())
	// Output:
	// scaled to 341 x 256 then the window (58,16)-(282,240)
	// [3 224 224]
}
