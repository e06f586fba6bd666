package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/octave-project/octave/internal/imagenet"
	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/torchckpt"
	"github.com/octave-project/octave/octcore/weights"
)

func init() {
	register("import", "convert a PyTorch checkpoint (d-li14/octconv.pytorch) into a model file", runImport)
}

// sourceProjects are the checkpoint layouts that import understands.
var sourceProjects = map[string]string{"octconv.pytorch": "d-li14/octconv.pytorch"}

// parseInterspersed parses flags that may follow positional arguments
// ("CHECKPOINT.pth -o MODEL"), as the flag package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runImport(args []string, stdout io.Writer) error {
	usage := "--from octconv.pytorch --arch ARCH CHECKPOINT.pth -o MODEL.safetensors [--int8|--f16|--f32] [--labels imagenet|FILE]"
	fs := newFlags("import", usage)
	from := fs.String("from", "", "the checkpoint's source project: octconv.pytorch (d-li14/octconv.pytorch)")
	arch := fs.String("arch", "", "architecture: "+strings.Join(torchckpt.OctconvPytorchArchs, ", "))
	out := fs.String("o", "", "output model file (.safetensors)")
	i8 := fs.Bool("int8", false, "store weights as int8 per output channel, BatchNorm folded (the default)")
	f16 := fs.Bool("f16", false, "store weights as float16")
	f32 := fs.Bool("f32", false, "store weights as float32")
	labels := fs.String("labels", "", `class names: "imagenet" (the 1000 ILSVRC-2012 classes) or a file with one name a line`)
	name := fs.String("name", "", "the model's human name (default: ARCH from CHECKPOINT)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *from == "" {
		return usagef("--from is required (octconv.pytorch)")
	}
	if _, ok := sourceProjects[*from]; !ok {
		return usagef("--from %q: the only source is octconv.pytorch (d-li14/octconv.pytorch)", *from)
	}
	if *arch == "" {
		return usagef("--arch is required: one of %s", strings.Join(torchckpt.OctconvPytorchArchs, ", "))
	}
	if len(pos) != 1 {
		return usagef("want one CHECKPOINT.pth, got %d arguments", len(pos))
	}
	if *out == "" {
		return usagef("-o MODEL.safetensors is required")
	}
	dtype := "int8"
	n := 0
	for _, f := range []struct {
		on bool
		dt string
	}{{*i8, "int8"}, {*f16, "float16"}, {*f32, "float32"}} {
		if f.on {
			dtype = f.dt
			n++
		}
	}
	if n > 1 {
		return usagef("give one of --int8, --f16, --f32")
	}
	path := pos[0]
	start := time.Now()
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	raw = nil
	sd, err := torchckpt.Load(path)
	if err != nil {
		return err
	}
	g, params, err := torchckpt.OctconvPytorch(*arch, sd)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	classes := g[len(g)-1].Out
	m := &weights.Model{Graph: g, Params: params}
	m.Meta.Input = weights.InputSpec{Channels: 3, Height: 224, Width: 224,
		Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225},
		// The usual ImageNet evaluation transform: shorter side to 256, centre crop 224.
		ResizeShorter: 256, Crop: weights.CropCenter}
	switch {
	case *labels == "imagenet":
		m.Meta.Labels = imagenet.Classes()
	case *labels != "":
		b, err := os.ReadFile(*labels)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n") {
			m.Meta.Labels = append(m.Meta.Labels, strings.TrimSpace(l))
		}
	}
	if len(m.Meta.Labels) > 0 && len(m.Meta.Labels) != classes {
		return fmt.Errorf("--labels %s has %d names, the checkpoint's fc layer has %d classes", *labels, len(m.Meta.Labels), classes)
	}
	m.Meta.Name = *name
	if m.Meta.Name == "" {
		m.Meta.Name = fmt.Sprintf("%s alpha 0.5 from %s", *arch, filepath.Base(path))
	}
	cost, err := octcore.CostOf(g, 224, 224)
	if err != nil {
		return err
	}
	format := "zip (torch >= 1.6)"
	if !isZip(path) {
		format = "legacy (torch < 1.6 or _use_new_zipfile_serialization=False)"
	}
	m.Meta.Provenance = map[string]string{
		"source_project": sourceProjects[*from],
		"source_file":    filepath.Base(path),
		"source_sha256":  hex.EncodeToString(sum[:]),
		"source_format":  format,
		"source_tensors": fmt.Sprint(len(sd.Keys)),
		"architecture":   *arch,
		"alpha":          "0.5",
		"params":         fmt.Sprint(cost.Params),
		"macs":           fmt.Sprint(cost.MACs),
		"weights":        dtype,
		"command":        "octave import " + strings.Join(args, " "),
		"go":             runtime.Version(),
	}
	if sd.Prefix != "" {
		m.Meta.Provenance["source_prefix"] = sd.Prefix
	}
	if sd.Wrapped != "" {
		m.Meta.Provenance["source_wrapper"] = sd.Wrapped
	}
	var buf bytes.Buffer
	if err := weights.Write(&buf, m, weights.WriteOptions{DType: dtype}); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s, %d tensors, %d parameters, %.3f GMACs at 224x224, %s weights -> %s (%d bytes) in %.2f s\n",
		path, *arch, len(sd.Keys), cost.Params, float64(cost.MACs)/1e9, dtype, *out, buf.Len(), time.Since(start).Seconds())
	return nil
}

// isZip reports whether the file at path starts like a zip archive.
func isZip(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:]) == "PK\x03\x04"
}
