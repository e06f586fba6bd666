// Command tool prepares the bench cases and times Octave's native build.
//
//	go run ./bench/tool prep [-out bench/work] [-smoke] [-models models/weights]
//	GOMAXPROCS=1 go run ./bench/tool native -work bench/work -case NAME -runs N
//	go run ./bench/tool chart -in bench/results.json -out bench/results.png
//
// prep writes, for every case, the network as a float32 model file
// (BatchNorm folded, so that every engine multiplies by the same weights),
// the same network as ONNX (octcore/onnx), a fixed input and cases.json.
// native runs one case with octcore, writes its output as the reference of
// the other engines and prints one JSON result line. chart draws the results.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/onnx"
	"github.com/octave-project/octave/octcore/weights"
)

// Case is one entry of cases.json.
type Case struct {
	Name     string  `json:"case"`
	Family   string  `json:"family"` // conv, mini, odd, resnet50, mobilenet
	Alpha    float64 `json:"alpha"`
	Channels int     `json:"channels"`
	Height   int     `json:"height"`
	Width    int     `json:"width"`
	MACs     int64   `json:"macs"`
	Weights  string  `json:"weights"` // "random" or the trained model file
	Model    string  `json:"model"`   // file names within the work directory
	ONNX     string  `json:"onnx"`
	Input    string  `json:"input"`
	Ref      string  `json:"ref"`
	Output   string  `json:"output"` // name of the last layer
	OutLen   int     `json:"outLen"`
	Runs     int     `json:"runs"` // timed runs (after one warm-up)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tool prep|native|chart|standin [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "prep":
		err = prep(os.Args[2:])
	case "native":
		err = native(os.Args[2:])
	case "chart":
		err = chart(os.Args[2:])
	case "standin":
		err = standin(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench tool:", err)
		os.Exit(1)
	}
}

func alphaName(a float64) string { return fmt.Sprintf("a%03d", int(math.Round(a*1000))) }

func prep(args []string) error {
	fs := flag.NewFlagSet("prep", flag.ExitOnError)
	out := fs.String("out", "bench/work", "output directory")
	smoke := fs.Bool("smoke", false, "mini networks only, 2 runs")
	models := fs.String("models", "models/weights", "directory of trained Fashion-MNIST models (fashion-oct-aNNN.safetensors)")
	runs := fs.Int("runs", 0, "timed runs per case (0: the default of each case)")
	fs.Parse(args)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var cases []Case
	addCase := func(c Case, g octcore.Graph, ps octcore.Params) error {
		g, ps, err := weights.FoldBN(g, ps)
		if err != nil {
			return err
		}
		cost, err := octcore.CostOf(g, c.Height, c.Width)
		if err != nil {
			return err
		}
		c.MACs = cost.MACs
		c.Channels = g[0].Out
		c.Output = g[len(g)-1].Name
		c.OutLen = int(cost.Layers[len(cost.Layers)-1].Activations)
		c.Model, c.ONNX, c.Input, c.Ref = c.Name+".safetensors", c.Name+".onnx", c.Name+".input.f32", c.Name+".ref.f32"
		if *smoke {
			c.Runs = 2
		} else if *runs > 0 {
			c.Runs = *runs
		}
		var mb bytes.Buffer
		m := &weights.Model{Graph: g, Params: ps, Meta: weights.Metadata{
			Name:  "bench " + c.Name,
			Input: weights.InputSpec{Channels: c.Channels, Height: c.Height, Width: c.Width},
		}}
		if err := weights.Write(&mb, m, weights.WriteOptions{DType: "float32"}); err != nil {
			return err
		}
		ob, err := onnx.Export(g, ps, c.Height, c.Width)
		if err != nil {
			return err
		}
		rng := rand.New(rand.NewSource(42))
		in := make([]float32, c.Channels*c.Height*c.Width)
		for i := range in {
			in[i] = float32(rng.NormFloat64())
		}
		for name, b := range map[string][]byte{c.Model: mb.Bytes(), c.ONNX: ob, c.Input: f32bytes(in)} {
			if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
				return err
			}
		}
		cases = append(cases, c)
		return nil
	}

	// (a) one 3x3 64->64 convolution at 56x56, pad 1, no bias.
	if !*smoke {
		g := octcore.Graph{
			{Name: "input", Kind: "input", Out: 64},
			{Name: "conv", Kind: "conv", In: 64, Out: 64, Kernel: 3, Pad: 1},
		}
		if err := addCase(Case{Name: "conv3x3-64-56", Family: "conv", Height: 56, Width: 56, Weights: "random", Runs: 30}, g, octcore.RandomParams(g, 1)); err != nil {
			return err
		}
	}
	// (b) the Fashion-MNIST Oct-ResNet at each alpha: the trained model when
	// it is there, random weights otherwise.
	for _, a := range []float64{0, 0.125, 0.25, 0.5, 0.75} {
		c := Case{Name: "mini-" + alphaName(a), Family: "mini", Alpha: a, Height: 28, Width: 28, Weights: "random", Runs: 50}
		file := filepath.Join(*models, "fashion-oct-"+alphaName(a)+".safetensors")
		if b, err := os.ReadFile(file); err == nil {
			m, err := weights.Load(b)
			if err != nil {
				return fmt.Errorf("%s: %v", file, err)
			}
			c.Weights = filepath.Base(file)
			if err := addCase(c, m.Graph, m.Params); err != nil {
				return err
			}
			continue
		}
		g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: a})
		if err != nil {
			return err
		}
		if err := addCase(c, g, randomParams(g, 7)); err != nil {
			return err
		}
	}
	// An odd size: pool2 of odd maps (ceil mode, padding excluded) and the
	// crop after up2, in every engine.
	{
		g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: 0.5})
		if err != nil {
			return err
		}
		c := Case{Name: "mini-a500-27x25", Family: "odd", Alpha: 0.5, Height: 27, Width: 25, Weights: "random", Runs: 50}
		if err := addCase(c, g, randomParams(g, 5)); err != nil {
			return err
		}
	}
	// (c) Oct-ResNet-50 at 224, alpha 0 and .5.
	if !*smoke {
		for _, a := range []float64{0, 0.5} {
			g, err := octcore.Arch("oct-resnet50", octcore.ArchOptions{Alpha: a})
			if err != nil {
				return err
			}
			c := Case{Name: "resnet50-" + alphaName(a), Family: "resnet50", Alpha: a, Height: 224, Width: 224, Weights: "random", Runs: 10}
			if err := addCase(c, g, randomParams(g, 11)); err != nil {
				return err
			}
		}
	}
	// (d) Oct-MobileNet v1 (width 1) at 224, alpha .5: depthwise octave
	// convolutions (hh and ll paths only) and 1x1 octave convolutions.
	if !*smoke {
		g, err := octcore.Arch("oct-mobilenetv1", octcore.ArchOptions{Alpha: 0.5})
		if err != nil {
			return err
		}
		c := Case{Name: "mobilenet-a500", Family: "mobilenet", Alpha: 0.5, Height: 224, Width: 224, Weights: "random", Runs: 20}
		if err := addCase(c, g, randomParams(g, 13)); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(map[string]any{"cases": cases}, "", "  ")
	return os.WriteFile(filepath.Join(*out, "cases.json"), b, 0o644)
}

// randomParams is RandomParams with the BatchNorm scale of every layer that
// ends a residual block at 0.25 and random running statistics, so that the
// activations of a deep random ResNet stay of order one and BN folding is
// exercised with values that are not the identity.
func randomParams(g octcore.Graph, seed int64) octcore.Params {
	ps := octcore.RandomParams(g, seed)
	rng := rand.New(rand.NewSource(seed + 1))
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, l := range g {
		if !l.BN {
			continue
		}
		for i := 0; i < l.Out; i++ {
			ps[l.Name+".bn.running_mean"].Data[i] = float32(rng.NormFloat64() * 0.1)
			ps[l.Name+".bn.running_var"].Data[i] = float32(0.5 + rng.Float64())
			ps[l.Name+".bn.bias"].Data[i] = float32(rng.NormFloat64() * 0.1)
			if l.Add != "" {
				ps[l.Name+".bn.weight"].Data[i] = 0.25
			}
		}
	}
	return ps
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func readCases(work string) ([]Case, error) {
	b, err := os.ReadFile(filepath.Join(work, "cases.json"))
	if err != nil {
		return nil, err
	}
	var f struct{ Cases []Case }
	err = json.Unmarshal(b, &f)
	return f.Cases, err
}

func native(args []string) error {
	fs := flag.NewFlagSet("native", flag.ExitOnError)
	work := fs.String("work", "bench/work", "directory written by prep")
	only := fs.String("case", "", "comma-separated cases (default: all)")
	runs := fs.Int("runs", 0, "timed runs (0: the case's own)")
	fs.Parse(args)
	cases, err := readCases(*work)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	for _, c := range cases {
		if len(want) > 0 && !want[c.Name] {
			continue
		}
		if err := nativeCase(*work, c, *runs); err != nil {
			return fmt.Errorf("%s: %v", c.Name, err)
		}
	}
	return nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// cpuTime is the CPU time this process has used (user + system): on a
// shared machine it grows only while the process runs, unlike the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func nativeCase(work string, c Case, runs int) error {
	if runs == 0 {
		runs = c.Runs
	}
	b, err := os.ReadFile(filepath.Join(work, c.Model))
	if err != nil {
		return err
	}
	m, err := weights.Load(b)
	if err != nil {
		return err
	}
	net, err := m.Build()
	if err != nil {
		return err
	}
	ib, err := os.ReadFile(filepath.Join(work, c.Input))
	if err != nil {
		return err
	}
	in := make([]float32, len(ib)/4)
	for i := range in {
		in[i] = math.Float32frombits(binary.LittleEndian.Uint32(ib[4*i:]))
	}
	x, err := octcore.TensorFrom(c.Channels, c.Height, c.Width, in)
	if err != nil {
		return err
	}
	var out octcore.Feature
	if out, err = net.Run(x); err != nil { // checked first run
		return err
	}
	ref := append([]float32(nil), out.H.Data...)
	if out.L != nil {
		ref = append(ref, out.L.Data...)
	}
	if err := os.WriteFile(filepath.Join(work, c.Ref), f32bytes(ref), 0o644); err != nil {
		return err
	}
	for i := 0; i < 2; i++ { // warm-up
		if _, err := net.Run(x); err != nil {
			return err
		}
	}
	times := make([]float64, runs)
	cpu := make([]float64, runs)
	for i := range times {
		t0, c0 := time.Now(), cpuTime()
		if _, err := net.Run(x); err != nil {
			return err
		}
		times[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		cpu[i] = float64((cpuTime() - c0).Nanoseconds()) / 1e6
	}
	line, _ := json.Marshal(map[string]any{
		"case": c.Name, "engine": "octave-native", "runtime": "native", "median_ms": median(times),
		"cpu_median_ms": median(cpu), "cpu_times_ms": cpu,
		"max_abs_diff": 0, "times_ms": times, "simd": octcore.SIMD, "gomaxprocs": runtime.GOMAXPROCS(0),
		"go": runtime.Version(),
	})
	fmt.Println(string(line))
	return nil
}
