// Package models holds the shipped models (weights/) and the tests that keep
// them honest.
package models

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
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
			got, err := accuracy(m, s)
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

// accuracy runs m on every image of s, normalized as its input spec says,
// split over one goroutine per CPU, and returns the accuracy in percent.
func accuracy(m *weights.Model, s *dataset.Set) (float64, error) {
	in := m.Meta.Input
	workers := runtime.GOMAXPROCS(0)
	counts := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			net, err := m.Build()
			if err != nil {
				errs[k] = err
				return
			}
			x := octcore.NewTensor(1, s.Rows, s.Cols)
			for i := k; i < s.Len(); i += workers {
				for j, p := range s.Image(i) {
					x.Data[j] = (float32(p)/255 - in.Mean[0]) / in.Std[0]
				}
				out, err := net.Run(x)
				if err != nil {
					errs[k] = err
					return
				}
				best := 0
				for o, v := range out.H.Data {
					if v > out.H.Data[best] {
						best = o
					}
				}
				if best == int(s.Labels[i]) {
					counts[k]++
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for k := range counts {
		if errs[k] != nil {
			return 0, errs[k]
		}
		n += counts[k]
	}
	return 100 * float64(n) / float64(s.Len()), nil
}
