package main

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/octave-project/octave/internal/npy"
)

// The tests of octave import and octave run against PyTorch itself: a
// script of the repository (tools/pytorch) builds d-li14/octconv.pytorch's
// architectures with the same parameter names and semantics, random weights
// and BatchNorm statistics, saves the state_dict and PyTorch's logits.
// They need Debian's python3-torch (.ci/run installs it). These run at 64x64
// (every pooled size even, as at 224); `make verify-pytorch` runs all five
// architectures at 224x224.

const python = "/usr/bin/python3"

// makeCheckpoint runs tools/pytorch/make_checkpoint.py with args in dir.
func makeCheckpoint(t *testing.T, dir string, args ...string) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch, numpy").Run(); err != nil {
		t.Fatalf("these tests need PyTorch: %s -c 'import torch, numpy' failed (%v); apt-get install python3-torch", python, err)
	}
	script, err := filepath.Abs("../../tools/pytorch/make_checkpoint.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_checkpoint.py %v: %v\n%s", args, err, out)
	}
}

func readArray(t *testing.T, path string) ([]int, []float32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, d, err := npy.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s, d
}

// readNPZ returns the arrays of an .npz archive written by octave run.
func readNPZ(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	arrays, err := npy.ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for _, a := range arrays {
		out[a.Name] = a.Data
	}
	return out
}

func fileSHA256(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// relDiff is max|a-b| / max|b|.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

func importAndCompare(t *testing.T, dir, arch, ckpt, dtypeFlag, logits string, tol float64) float64 {
	t.Helper()
	model := filepath.Join(dir, arch+dtypeFlag+".safetensors")
	if st, _, stderr := runCmd("import", "--from", "octconv.pytorch", "--arch", arch, filepath.Join(dir, ckpt), "-o", model, dtypeFlag, "--labels", "imagenet"); st != 0 {
		t.Fatalf("import %s %s: status %d: %s", arch, dtypeFlag, st, stderr)
	}
	m, err := loadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	in := m.Meta.Input
	if in.Channels != 3 || in.Height != 224 || in.ResizeShorter != 256 || in.Crop != "center" || len(m.Meta.Labels) != 1000 ||
		m.Meta.Provenance["source_project"] != "d-li14/octconv.pytorch" || m.Meta.Provenance["architecture"] != arch ||
		m.Meta.Provenance["source_sha256"] != fileSHA256(t, filepath.Join(dir, ckpt)) {
		t.Errorf("%s: input %+v, %d labels, provenance %v", model, in, len(m.Meta.Labels), m.Meta.Provenance)
	}
	out := filepath.Join(dir, arch+dtypeFlag+".npz")
	if st, _, stderr := runCmd("run", "--model", model, "--input", filepath.Join(dir, "x.npy"), "-o", out); st != 0 {
		t.Fatalf("run %s: status %d: %s", model, st, stderr)
	}
	got := readNPZ(t, out)["output"]
	shape, want := readArray(t, filepath.Join(dir, logits))
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, PyTorch %v", arch, len(got), shape)
	}
	d := relDiff(got, want)
	if d > tol {
		t.Errorf("%s %s: logits differ from PyTorch's by %.3g relative (max|d|/max|y|), want <= %g", arch, dtypeFlag, d, tol)
	}
	t.Logf("%s %s: max relative logit difference %.3g", arch, dtypeFlag, d)
	return d
}

// TestImportAgainstPyTorch imports an Oct-ResNet-26 saved in the zip format,
// wrapped in {"state_dict": ...} with DataParallel's "module." prefix, and an
// Oct-MobileNet v1 saved in the legacy format, and compares octave run's
// logits with PyTorch's: float32 within 1e-4, int8 within 1e-4 of the
// network with BatchNorm folded and weights quantized as the file holds them
// (computed by the script in PyTorch), and within 10% of the float logits.
// Then it checks that faulty checkpoints are refused with errors that name
// the key and the shape expected.
func TestImportAgainstPyTorch(t *testing.T) {
	dirs := map[string]string{}
	for _, c := range []struct {
		arch  string
		flags []string
	}{
		{"oct-resnet26", []string{"--wrap", "--dataparallel"}},
		{"oct-mobilenetv1", []string{"--legacy", "--broken", "bad"}},
	} {
		dir := t.TempDir()
		dirs[c.arch] = dir
		makeCheckpoint(t, dir, append([]string{c.arch, "ckpt.pth", "--size", "64", "--batch", "2",
			"--input", "x.npy", "--logits", "y.npy", "--logits-int8", "y8.npy"}, c.flags...)...)
		t.Run(c.arch, func(t *testing.T) {
			importAndCompare(t, dir, c.arch, "ckpt.pth", "--f32", "y.npy", 1e-4)
			importAndCompare(t, dir, c.arch, "ckpt.pth", "--int8", "y8.npy", 1e-4)
			importAndCompare(t, dir, c.arch, "ckpt.pth", "--int8", "y.npy", 0.1)
			importAndCompare(t, dir, c.arch, "ckpt.pth", "--f16", "y.npy", 1e-2)
		})
	}
	t.Run("errors", func(t *testing.T) { testImportErrors(t, dirs["oct-mobilenetv1"], dirs["oct-resnet26"]) })
}

func testImportErrors(t *testing.T, mdir, rdir string) {
	key := `"features.1.1.conv.conv_h2l.weight"`
	for _, c := range []struct {
		ckpt, arch string
		want       []string
	}{
		{"bad/missing.pth", "oct-mobilenetv1", []string{"missing key " + key, "[32 32 1 1]", `layer "block0.pw" H->L`}},
		{"bad/extra.pth", "oct-mobilenetv1", []string{`extra key "head.weight" [3 4]`}},
		{"bad/misshaped.pth", "oct-mobilenetv1", []string{"key " + key + " has shape [31 32 1 1]", "needs [32 32 1 1]"}},
		{"bad/quantized.pth", "oct-mobilenetv1", []string{"not supported: store int8 + scale instead"}},
		{"ckpt.pth", "oct-resnet26", []string{"is an oct-mobilenetv1, not an oct-resnet26", "--arch oct-mobilenetv1"}},
		{"ckpt.pth", "oct-resnet99", []string{"unknown architecture"}},
		{"x.npy", "oct-mobilenetv1", []string{"not a readable PyTorch checkpoint"}},
	} {
		out := filepath.Join(mdir, "out.safetensors")
		st, _, stderr := runCmd("import", "--from", "octconv.pytorch", "--arch", c.arch, filepath.Join(mdir, c.ckpt), "-o", out)
		if st != 1 {
			t.Errorf("import %s as %s: status %d, want 1 (%s)", c.ckpt, c.arch, st, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("import %s as %s: error %q does not say %q", c.ckpt, c.arch, stderr, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("import %s as %s wrote a model file", c.ckpt, c.arch)
		}
	}
	// A ResNet of another depth is named by its bottleneck counts.
	_, _, stderr := runCmd("import", "--from", "octconv.pytorch", "--arch", "oct-resnet50", filepath.Join(rdir, "ckpt.pth"), "-o", filepath.Join(rdir, "o.safetensors"))
	if !strings.Contains(stderr, "is an oct-resnet26, not an oct-resnet50") || !strings.Contains(stderr, "2, 2, 2, 2 bottlenecks") {
		t.Errorf("an Oct-ResNet-26 imported as -50: %q", stderr)
	}
	for _, args := range [][]string{
		{"import", "--arch", "oct-resnet26", "x.pth", "-o", "y"},
		{"import", "--from", "mxnet", "--arch", "oct-resnet26", "x.pth", "-o", "y"},
		{"import", "--from", "octconv.pytorch", "--arch", "oct-resnet26", "x.pth"},
		{"import", "--from", "octconv.pytorch", "--arch", "oct-resnet26", "x.pth", "-o", "y", "--f16", "--f32"},
	} {
		if st, _, _ := runCmd(args...); st != 2 {
			t.Errorf("%v: status %d, want 2 (usage)", args, st)
		}
	}
}
