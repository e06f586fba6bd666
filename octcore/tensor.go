// Package octcore is a float32 engine for Octave Convolution (OctConv) networks.
//
// A feature map is a [Tensor] stored channel-major. The value that flows
// between the layers of a network is a [Feature]: a high-frequency part at
// full resolution and a low-frequency part at half resolution (ceil mode), either
// of which may be absent. A network is a plain list of [Layer] definitions
// ([Graph]); [Build] checks it and returns a [Net] that runs it layer by layer,
// so that the high and low outputs of every layer can be read.
//
// The engine is pure Go. It builds natively and for GOOS=js GOARCH=wasm; with
// GOEXPERIMENT=simd (Go 1.27) its inner kernels use the portable simd package,
// otherwise a scalar fallback computes the same results.
package octcore

// Tensor is a dense float32 map of C channels of H x W pixels. Element
// (c, y, x) is stored at Data[(c*H+y)*W+x].
type Tensor struct {
	C, H, W int
	Data    []float32
}

// NewTensor returns a zeroed tensor of shape c x h x w.
func NewTensor(c, h, w int) *Tensor {
	return &Tensor{C: c, H: h, W: w, Data: make([]float32, c*h*w)}
}

// TensorFrom wraps data as a c x h x w tensor. It returns an error when the
// length of data does not match the shape.
func TensorFrom(c, h, w int, data []float32) (*Tensor, error) {
	if c < 0 || h < 0 || w < 0 {
		return nil, errorf("octcore: negative tensor shape %dx%dx%d", c, h, w)
	}
	if len(data) != c*h*w {
		return nil, errorf("octcore: tensor shape %dx%dx%d needs %d values, got %d", c, h, w, c*h*w, len(data))
	}
	return &Tensor{C: c, H: h, W: w, Data: data}, nil
}

// At returns element (c, y, x).
func (t *Tensor) At(c, y, x int) float32 { return t.Data[(c*t.H+y)*t.W+x] }

// Set stores v at element (c, y, x).
func (t *Tensor) Set(c, y, x int, v float32) { t.Data[(c*t.H+y)*t.W+x] = v }

// Channel returns the H*W values of channel c, sharing storage with t.
func (t *Tensor) Channel(c int) []float32 { return t.Data[c*t.H*t.W : (c+1)*t.H*t.W] }

// Len returns the number of elements, C*H*W.
func (t *Tensor) Len() int { return t.C * t.H * t.W }

// Shape returns [C, H, W].
func (t *Tensor) Shape() [3]int { return [3]int{t.C, t.H, t.W} }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{C: t.C, H: t.H, W: t.W, Data: append([]float32(nil), t.Data...)}
}

// Feature is the value that flows between layers of an OctConv network: the
// high-frequency part H at full resolution and the low-frequency part L at
// half resolution (ceil(h/2) x ceil(w/2)). A vanilla feature map has L == nil;
// a feature with alpha = 1 has H == nil.
type Feature struct {
	H, L *Tensor
}

// Channels returns the total channel count of both parts.
func (f Feature) Channels() int {
	n := 0
	if f.H != nil {
		n += f.H.C
	}
	if f.L != nil {
		n += f.L.C
	}
	return n
}

// half returns ceil(n/2), the size of a 2x2 ceil-mode pooled axis.
func half(n int) int { return (n + 1) / 2 }

// Split returns the channel split of c channels at ratio alpha as PyTorch
// and the official OctConv code compute it: cL = int(alpha*c), the float64
// product truncated toward zero (Python's int), and cH = c - cL. No epsilon:
// at alpha 0.7 and c 90 the product is 62.99999999999999, so cL is 62.
func Split(c int, alpha float64) (cH, cL int) {
	p := alpha * float64(c)
	cL = int(p) // truncation, as Python's int(); alpha and c are non-negative
	if cL > c {
		cL = c
	}
	if cL < 0 {
		cL = 0
	}
	return c - cL, cL
}

// SplitNote explains the split of c channels at alpha in words, for errors:
// "alpha 0.7 of 90 channels gives 62 low channels, int(alpha*c), and 28 high".
func SplitNote(c int, alpha float64) string { return splitNote("alpha", c, alpha) }

func splitNote(label string, c int, alpha float64) string {
	cH, cL := Split(c, alpha)
	return sprintf("%s %v of %d channels gives %d low channels, int(alpha*c), and %d high", label, alpha, c, cL, cH)
}
