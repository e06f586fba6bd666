// Command loadtest sends a bounded burst of classify requests to a local
// Octave server and reports throughput, latency percentiles and the server's
// CPU time per request. It only talks to loopback addresses.
//
// Either give the URL of a running server, or a command after "--" that
// starts one (it must print "serving http://127.0.0.1:PORT" like `octave
// serve` or "Ready on http://127.0.0.1:PORT" like wrangler dev); then the
// command runs in its own process group, its CPU time is read from /proc, and
// it is stopped at the end.
//
//	go run ./worker/cmd/loadtest -n 500 -c 8 -- go run ./cmd/octave serve --addr 127.0.0.1:0 --quiet
//	go run ./worker/cmd/loadtest -n 500 -c 8 -dir worker -wrangler -- ../node_modules/.bin/wrangler dev --port 0
//
// It exits with status 1 if any request fails or the run exceeds -timeout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/octave-project/octave/internal/e2e"
)

func main() {
	base := flag.String("url", "", "base URL of a running server (loopback only)")
	n := flag.Int("n", 500, "requests to send")
	c := flag.Int("c", 8, "concurrent requests")
	warm := flag.Int("warmup", 8, "requests sent first and not counted (model load, JIT tiers)")
	timeout := flag.Duration("timeout", 3*time.Minute, "bound on the whole run")
	path := flag.String("path", "/api/v1/classify?top=1", "request path")
	gallery := flag.String("gallery", "web/gallery", "directory of the gallery whose test images are sent")
	dir := flag.String("dir", ".", "working directory of the server command")
	wrangler := flag.Bool("wrangler", false, "run the command with wrangler's offline environment")
	flag.Parse()
	if err := run(*base, *n, *c, *warm, *timeout, *path, *gallery, *dir, *wrangler, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(base string, n, c, warm int, timeout time.Duration, path, gallery, dir string, wrangler bool, command []string) error {
	g, err := e2e.LoadGallery(gallery, "fashion-mnist")
	if err != nil {
		return err
	}
	imgs := make([][]byte, 16)
	for i := range imgs {
		if imgs[i], err = g.PNG(i); err != nil {
			return err
		}
	}
	var proc *e2e.Proc
	if len(command) > 0 {
		var env []string
		if wrangler {
			env = e2e.OfflineEnv()
		}
		startAt := time.Now()
		proc, err = e2e.Start(dir, env, 2*time.Minute, command[0], command[1:]...)
		if err != nil {
			return err
		}
		defer proc.Stop()
		base = proc.URL
		fmt.Printf("started %v: %s in %v\n", command, base, time.Since(startAt).Round(time.Millisecond))
	}
	u, err := url.Parse(base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		return fmt.Errorf("-url %q: only loopback servers", base)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	send := func(i int) (time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+path, bytes.NewReader(imgs[i%len(imgs)]))
		req.Header.Set("Content-Type", "image/png")
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return d, err
		}
		if res.StatusCode != 200 {
			return d, fmt.Errorf("status %d: %s", res.StatusCode, b)
		}
		var body struct{ Top []json.RawMessage }
		if json.Unmarshal(b, &body) != nil || len(body.Top) == 0 {
			return d, fmt.Errorf("bad body %s", b)
		}
		return d, nil
	}

	first, err := send(0)
	if err != nil {
		return fmt.Errorf("first request: %v", err)
	}
	fmt.Printf("first request (cold: model load): %v\n", first.Round(time.Microsecond))
	for i := 1; i < warm; i++ {
		if _, err := send(i); err != nil {
			return fmt.Errorf("warm-up: %v", err)
		}
	}

	var cpu0 map[string]time.Duration
	if proc != nil {
		cpu0, _ = proc.CPU()
	}
	lat := make([]time.Duration, n)
	var failed atomic.Int32
	var firstErr atomic.Value
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				d, err := send(i)
				lat[i] = d
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	done := int(min(int64(n), next.Load()))
	var cpu1 map[string]time.Duration
	if proc != nil {
		cpu1, _ = proc.CPU()
	}

	sorted := append([]time.Duration(nil), lat[:done]...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	pct := func(p float64) time.Duration {
		if len(sorted) == 0 {
			return 0
		}
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("requests: %d of %d, concurrency %d, %d failed, in %v\n", done, n, c, failed.Load(), wall.Round(time.Millisecond))
	fmt.Printf("throughput: %.1f requests/s\n", float64(done)/wall.Seconds())
	fmt.Printf("latency: p50 %v, p95 %v, p99 %v, max %v\n", pct(.50), pct(.95), pct(.99), pct(1))
	if proc != nil {
		var total time.Duration
		for name, t := range cpu1 {
			d := t - cpu0[name]
			total += d
			fmt.Printf("server CPU: %-12s %v (%.2f ms/request)\n", name, d, float64(d)/1e6/float64(done))
		}
		fmt.Printf("server CPU per request: %.2f ms (all processes of the server)\n", float64(total)/1e6/float64(done))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped at the %v bound after %d requests", timeout, done)
	}
	if failed.Load() > 0 {
		return fmt.Errorf("%d requests failed; first: %v", failed.Load(), firstErr.Load())
	}
	return nil
}
