// Package models holds the shipped models (weights/) and the tests that keep
// them honest.
package models

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/weights"
)

// TestShippedAccuracy evaluates every shipped model file, as the inference
// engine runs it, on the full test set of its data set and fails if the
// accuracy is more than 0.05 points below the int8 accuracy recorded in the
// file's metadata.
func TestShippedAccuracy(t *testing.T) {
	files, _ := filepath.Glob("weights/*.safetensors")
	if len(files) == 0 {
		t.Skip("no model files in models/weights yet (make models trains them)")
	}
	if !octcore.SIMD {
		t.Skip("the full test sets are evaluated in the simd build (make test-simd): the scalar engine needs about 30 s of CPU per model")
	}
	sets := map[string]*dataset.Set{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := weights.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			prov := m.Meta.Provenance
			want, err := strconv.ParseFloat(prov["test_accuracy_int8"], 64)
			if err != nil {
				t.Fatalf("metadata test_accuracy_int8 = %q: %v", prov["test_accuracy_int8"], err)
			}
			name := prov["dataset"]
			s := sets[name]
			if s == nil {
				if s, err = dataset.Load(name, "test"); err != nil {
					t.Fatal(err)
				}
				sets[name] = s
			}
			if s.Len() != 10000 {
				t.Fatalf("%s test set has %d images, want 10000", name, s.Len())
			}
			got, err := dataset.AccuracyOf(m, s, runtime.GOMAXPROCS(0))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %.2f%% on %d %s test images (metadata: %.2f%%)", f, got, s.Len(), name, want)
			if got < want-0.05 {
				t.Errorf("accuracy %.2f%% is more than 0.05 points below the recorded %.2f%%", got, want)
			}
		})
	}
}

// TestShippedAreRuns checks that every shipped file is the seed-1 20-epoch run
// that models/runs.json and the card's seeds table report for it (make models
// copies it), so the shipped accuracy is one of the card's data points.
func TestShippedAreRuns(t *testing.T) {
	files, _ := filepath.Glob("weights/*.safetensors")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".safetensors")
		run := filepath.Join("runs", name+"-s1-e20.safetensors")
		a, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(run)
		if err != nil {
			t.Errorf("%s: its run %s: %v (make models copies the run)", f, run, err)
			continue
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: run make models", f, run)
		}
	}
}
