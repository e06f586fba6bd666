package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octave-project/octave/internal/bombs"
	"github.com/octave-project/octave/internal/e2e"
	"github.com/octave-project/octave/server"
)

// TestWorker runs the built worker (make worker) in wrangler dev, offline,
// and checks it over HTTP against the same handler run natively: the page,
// the models, a classification of a test image of the gallery (with the
// right label when the trained default model is shipped), the maps, the
// errors, and concurrent requests. make test-worker runs it; plain `go test`
// skips it unless OCTAVE_WORKER_E2E=1.
func TestWorker(t *testing.T) {
	if os.Getenv("OCTAVE_WORKER_E2E") != "1" {
		t.Skip("set OCTAVE_WORKER_E2E=1 (make test-worker) to run the built worker in wrangler dev")
	}
	if _, err := os.Stat("build/app.wasm"); err != nil {
		t.Fatalf("no built worker: run make worker first (%v)", err)
	}
	wrangler, err := filepath.Abs("../node_modules/.bin/wrangler")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(wrangler); err != nil {
		t.Fatalf("wrangler is not installed: run npm ci (%v)", err)
	}
	port, inspector := freePort(t), freePort(t)
	start := time.Now()
	p, err := e2e.Start(".", e2e.OfflineEnv(), 90*time.Second, wrangler, "dev",
		"--ip", "127.0.0.1", "--port", strconv.Itoa(port), "--inspector-port", strconv.Itoa(inspector),
		"--show-interactive-dev-session=false")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		p.Stop()
		if t.Failed() {
			t.Logf("wrangler output:\n%s", p.Log())
		}
	}()
	t.Logf("wrangler dev ready at %s in %v", p.URL, time.Since(start).Round(time.Millisecond))

	// The same models, natively, for reference.
	native, err := server.New(server.Options{Models: os.DirFS("models")})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 60 * time.Second}

	var list struct {
		Default string
		Models  []server.ModelInfo
	}
	getJSON(t, client, p.URL+"/api/v1/models", &list)
	if len(list.Models) == 0 || list.Default == "" {
		t.Fatalf("worker lists no models: %+v", list)
	}
	var def server.ModelInfo
	for _, m := range list.Models {
		if m.Name == list.Default {
			def = m
		}
	}
	t.Logf("worker models: %v, default %s", native.ModelNames(), list.Default)

	g, err := e2e.LoadGallery("../web/gallery", "fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	const tiles = 10
	correct := 0
	for i := 0; i < tiles; i++ {
		img, err := g.PNG(i)
		if err != nil {
			t.Fatal(err)
		}
		got := classify(t, client, p.URL, img)
		want := classifyNative(t, native, img)
		if got.Model != list.Default || len(got.Top) != 5 || want.Top[0].Index != got.Top[0].Index {
			t.Fatalf("image %d: worker %+v, native %+v", i, got, want)
		}
		for j, pr := range got.Top {
			if pr.Label != def.Labels[pr.Index] || (j > 0 && pr.Probability > got.Top[j-1].Probability) {
				t.Errorf("image %d: bad top list %+v", i, got.Top)
			}
			if math.Abs(pr.Probability-want.Top[j].Probability) > 1e-4 {
				t.Errorf("image %d class %d: worker %v, native %v", i, pr.Index, pr.Probability, want.Top[j].Probability)
			}
		}
		if got.Top[0].Index == g.Labels[i] {
			correct++
		}
		if i == 0 {
			t.Logf("image 0 (a %s): worker says %s (%.1f%%) in %v ms", g.Classes[g.Labels[0]], got.Top[0].Label, 100*got.Top[0].Probability, got.MS)
		}
	}
	t.Run("label", func(t *testing.T) {
		if list.Default != "fashion-oct-a500" || def.Provenance["dataset"] != "fashion-mnist" {
			t.Skipf("the worker ships %s, not the trained Fashion-MNIST model fashion-oct-a500 (models/weights/ has no trained default yet): checked the answers' shape and agreement with the native server only", list.Default)
		}
		first := classify(t, client, p.URL, mustPNG(t, g, 0))
		if first.Top[0].Index != g.Labels[0] {
			t.Errorf("test image 0 is a %s, the worker says %s", g.Classes[g.Labels[0]], first.Top[0].Label)
		}
		if correct < 8 {
			t.Errorf("%d of %d test images labelled right, want at least 8", correct, tiles)
		}
		fmt.Printf("worker: %d of %d gallery test images labelled right by %s\n", correct, tiles, list.Default)
	})

	t.Run("maps", func(t *testing.T) {
		layer := def.Layers[2]
		res, body := post(t, client, p.URL+"/api/v1/maps?layer="+layer.Name, "image/png", mustPNG(t, g, 1))
		if res.StatusCode != 200 {
			t.Fatalf("maps: %d %s", res.StatusCode, body)
		}
		var m server.MapsResponse
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Layer != layer.Name || m.H == nil || fmt.Sprint(m.H.Shape) != fmt.Sprint(layer.High) || (m.L == nil) != (layer.Low == nil) {
			t.Errorf("maps of %s: %+v, want shapes %v %v", layer.Name, m, layer.High, layer.Low)
		}
	})

	t.Run("errors", func(t *testing.T) {
		img := mustPNG(t, g, 2)
		for _, tc := range []struct {
			method, path, ctype string
			body                []byte
			status              int
		}{
			{"POST", "/api/v1/classify", "text/plain", img, 415},
			{"POST", "/api/v1/classify", "image/png", make([]byte, server.DefaultMaxBody+1), 413},
			{"POST", "/api/v1/classify", "image/png", []byte("not an image"), 400},
			{"POST", "/api/v1/classify?model=nope", "image/png", img, 400},
			{"POST", "/api/v1/maps?layer=nope", "image/png", img, 400},
			{"GET", "/api/v1/classify", "", nil, 405},
			{"GET", "/api/v1/nothing", "", nil, 404},
		} {
			req, _ := http.NewRequest(tc.method, p.URL+tc.path, bytes.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var e struct{ Error string }
			if res.StatusCode != tc.status || json.Unmarshal(b, &e) != nil || e.Error == "" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s %s (%s): %d %s, want %d with a JSON error and CORS", tc.method, tc.path, tc.ctype, res.StatusCode, b, tc.status)
			}
		}
		req, _ := http.NewRequest("OPTIONS", p.URL+"/api/v1/classify", nil)
		req.Header.Set("Origin", "http://example.test")
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
		}
	})

	t.Run("static", func(t *testing.T) {
		res, err := client.Get(p.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(b, []byte("<html")) {
			t.Errorf("GET /: %d, %d bytes", res.StatusCode, len(b))
		}
		assetHeaders := func(what string, h http.Header) {
			t.Helper()
			if h.Get("Content-Security-Policy") != server.PageCSP || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: the asset lacks the headers of octave serve (CSP, nosniff, CORS): %v", what, h)
			}
		}
		assetHeaders("GET /", res.Header)
		if res, err := client.Get(p.URL + "/_headers"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				t.Error("GET /_headers: 200, the headers file is served")
			}
		}
		want, err := os.ReadFile(filepath.Join("models", def.File))
		if err != nil {
			t.Fatal(err)
		}
		res, err = client.Get(p.URL + def.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Equal(b, want) {
			t.Errorf("GET %s: %d, %d bytes, want %d", def.URL, res.StatusCode, len(b), len(want))
		}
		assetHeaders("GET "+def.URL, res.Header)
	})

	t.Run("concurrent", func(t *testing.T) {
		imgs := make([][]byte, 4)
		want := make([]string, 4)
		for i := range imgs {
			imgs[i] = mustPNG(t, g, 10+i)
			want[i] = fmt.Sprint(classifyNative(t, native, imgs[i]).Top[0].Index)
		}
		var wg sync.WaitGroup
		errs := make(chan string, 24)
		sem := make(chan struct{}, 8)
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				req, _ := http.NewRequest("POST", p.URL+"/api/v1/classify?top=1", bytes.NewReader(imgs[i%4]))
				req.Header.Set("Content-Type", "image/png")
				res, err := client.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				var c server.ClassifyResponse
				err = json.NewDecoder(res.Body).Decode(&c)
				res.Body.Close()
				if res.StatusCode != 200 || err != nil || len(c.Top) != 1 || fmt.Sprint(c.Top[0].Index) != want[i%4] {
					errs <- fmt.Sprintf("request %d: %d %+v %v", i, res.StatusCode, c, err)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})

	t.Run("hostile", func(t *testing.T) { hostile(t, p, client, mustPNG(t, g, 3)) })

	// wrangler's own layer logs "Uncaught Error: Network connection lost."
	// when a client goes away in the middle of its body, as the slow
	// uploader above does, whatever the worker does (a worker that only
	// catches the read's error logs it too); any other uncaught error is
	// the worker's.
	log := strings.ReplaceAll(p.Log(), "Uncaught Error: Network connection lost.", "")
	for _, bad := range []string{"different request", "Uncaught", "hanging Promise"} {
		if strings.Contains(log, bad) {
			t.Errorf("wrangler logged %q", bad)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func mustPNG(t *testing.T, g *e2e.Gallery, i int) []byte {
	t.Helper()
	b, err := g.PNG(i)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func getJSON(t *testing.T, c *http.Client, url string, v any) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func post(t *testing.T, c *http.Client, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func classify(t *testing.T, c *http.Client, base string, img []byte) server.ClassifyResponse {
	t.Helper()
	res, body := post(t, c, base+"/api/v1/classify", "image/png", img)
	if res.StatusCode != 200 {
		t.Fatalf("classify: %d %s", res.StatusCode, body)
	}
	var r server.ClassifyResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func classifyNative(t *testing.T, h http.Handler, img []byte) server.ClassifyResponse {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/classify", bytes.NewReader(img))
	req.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r server.ClassifyResponse
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &r) != nil {
		t.Fatalf("native classify: %d %s", rec.Code, rec.Body)
	}
	return r
}

// hostile checks issue 18's Worker items in wrangler dev: a slow uploader
// and an image bomb delay a normal classification by at most a second, an
// over-limit chunked body gets 413 and leaves the next request unharmed, and
// the Go program's WebAssembly memory stays within the isolate's 128 MB.
func hostile(t *testing.T, p *e2e.Proc, client *http.Client, img []byte) {
	host := strings.TrimPrefix(p.URL, "http://")
	timed := func() time.Duration {
		t.Helper()
		t0 := time.Now()
		res, body := post(t, client, p.URL+"/api/v1/classify?top=1", "image/png", img)
		if res.StatusCode != 200 {
			t.Fatalf("classify: %d %s", res.StatusCode, body)
		}
		return time.Since(t0)
	}
	alone := timed()

	// A client sends a 100-byte body one byte a second (at most 8 bytes,
	// then it gives up); a normal classification meanwhile.
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/classify HTTP/1.1\r\nHost: %s\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n", host)
	stop := make(chan struct{})
	dripped := make(chan struct{})
	go func() {
		defer close(dripped)
		for i := 0; i < 8; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				conn.Write([]byte{0x89})
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	slow := timed()
	select {
	case <-dripped:
		// Not a timing check: the slow body is never complete, so with
		// head-of-line blocking the classification could not have been
		// answered before the slow client gave up.
		t.Errorf("a classification beside a 1 byte/s upload was answered only after that client gave up (%v)", slow)
	default:
	}
	close(stop)
	<-dripped
	conn.Close()

	// The largest image the Worker decodes (MaxPixels), sent beside a
	// normal classification: the Go program is single-threaded, so the
	// normal request waits for that decode.
	side := int(math.Sqrt(MaxPixels))
	bomb := bombs.DeflateTIFF(side, side, 1)
	bombDone := make(chan string, 1)
	go func() {
		t0 := time.Now()
		res, err := client.Post(p.URL+"/api/v1/classify?top=1", "image/tiff", bytes.NewReader(bomb))
		if err != nil {
			bombDone <- err.Error()
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		bombDone <- fmt.Sprintf("%d in %v", res.StatusCode, time.Since(t0).Round(time.Millisecond))
	}()
	time.Sleep(100 * time.Millisecond)
	besideBomb := timed()
	bombResult := <-bombDone

	fmt.Printf("worker: classify alone %v, beside a 1 byte/s upload %v, beside a %dx%d TIFF (%s) %v\n",
		alone.Round(time.Millisecond), slow.Round(time.Millisecond), side, side, bombResult, besideBomb.Round(time.Millisecond))
	if !strings.HasPrefix(bombResult, "200 ") {
		t.Errorf("the largest admitted TIFF: %s, want 200", bombResult)
	}
	// One pixel more is refused from the header, before any decoding.
	res, body := post(t, client, p.URL+"/api/v1/classify", "image/tiff", bombs.DeflateTIFF(side+1, side, 1))
	if res.StatusCode != 413 || !strings.Contains(string(body), "megapixels") {
		t.Errorf("a TIFF over MaxPixels: %d %s, want 413", res.StatusCode, body)
	}

	// Over the limit: a chunked 5 MiB body, then the next request on the
	// same connection (when the server keeps it) and on a new one.
	conn, err = net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/classify HTTP/1.1\r\nHost: %s\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n", host)
	wrote := make(chan error, 1)
	go func() {
		chunk := make([]byte, 64<<10)
		w := bufio.NewWriter(conn)
		for i := 0; i < 80; i++ { // 5 MiB
			fmt.Fprintf(w, "%x\r\n", len(chunk))
			w.Write(chunk)
			w.WriteString("\r\n")
		}
		w.WriteString("0\r\n\r\n")
		wrote <- w.Flush()
	}()
	br := bufio.NewReader(conn)
	res, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("chunked 5 MiB body: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(b), "body over") {
		t.Errorf("chunked 5 MiB body: %d %s, want 413", res.StatusCode, b)
	}
	if err := <-wrote; err != nil {
		fmt.Printf("worker: over-limit chunked body: 413, the server stopped reading (%v)\n", err)
	} else if res.Close {
		fmt.Printf("worker: over-limit chunked body: 413, body drained, connection closed\n")
	} else {
		fmt.Fprintf(conn, "POST /api/v1/classify?top=1 HTTP/1.1\r\nHost: %s\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n", host, len(img))
		conn.Write(img)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("the next request on the connection: %v", err)
		} else {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("the next request on the connection: %d %s", res.StatusCode, b)
			}
			fmt.Printf("worker: over-limit chunked body: 413, body drained; the next request on the connection: %d\n", res.StatusCode)
		}
	}
	if d := timed(); d > alone+time.Second {
		t.Errorf("the request after an over-limit body took %v (alone %v)", d, alone)
	}

	// The Go program's memory, as the shim logs it when it grows.
	var most float64
	for _, m := range regexp.MustCompile(`octave: wasm memory ([0-9.]+) MiB`).FindAllStringSubmatch(p.Log(), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		most = max(most, v)
	}
	fmt.Printf("worker: wasm memory at most %.1f MiB after the hostile requests\n", most)
	if most == 0 || most*(1<<20) > 128e6-BufferBudget {
		t.Errorf("wasm memory %.1f MiB: want logged, and under 128 MB less the %d MiB of bodies the shim may hold", most, BufferBudget>>20)
	}
}

// TestShimLimits checks the shim's constants against the Go side's.
func TestShimLimits(t *testing.T) {
	src, err := os.ReadFile("shim/worker.mjs")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"MAX_BODY": server.DefaultMaxBody, "BUFFER_BUDGET": BufferBudget} {
		m := regexp.MustCompile(`const ` + name + ` = (\d+) << (\d+);`).FindSubmatch(src)
		if m == nil {
			t.Errorf("shim/worker.mjs has no const %s = A << B", name)
			continue
		}
		a, _ := strconv.Atoi(string(m[1]))
		k, _ := strconv.Atoi(string(m[2]))
		if a<<k != want {
			t.Errorf("shim/worker.mjs: %s = %d, want %d", name, a<<k, want)
		}
	}
}
