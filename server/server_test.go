package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/octave-project/octave/internal/testmodel"
	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/imageio"
	"github.com/octave-project/octave/octcore/weights"
)

// modelFiles holds two random-weight models, generated once.
var modelFiles = sync.OnceValue(func() map[string][]byte {
	a, err := testmodel.File(0.5, 1)
	if err != nil {
		panic(err)
	}
	b, err := testmodel.File(0, 2)
	if err != nil {
		panic(err)
	}
	return map[string][]byte{"fashion-oct-a500.safetensors": a, "fashion-oct-a000.safetensors": b}
})

// countingFS counts the opens of each file and panics on "panic.safetensors".
type countingFS struct {
	fstest.MapFS
	mu    sync.Mutex
	opens map[string]int
}

func (c *countingFS) Open(name string) (fs.File, error) {
	if name == "panic.safetensors" {
		panic("test panic while opening a model")
	}
	c.mu.Lock()
	c.opens[name]++
	c.mu.Unlock()
	return c.MapFS.Open(name)
}

func (c *countingFS) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens[name]
}

func newTestServer(t *testing.T, extra map[string][]byte, static fs.FS) (*Server, *countingFS) {
	t.Helper()
	mfs := &countingFS{MapFS: fstest.MapFS{}, opens: map[string]int{}}
	for n, b := range modelFiles() {
		mfs.MapFS[n] = &fstest.MapFile{Data: b}
	}
	for n, b := range extra {
		mfs.MapFS[n] = &fstest.MapFile{Data: b}
	}
	mfs.MapFS["README.md"] = &fstest.MapFile{Data: []byte("not a model")}
	s, err := New(Options{Models: mfs, Static: static, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return s, mfs
}

// testImage is a 28x28 gray image: a bright shape on black, as in the
// Fashion-MNIST test set.
func testImage(seed int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			if x > 6+seed%5 && x < 22 && y > 4 && y < 24-seed%7 {
				img.SetGray(x, y, color.Gray{uint8(120 + (x*y+seed*31)%130)})
			}
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, h http.Handler, method, target, ctype string, body io.Reader) result {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// wantError checks an error response: its status, a JSON body with a
// non-empty "error" that contains want, and the CORS header.
func wantError(t *testing.T, r result, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var e struct{ Error string }
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not {\"error\": ...}: %v", r.body, err)
	}
	if !strings.Contains(e.Error, want) {
		t.Errorf("error %q does not contain %q", e.Error, want)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no CORS header on a %d", status)
	}
}

func TestHealthz(t *testing.T) {
	s, _ := newTestServer(t, nil, nil)
	r := do(t, s, "GET", "/healthz", "", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var h struct {
		Status  string
		Models  []string
		Default string
		Loaded  []string
	}
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.Default != "fashion-oct-a500" || len(h.Models) != 2 || len(h.Loaded) != 0 {
		t.Errorf("healthz = %+v, want ok, default fashion-oct-a500, 2 models, none loaded", h)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no CORS header")
	}
	if r := do(t, s, "HEAD", "/healthz", "", nil); r.status != 200 {
		t.Errorf("HEAD /healthz: %d", r.status)
	}
	r = do(t, s, "POST", "/healthz", "", nil)
	wantError(t, r, 405, "POST")
	if a := r.header.Get("Allow"); !strings.Contains(a, "GET") {
		t.Errorf("Allow %q", a)
	}
}

func TestModels(t *testing.T) {
	s, _ := newTestServer(t, nil, nil)
	r := do(t, s, "GET", "/api/v1/models", "", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var list struct {
		Default string
		Models  []ModelInfo
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Default != "fashion-oct-a500" || len(list.Models) != 2 {
		t.Fatalf("got default %q and %d models", list.Default, len(list.Models))
	}
	for _, m := range list.Models {
		wm, err := weights.Load(modelFiles()[m.File])
		if err != nil {
			t.Fatal(err)
		}
		g := wm.Graph
		c, err := octcore.CostOf(g, 28, 28)
		if err != nil {
			t.Fatal(err)
		}
		if m.Params != c.Params || m.MACs != c.MACs || len(m.Layers) != len(g) {
			t.Errorf("%s: params %d MACs %d layers %d, want %d %d %d", m.Name, m.Params, m.MACs, len(m.Layers), c.Params, c.MACs, len(g))
		}
		if len(m.Labels) != 10 || m.Input.Height != 28 || m.Default != (m.Name == "fashion-oct-a500") || m.Bytes != int64(len(modelFiles()[m.File])) {
			t.Errorf("%s: %+v", m.Name, m)
		}
	}
	wantError(t, do(t, s, "DELETE", "/api/v1/models", "", nil), 405, "DELETE")
}

func classifyOK(t *testing.T, s http.Handler, target, ctype string, body []byte) ClassifyResponse {
	t.Helper()
	r := do(t, s, "POST", target, ctype, bytes.NewReader(body))
	if r.status != 200 {
		t.Fatalf("POST %s: status %d: %s", target, r.status, r.body)
	}
	var res ClassifyResponse
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// reference runs the model file on img without the server: the result the
// API must give.
func reference(t *testing.T, file []byte, img image.Image) (octcore.Graph, *octcore.Net, []float64) {
	t.Helper()
	m, err := weights.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	in := m.Meta.Input
	x, err := imageio.Tensor(img, in.Channels, in.Height, in.Width, in.Mean, in.Std)
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	logits := out.H.Data[:out.H.C]
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return m.Graph, net, p
}

func TestClassify(t *testing.T) {
	s, mfs := newTestServer(t, nil, nil)
	img := testImage(3)
	_, _, want := reference(t, modelFiles()["fashion-oct-a500.safetensors"], img)
	for _, tc := range []struct {
		name, target, ctype string
		body                []byte
		k                   int
	}{
		{"png default", "/api/v1/classify", "image/png", pngBytes(t, img), 5},
		{"png top 3", "/api/v1/classify?model=fashion-oct-a500&top=3", "image/png", pngBytes(t, img), 3},
		{"top above classes", "/api/v1/classify?top=100", "image/png", pngBytes(t, img), 10},
		{"octet-stream", "/api/v1/classify?top=1", "application/octet-stream", pngBytes(t, img), 1},
		{"type with params", "/api/v1/classify?top=2", "image/png; charset=binary", pngBytes(t, img), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := classifyOK(t, s, tc.target, tc.ctype, tc.body)
			if res.Model != "fashion-oct-a500" || len(res.Top) != tc.k || res.MS < 0 {
				t.Fatalf("got %+v, want model fashion-oct-a500 and %d classes", res, tc.k)
			}
			for i, p := range res.Top {
				if i > 0 && p.Probability > res.Top[i-1].Probability {
					t.Errorf("not sorted: %+v", res.Top)
				}
				if math.Abs(p.Probability-want[p.Index]) > 1e-6 {
					t.Errorf("class %d: probability %v, the model alone gives %v", p.Index, p.Probability, want[p.Index])
				}
				if p.Label != testLabels[p.Index] {
					t.Errorf("class %d labelled %q, want %q", p.Index, p.Label, testLabels[p.Index])
				}
			}
		})
	}
	// JPEG (lossy: compared with the model on the decoded JPEG).
	jb := jpegBytes(t, img)
	dec, _, err := imageio.Decode(jb)
	if err != nil {
		t.Fatal(err)
	}
	_, _, wantJ := reference(t, modelFiles()["fashion-oct-a000.safetensors"], dec)
	res := classifyOK(t, s, "/api/v1/classify?model=fashion-oct-a000&top=10", "image/jpeg", jb)
	if res.Model != "fashion-oct-a000" || len(res.Top) != 10 {
		t.Fatalf("%+v", res)
	}
	var sum float64
	for _, p := range res.Top {
		sum += p.Probability
		if math.Abs(p.Probability-wantJ[p.Index]) > 1e-6 {
			t.Errorf("jpeg class %d: %v, want %v", p.Index, p.Probability, wantJ[p.Index])
		}
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("probabilities of all 10 classes sum to %v", sum)
	}
	// A colour image of another size is resized and reduced to luma.
	rgba := image.NewRGBA(image.Rect(0, 0, 100, 60))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 7)
	}
	classifyOK(t, s, "/api/v1/classify", "image/png", pngBytes(t, rgba))

	// Each model file was read once, however many requests.
	if n := mfs.count("fashion-oct-a500.safetensors"); n != 1 {
		t.Errorf("fashion-oct-a500 read %d times, want once", n)
	}
}

var testLabels = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

func TestClassifyWebP(t *testing.T) {
	data, err := os.ReadFile("testdata/shape.webp")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t, nil, nil)
	res := classifyOK(t, s, "/api/v1/classify?top=2", "image/webp", data)
	if len(res.Top) != 2 {
		t.Fatalf("%+v", res)
	}
}

func TestClassifyConcurrent(t *testing.T) {
	s, _ := newTestServer(t, nil, nil)
	const n = 24
	want := make([][]Prediction, 4)
	bodies := make([][]byte, 4)
	for i := range want {
		bodies[i] = pngBytes(t, testImage(i))
		want[i] = classifyOK(t, s, "/api/v1/classify?top=10", "image/png", bodies[i]).Top
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/api/v1/classify?top=10", bytes.NewReader(bodies[i%4]))
			req.Header.Set("Content-Type", "image/png")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			var res ClassifyResponse
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &res) != nil || fmt.Sprint(res.Top) != fmt.Sprint(want[i%4]) {
				bad.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d concurrent requests differ from the serial answers", bad.Load(), n)
	}
}

func TestClassifyErrors(t *testing.T) {
	s, _ := newTestServer(t, map[string][]byte{"broken.safetensors": []byte("not a model file")}, nil)
	img := pngBytes(t, testImage(1))
	big := make([]byte, DefaultMaxBody+1)
	copy(big, img)
	for _, tc := range []struct {
		name, method, target, ctype string
		body                        io.Reader
		status                      int
		want                        string
	}{
		{"GET", "GET", "/api/v1/classify", "", nil, 405, "POST"},
		{"PUT", "PUT", "/api/v1/classify", "image/png", bytes.NewReader(img), 405, "PUT"},
		{"no content type", "POST", "/api/v1/classify", "", bytes.NewReader(img), 415, "Content-Type"},
		{"text", "POST", "/api/v1/classify", "text/plain", bytes.NewReader(img), 415, "text/plain"},
		{"json", "POST", "/api/v1/classify", "application/json", strings.NewReader(`{}`), 415, "application/json"},
		{"form", "POST", "/api/v1/classify", "multipart/form-data; boundary=x", bytes.NewReader(img), 415, "multipart"},
		{"bad content type", "POST", "/api/v1/classify", "image/", bytes.NewReader(img), 415, "Content-Type"},
		{"too large", "POST", "/api/v1/classify", "image/png", bytes.NewReader(big), 413, "4194304"},
		{"too large chunked", "POST", "/api/v1/classify", "image/png", io.MultiReader(bytes.NewReader(big)), 413, "body over"},
		{"empty", "POST", "/api/v1/classify", "image/png", strings.NewReader(""), 400, "empty"},
		{"garbage", "POST", "/api/v1/classify", "image/png", strings.NewReader("this is not an image at all"), 400, "unknown image format"},
		{"truncated png", "POST", "/api/v1/classify", "image/png", bytes.NewReader(img[:len(img)/2]), 400, "png"},
		{"huge dimensions", "POST", "/api/v1/classify", "image/png", bytes.NewReader(hugePNGHeader(t)), 413, "too large"},
		{"unknown model", "POST", "/api/v1/classify?model=nope", "image/png", bytes.NewReader(img), 400, `unknown model "nope"`},
		{"model path", "POST", "/api/v1/classify?model=../fashion-oct-a500", "image/png", bytes.NewReader(img), 400, "unknown model"},
		{"top 0", "POST", "/api/v1/classify?top=0", "image/png", bytes.NewReader(img), 400, "top"},
		{"top word", "POST", "/api/v1/classify?top=five", "image/png", bytes.NewReader(img), 400, "top"},
		{"broken model file", "POST", "/api/v1/classify?model=broken", "image/png", bytes.NewReader(img), 500, "broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, tc.body)
			if tc.name == "too large chunked" {
				req.ContentLength = -1
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			wantError(t, result{rec.Code, rec.Header(), rec.Body.Bytes()}, tc.status, tc.want)
			if tc.status == 405 && !strings.Contains(rec.Header().Get("Allow"), "POST") {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
	// The broken model is listed as failed; the others still work.
	r := do(t, s, "GET", "/api/v1/models", "", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"failed":[{"name":"broken"`)) {
		t.Errorf("models with a broken file: %d %s", r.status, r.body)
	}
}

// hugePNGHeader is a PNG that claims 100000 x 100000 pixels.
func hugePNGHeader(t *testing.T) []byte {
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func decodePart(t *testing.T, p *MapPart, dtype string) []float32 {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	n := p.Shape[0] * p.Shape[1] * p.Shape[2]
	size := map[string]int{"float32": 4, "float16": 2}[dtype]
	if len(raw) != n*size {
		t.Fatalf("%d bytes for shape %v in %s", len(raw), p.Shape, dtype)
	}
	v := make([]float32, n)
	for i := range v {
		if dtype == "float16" {
			v[i] = weights.Float16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		} else {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	return v
}

func TestMaps(t *testing.T) {
	s, _ := newTestServer(t, nil, nil)
	img := testImage(5)
	_, net, _ := reference(t, modelFiles()["fashion-oct-a500.safetensors"], img)
	for _, tc := range []struct {
		layer, dtype string
		low          bool
	}{
		{"stage1.conv1", "", true},
		{"stage2.conv2", "float16", true},
		{"stem", "float32", false},
		{"stage3.conv2", "", false},
	} {
		t.Run(tc.layer+" "+tc.dtype, func(t *testing.T) {
			target := "/api/v1/maps?model=fashion-oct-a500&layer=" + tc.layer
			if tc.dtype != "" {
				target += "&dtype=" + tc.dtype
			}
			r := do(t, s, "POST", target, "image/png", bytes.NewReader(pngBytes(t, img)))
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var res MapsResponse
			if err := json.Unmarshal(r.body, &res); err != nil {
				t.Fatal(err)
			}
			dt := tc.dtype
			if dt == "" {
				dt = "float32"
			}
			if res.Layer != tc.layer || res.DType != dt || res.Encoding != "base64-le" || res.H == nil || (res.L != nil) != tc.low {
				t.Fatalf("got %s %s %s, H %v, L %v", res.Layer, res.DType, res.Encoding, res.H != nil, res.L != nil)
			}
			want, err := net.Output(tc.layer)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []struct {
				got  *MapPart
				want *octcore.Tensor
			}{{res.H, want.H}, {res.L, want.L}} {
				if part.got == nil {
					continue
				}
				if fmt.Sprint(part.got.Shape) != fmt.Sprint([]int{part.want.C, part.want.H, part.want.W}) {
					t.Fatalf("shape %v, want %dx%dx%d", part.got.Shape, part.want.C, part.want.H, part.want.W)
				}
				got := decodePart(t, part.got, dt)
				lo, hi := math.Inf(1), math.Inf(-1)
				for i, v := range got {
					w := part.want.Data[i]
					tol := 0.0
					if dt == "float16" {
						tol = math.Abs(float64(w))/1024 + 1e-7
					}
					if math.Abs(float64(v-w)) > tol {
						t.Fatalf("value %d: %v, want %v", i, v, w)
					}
					lo, hi = math.Min(lo, float64(w)), math.Max(hi, float64(w))
				}
				if part.got.Min != lo || part.got.Max != hi {
					t.Errorf("min/max %v/%v, want %v/%v", part.got.Min, part.got.Max, lo, hi)
				}
			}
		})
	}
	img1 := pngBytes(t, img)
	for _, tc := range []struct {
		target, ctype string
		status        int
		want          string
	}{
		{"/api/v1/maps?layer=nope", "image/png", 400, `unknown layer "nope"`},
		{"/api/v1/maps", "image/png", 400, "no layer"},
		{"/api/v1/maps?layer=stem&model=x", "image/png", 400, "unknown model"},
		{"/api/v1/maps?layer=stem&dtype=int8", "image/png", 400, "dtype"},
		{"/api/v1/maps?layer=stem", "text/html", 415, "text/html"},
	} {
		wantError(t, do(t, s, "POST", tc.target, tc.ctype, bytes.NewReader(img1)), tc.status, tc.want)
	}
	wantError(t, do(t, s, "GET", "/api/v1/maps?layer=stem", "", nil), 405, "GET")
}

func TestPreflightAndNotFound(t *testing.T) {
	s, _ := newTestServer(t, nil, nil)
	req := httptest.NewRequest("OPTIONS", "/api/v1/classify", nil)
	req.Header.Set("Origin", "https://example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	// Only the header the API reads is allowed, whatever the request asks.
	req.Header.Set("Access-Control-Request-Headers", "content-type, x-evil, authorization")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	h := rec.Header()
	if rec.Code != 204 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" ||
		h.Get("Allow") != "POST, OPTIONS" || h.Get("Access-Control-Allow-Headers") != "Content-Type" {
		t.Errorf("preflight: %d %v", rec.Code, h)
	}
	wantError(t, do(t, s, "GET", "/api/v2/models", "", nil), 404, "no route")
	wantError(t, do(t, s, "GET", "/", "", nil), 404, "no route")
}

func TestPanicRecovered(t *testing.T) {
	s, _ := newTestServer(t, map[string][]byte{"panic.safetensors": nil}, nil)
	img := pngBytes(t, testImage(1))
	wantError(t, do(t, s, "POST", "/api/v1/classify?model=panic", "image/png", bytes.NewReader(img)), 500, "internal error")
	// The server goes on serving.
	classifyOK(t, s, "/api/v1/classify", "image/png", img)
}

func TestStatic(t *testing.T) {
	static := fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><title>Octave</title>")},
		"dist/octave.wasm":      {Data: []byte("\x00asm plain")},
		"dist/octave.wasm.br":   {Data: []byte("brotli bytes")},
		"app.js":                {Data: []byte("export {}")},
		".secret":               {Data: []byte("no")},
		"gallery/fashion.json":  {Data: []byte("{}")},
		"models/shadowed.bytes": {Data: []byte("x")},
	}
	s, _ := newTestServer(t, nil, static)
	r := do(t, s, "GET", "/", "", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte("<title>Octave</title>")) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %d %q %v", r.status, r.body, r.header)
	}
	if r.header.Get("Content-Security-Policy") != PageCSP { // the page of octave serve
		t.Errorf("GET /: Content-Security-Policy %q, want PageCSP", r.header.Get("Content-Security-Policy"))
	}
	req := httptest.NewRequest("GET", "/dist/octave.wasm", nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "brotli bytes" || rec.Header().Get("Content-Encoding") != "br" || rec.Header().Get("Content-Type") != "application/wasm" {
		t.Errorf("wasm with br: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	r = do(t, s, "GET", "/dist/octave.wasm", "", nil)
	if r.status != 200 || string(r.body) != "\x00asm plain" || r.header.Get("Content-Encoding") != "" || r.header.Get("Content-Type") != "application/wasm" {
		t.Errorf("wasm without br: %d %q %v", r.status, r.body, r.header)
	}
	r = do(t, s, "GET", "/models/fashion-oct-a500.safetensors", "", nil)
	if r.status != 200 || !bytes.Equal(r.body, modelFiles()["fashion-oct-a500.safetensors"]) {
		t.Errorf("model file: %d, %d bytes", r.status, len(r.body))
	}
	if r := do(t, s, "GET", "/.secret", "", nil); r.status != 404 {
		t.Errorf("dot file: %d", r.status)
	}
	if r := do(t, s, "GET", "/missing.js", "", nil); r.status != 404 {
		t.Errorf("missing file: %d", r.status)
	}
	wantError(t, do(t, s, "POST", "/index.html", "text/plain", strings.NewReader("x")), 405, "POST")
	// The API still answers beside the page.
	if r := do(t, s, "GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz beside static: %d", r.status)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without models: no error")
	}
	mfs := fstest.MapFS{"b.safetensors": {Data: modelFiles()["fashion-oct-a000.safetensors"]}, "a.safetensors": {Data: []byte("x")}}
	s, err := New(Options{Models: mfs})
	if err != nil {
		t.Fatal(err)
	}
	if s.DefaultModel() != "a" || fmt.Sprint(s.ModelNames()) != "[a b]" {
		t.Errorf("default %q, names %v", s.DefaultModel(), s.ModelNames())
	}
	if _, err := New(Options{Models: mfs, DefaultModel: "c"}); err == nil {
		t.Error("unknown default model: no error")
	}
	s, err = New(Options{Models: fstest.MapFS{}})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, do(t, s, "POST", "/api/v1/classify", "image/png", bytes.NewReader(pngBytes(t, testImage(0)))), 400, "no models")
}
