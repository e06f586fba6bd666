package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/octave-project/octave/octcore/weights"
)

// TestTrainResume trains a tiny model twice, once straight through and once
// stopped after the first epoch and resumed from its checkpoint, and checks
// that both runs write the same weights and record their accuracies.
func TestTrainResume(t *testing.T) {
	if runtime.GOOS == "js" || testing.Short() {
		t.Skip("needs the MNIST files and a few seconds")
	}
	dir := t.TempDir()
	base := []string{"--dataset", "mnist", "--alpha", "0.5", "--width", "0.25", "--epochs", "2", "--batch", "32",
		"--limit", "256", "--val", "100", "--workers", "2", "--checkpoints", filepath.Join(dir, "ck")}
	run := func(extra ...string) {
		t.Helper()
		var out bytes.Buffer
		if err := runTrain(append(append([]string{}, base...), extra...), &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	run("--out", a)
	run("--out", b, "--stop-after", "1")
	if _, err := os.Stat(b); err == nil {
		t.Fatal("the stopped run wrote its model file")
	}
	run("--out", b, "--resume")
	load := func(path string) *weights.Model {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := weights.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ma, mb := load(a), load(b)
	for name, p := range ma.Params {
		q := mb.Params[name]
		if q == nil || len(q.Data) != len(p.Data) {
			t.Fatalf("%s missing or of another size in the resumed model", name)
		}
		for i := range p.Data {
			if p.Data[i] != q.Data[i] {
				t.Fatalf("%s[%d]: straight run %v, resumed run %v", name, i, p.Data[i], q.Data[i])
			}
		}
	}
	for _, k := range []string{"test_accuracy_fp32", "test_accuracy_int8", "seed", "command", "train_seconds"} {
		if mb.Meta.Provenance[k] == "" {
			t.Errorf("metadata has no %s", k)
		}
	}
	if ma.Meta.Provenance["test_accuracy_int8"] != mb.Meta.Provenance["test_accuracy_int8"] {
		t.Errorf("int8 accuracy %s vs %s", ma.Meta.Provenance["test_accuracy_int8"], mb.Meta.Provenance["test_accuracy_int8"])
	}
}
