// Package e2e starts servers as child processes for end-to-end tests and
// load tests, and cuts test images out of the demo page's gallery.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// OfflineEnv is the environment that keeps wrangler off the network: no
// telemetry or error reports, no update banner, no download of the
// Request.cf object, logs in a temporary directory.
func OfflineEnv() []string {
	return []string{
		"WRANGLER_SEND_METRICS=false",
		"WRANGLER_SEND_ERROR_REPORTS=false",
		"WRANGLER_HIDE_BANNER=true",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"WRANGLER_LOG_PATH=" + filepath.Join(os.TempDir(), "octave-wrangler-logs"),
		"CI=true",
	}
}

// Proc is a server running as a child process in its own process group.
type Proc struct {
	URL string // base URL, no trailing slash
	cmd *exec.Cmd
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlRE = regexp.MustCompile(`(?:serving|Ready on) (http://127\.0\.0\.1:\d+)`)

// Start runs name with args in dir (extra environment env) and waits, up to
// timeout, for it to print the URL it serves ("serving http://..." as
// `octave serve` does, or "Ready on http://..." as wrangler dev does).
func Start(dir string, env []string, timeout time.Duration, name string, args ...string) (*Proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	p := &Proc{cmd: cmd, log: &syncBuffer{}}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.log.Write([]byte(line + "\n"))
			if m := urlRE.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		io.Copy(p.log, out)
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			p.Stop()
			return nil, fmt.Errorf("%s exited before serving:\n%s", name, p.log.String())
		}
		p.URL = u
		return p, nil
	case <-time.After(timeout):
		p.Stop()
		return nil, fmt.Errorf("%s printed no URL within %v:\n%s", name, timeout, p.log.String())
	}
}

// Log returns everything the process printed so far.
func (p *Proc) Log() string { return p.log.String() }

// Stop ends the process group that Start created and waits for the process.
func (p *Proc) Stop() {
	if p.cmd.Process == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
}

// CPU returns the user+system CPU time used so far by the live processes of
// the group, by command name.
func (p *Proc) CPU() (map[string]time.Duration, error) {
	return GroupCPU(p.cmd.Process.Pid)
}

// GroupCPU returns the CPU time of the processes in process group pgid, by
// command name (Linux: /proc).
func GroupCPU(pgid int) (map[string]time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	const hz = 100 // USER_HZ on Linux
	out := map[string]time.Duration{}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		j := strings.IndexByte(s, '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(s[i+2:])
		// f[0] is state, f[2] pgrp, f[11] utime, f[12] stime.
		if len(f) < 13 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[s[j+1:i]] += time.Duration(ut+st) * time.Second / hz
	}
	return out, nil
}

// Gallery is a sprite of test images with their true labels, as written by
// cmd/gallery into web/gallery/.
type Gallery struct {
	Classes []string
	Labels  []int
	tile    int
	cols    int
	sprite  image.Image
}

// LoadGallery reads web/gallery/NAME.json and its sprite from dir.
func LoadGallery(dir, name string) (*Gallery, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, err
	}
	var meta struct {
		Sprite  string
		Tile    int
		Cols    int
		Classes []string
		Labels  []int
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, err
	}
	sb, err := os.ReadFile(filepath.Join(dir, meta.Sprite))
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(sb))
	if err != nil {
		return nil, err
	}
	return &Gallery{Classes: meta.Classes, Labels: meta.Labels, tile: meta.Tile, cols: meta.Cols, sprite: img}, nil
}

// PNG returns test image i as a PNG file.
func (g *Gallery) PNG(i int) ([]byte, error) {
	if i < 0 || i >= len(g.Labels) {
		return nil, fmt.Errorf("gallery has %d images, no %d", len(g.Labels), i)
	}
	t := g.tile
	x, y := i%g.cols*t, i/g.cols*t
	dst := image.NewGray(image.Rect(0, 0, t, t))
	draw.Draw(dst, dst.Bounds(), g.sprite, image.Pt(x, y), draw.Src)
	var b bytes.Buffer
	if err := png.Encode(&b, dst); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Pid returns the process's id, which is also its process group's id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Memory is what Linux reports of one process's resident memory, in bytes.
type Memory struct {
	Pid  int
	Name string
	Peak int64 // VmHWM: the most resident memory since the process started
	Now  int64 // VmRSS
}

// GroupMemory returns the resident memory of each live process in process
// group pgid, the process with the highest peak first (Linux: /proc).
func GroupMemory(pgid int) ([]Memory, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []Memory
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || len(s) < i+2 {
			continue
		}
		if f := strings.Fields(s[i+2:]); len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		m := Memory{Pid: pid}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				m.Name = v
			case "VmHWM", "VmRSS":
				kb, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
				if k == "VmHWM" {
					m.Peak = kb << 10
				} else {
					m.Now = kb << 10
				}
			}
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Peak > out[j].Peak })
	return out, nil
}
