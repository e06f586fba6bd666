// Command hostilerss replays issue 18's memory attacks against a local
// Octave server and reports the server's peak resident memory and the
// status codes it answered. It exits with status 1 if the peak exceeds
// -bound, if any answer is not one the attack allows (the bombs must get
// 4xx, never 5xx or a dropped connection; an image that imageio admits may
// get 200, 413 from a server with smaller limits, or 503 while it queues
// for the decode budget), or if an attack runs past
// -timeout.
//
// The server is a command given after "--" that prints the URL it serves
// ("serving http://127.0.0.1:PORT" as `octave serve` does, "Ready on ..." as
// wrangler dev does); hostilerss starts a fresh one for each attack, in its
// own process group, so that each peak (VmHWM of /proc/PID/status, of the
// group's process with the largest peak) belongs to one attack alone. Only
// loopback servers are accepted; every attack sends a fixed number of
// requests. `make hostile-rss` runs it against `octave serve`.
//
//	go run ./cmd/hostilerss [-bound 512] [-attacks a,b] -- build/octave serve --addr 127.0.0.1:0 --web "" --quiet
//	go run ./cmd/hostilerss -dir worker -wrangler -process workerd -- ../node_modules/.bin/wrangler dev --port 0 --inspector-port 0
//
// Against the Worker in wrangler dev, the measured process is workerd (which
// also runs wrangler's own routing workers), and the largest WebAssembly
// memory that the Worker's shim logs is printed beside it: the figure that
// counts against an isolate's 128 MB.
//
// The attacks (-list prints them):
//
//	png16-truncated    207-byte PNG claiming 8192x4882 RGBA16, 320 requests at c16
//	webp-vp8l          32-byte lossless WebP claiming 8192x4882, 320 at c16
//	png16-interlaced   complete interlaced RGBA16 PNG, 8000x5000 (about 310 KB), 64 at c8
//	png16-admitted     the largest interlaced RGBA16 PNG imageio admits (2800x2800), 32 at c8
//	tiff-deflate       5000x5000 gray TIFF in one Deflate strip (about 25 KB), 32 at c8
//	mixed              2,000 requests at c16: gallery images, a photo, two bombs
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/octave-project/octave/internal/bombs"
	"github.com/octave-project/octave/internal/e2e"
)

// payload is one request body and the statuses allowed in answer to it.
type payload struct {
	name  string
	data  []byte
	ctype string
	want  string // "200", "4xx" or "200|413|503" (an admitted image: a server with smaller limits may refuse it)
}

func (p payload) allowed(code int) bool {
	switch p.want {
	case "4xx":
		return code >= 400 && code < 500
	case "200":
		return code == 200
	case "200|413|503":
		return code == 200 || code == 413 || code == 503
	}
	return false
}

// attack is a bounded burst of requests: n bodies sent c at a time,
// cycling through payloads.
type attack struct {
	name, desc string
	n, c       int
	payloads   []payload
}

func attacks(gallery [][]byte) []attack {
	good := make([]payload, len(gallery))
	for i, g := range gallery {
		good[i] = payload{fmt.Sprintf("gallery-%d", i), g, "image/png", "200"}
	}
	bomb := payload{"png16-truncated", bombs.TruncatedPNG(8192, 4882, 207), "image/png", "4xx"}
	grayHeader := payload{"png-gray-5000-truncated", bombs.GrayTruncatedPNG(5000, 5000), "image/png", "4xx"}
	photo := payload{"photo-640x480", bombs.PhotoPNG(640, 480), "image/png", "200"}
	mixed := []payload{good[0], bomb, photo, grayHeader}
	for i := 1; i < len(good) && i < 4; i++ {
		mixed = append(mixed, good[i])
	}
	return []attack{
		{"png16-truncated", "207-byte PNG claiming 8192x4882 RGBA16 (truncated data)", 320, 16, []payload{bomb}},
		{"webp-vp8l", "32-byte lossless WebP claiming 8192x4882", 320, 16,
			[]payload{{"webp-vp8l", bombs.VP8LWebP(8192, 4882), "image/webp", "4xx"}}},
		{"png16-interlaced", "complete interlaced RGBA16 PNG of 8000x5000 zero pixels", 64, 8,
			[]payload{{"png16-interlaced", bombs.ZeroPNG(8000, 5000, true), "image/png", "4xx"}}},
		{"png16-admitted", "the largest interlaced RGBA16 PNG within imageio.MaxDecodedBytes, 2800x2800", 32, 8,
			[]payload{{"png16-admitted", bombs.ZeroPNG(2800, 2800, true), "image/png", "200|413|503"}}},
		{"tiff-deflate", "5000x5000 8-bit gray TIFF, one Deflate strip of zeros", 32, 8,
			[]payload{{"tiff-deflate", bombs.DeflateTIFF(5000, 5000, 1), "image/tiff", "200|413|503"}}},
		{"mixed", "gallery images and a 640x480 photo (200) among the 207-byte bomb and a 5000x5000 gray header (4xx)", 2000, 16, mixed},
	}
}

func main() {
	bound := flag.Float64("bound", 512, "largest peak resident memory of the server allowed, in MB (10^6 bytes)")
	names := flag.String("attacks", "", "comma-separated attacks to run (default all; see -list)")
	list := flag.Bool("list", false, "list the attacks and exit")
	timeout := flag.Duration("timeout", 3*time.Minute, "bound on each attack")
	gallery := flag.String("gallery", "web/gallery", "directory of the gallery whose test images are the good requests")
	dir := flag.String("dir", ".", "working directory of the server command")
	wrangler := flag.Bool("wrangler", false, "run the command with wrangler's offline environment")
	path := flag.String("path", "/api/v1/classify?top=1", "request path")
	process := flag.String("process", "", "measure the group's process of this name (default: the one with the largest peak; workerd for wrangler dev)")
	flag.Parse()
	if err := run(*bound, *names, *list, *timeout, *gallery, *dir, *wrangler, *path, *process, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "hostilerss:", err)
		os.Exit(1)
	}
}

func run(bound float64, names string, list bool, timeout time.Duration, gallery, dir string, wrangler bool, path, process string, command []string) error {
	g, err := e2e.LoadGallery(gallery, "fashion-mnist")
	if err != nil {
		return err
	}
	var imgs [][]byte
	for i := 0; i < 8 && i < len(g.Labels); i++ {
		b, err := g.PNG(i)
		if err != nil {
			return err
		}
		imgs = append(imgs, b)
	}
	all := attacks(imgs)
	if list {
		for _, a := range all {
			fmt.Printf("%-18s %4d requests at c%-2d  %s\n", a.name, a.n, a.c, a.desc)
			for _, p := range a.payloads {
				fmt.Printf("%-18s   %-26s %8d bytes, want %s\n", "", p.name, len(p.data), p.want)
			}
		}
		return nil
	}
	if len(command) == 0 {
		return errors.New("no server command after --")
	}
	chosen := all
	if names != "" {
		chosen = nil
		for _, n := range strings.Split(names, ",") {
			found := false
			for _, a := range all {
				if a.name == n {
					chosen, found = append(chosen, a), true
				}
			}
			if !found {
				return fmt.Errorf("-attacks: no attack %q (see -list)", n)
			}
		}
	}
	var env []string
	if wrangler {
		env = e2e.OfflineEnv()
	}
	shown := make([]string, len(command))
	for i, a := range command {
		shown[i] = a
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			shown[i] = fmt.Sprintf("%q", a)
		}
	}
	fmt.Printf("server: %s\nbound: peak RSS <= %.0f MB\n", strings.Join(shown, " "), bound)
	fmt.Printf("%-18s %6s %4s %10s %10s %10s %10s %9s  %s\n", "attack", "n", "c", "body B", "base MB", "peak MB", "after MB", "max s", "statuses")
	var failures []string
	for _, a := range chosen {
		r, err := runAttack(a, dir, env, command, path, process, timeout)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", a.name, err))
			fmt.Printf("%-18s error: %v\n", a.name, err)
			continue
		}
		verdict := "ok"
		if r.peak > bound*1e6 {
			verdict = "FAIL: peak over bound"
			failures = append(failures, fmt.Sprintf("%s: peak RSS %.1f MB > %.0f MB", a.name, r.peak/1e6, bound))
		}
		if len(r.bad) > 0 {
			verdict = "FAIL: " + strings.Join(r.bad, "; ")
			failures = append(failures, a.name+": "+strings.Join(r.bad, "; "))
		}
		wasm := ""
		if r.wasm > 0 {
			wasm = fmt.Sprintf(", wasm memory %.1f MB", r.wasm/1e6)
		}
		fmt.Printf("%-18s %6d %4d %10d %10.1f %10.1f %10.1f %9.2f  %s  %s (%s%s)\n", a.name, a.n, a.c, len(a.payloads[0].data),
			r.base/1e6, r.peak/1e6, r.after/1e6, r.maxLatency.Seconds(), r.statuses, verdict, r.process, wasm)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d failed:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	fmt.Println("PASS")
	return nil
}

// result is what one attack measured.
type result struct {
	base, peak, after float64 // bytes: RSS after the warm-up, peak RSS, RSS two seconds after the attack
	process           string  // the process measured
	wasm              float64 // bytes: the Worker's largest logged wasm memory, 0 for other servers
	statuses          string
	maxLatency        time.Duration
	bad               []string
}

// measured returns the process of mem that is measured: the one named
// process, else the first (the largest peak).
func measured(mem []e2e.Memory, process string) (e2e.Memory, bool) {
	for _, m := range mem {
		if process == "" || m.Name == process {
			return m, true
		}
	}
	return e2e.Memory{}, false
}

// wasmMemory returns the largest "octave: wasm memory N MiB" that the
// Worker's shim logged, in bytes (0 for none).
func wasmMemory(log string) float64 {
	var most float64
	for _, m := range regexp.MustCompile(`octave: wasm memory ([0-9.]+) MiB`).FindAllStringSubmatch(log, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		most = max(most, v*(1<<20))
	}
	return most
}

func runAttack(a attack, dir string, env, command []string, path, process string, timeout time.Duration) (*result, error) {
	proc, err := e2e.Start(dir, env, 2*time.Minute, command[0], command[1:]...)
	if err != nil {
		return nil, err
	}
	defer proc.Stop()
	u, err := url.Parse(proc.URL)
	if err != nil || !loopback(u.Hostname()) {
		return nil, fmt.Errorf("server URL %q: only loopback servers", proc.URL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: a.c}, Timeout: timeout}
	defer client.CloseIdleConnections()
	send := func(p payload) (int, time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", proc.URL+path, bytes.NewReader(p.data))
		req.Header.Set("Content-Type", p.ctype)
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, time.Since(t0), err
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, time.Since(t0), err
	}
	// Warm up: the model loads on its first request.
	warm := payload{"warm-up", bombs.PhotoPNG(64, 48), "image/png", "200"}
	if code, _, err := send(warm); err != nil || code != 200 {
		return nil, fmt.Errorf("warm-up request: status %d, %v\n%s", code, err, proc.Log())
	}
	mem, err := e2e.GroupMemory(proc.Pid())
	m, ok := measured(mem, process)
	if err != nil || !ok {
		return nil, fmt.Errorf("reading the server's memory (process %q): %v", process, err)
	}
	r := &result{base: float64(m.Now)}

	type key struct {
		payload string
		code    int
	}
	var mu sync.Mutex
	counts := map[key]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < a.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= a.n || ctx.Err() != nil {
					return
				}
				p := a.payloads[i%len(a.payloads)]
				code, d, err := send(p)
				mu.Lock()
				if err != nil {
					code = -1
				}
				counts[key{p.name, code}]++
				r.maxLatency = max(r.maxLatency, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		r.bad = append(r.bad, fmt.Sprintf("did not finish within %v", timeout))
	}
	time.Sleep(2 * time.Second)
	mem, err = e2e.GroupMemory(proc.Pid())
	m, ok = measured(mem, process)
	if err != nil || !ok {
		return nil, fmt.Errorf("reading the server's memory (did it die?): %v\n%s", err, proc.Log())
	}
	r.peak, r.after, r.process = float64(m.Peak), float64(m.Now), fmt.Sprintf("%s pid %d", m.Name, m.Pid)
	r.wasm = wasmMemory(proc.Log())

	byCode := map[int]int{}
	var keys []key
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].payload != keys[j].payload {
			return keys[i].payload < keys[j].payload
		}
		return keys[i].code < keys[j].code
	})
	want := map[string]payload{}
	for _, p := range a.payloads {
		want[p.name] = p
	}
	for _, k := range keys {
		byCode[k.code] += counts[k]
		if p := want[k.payload]; !p.allowed(k.code) {
			what := fmt.Sprintf("status %d", k.code)
			if k.code == -1 {
				what = "transport error"
			}
			r.bad = append(r.bad, fmt.Sprintf("%d x %s for %s (want %s)", counts[k], what, k.payload, p.want))
		}
	}
	var codes []int
	for c := range byCode {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%dx%d", byCode[c], c))
	}
	r.statuses = strings.Join(parts, " ")
	return r, nil
}

func loopback(host string) bool {
	return host == "127.0.0.1" || host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}
