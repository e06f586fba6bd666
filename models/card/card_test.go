package main

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
)

// TestRunsJSONCurrent fails when models/runs.json no longer matches the
// metadata of the model files in models/weights and models/runs (a run added
// or replaced without regenerating the card).
func TestRunsJSONCurrent(t *testing.T) {
	_, runs := collect("../weights", "../runs")
	if len(runs) == 0 {
		t.Skip("no model files")
	}
	want := marshalRuns(runs)
	got, err := os.ReadFile("../runs.json")
	if err != nil {
		t.Fatalf("%v (run go run ./models/card)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("models/runs.json is stale: run go run ./models/card and commit models/runs.json and models/weights")
	}
}

func TestMeanSD(t *testing.T) {
	// Sample standard deviation of 1..4: sqrt(((1.5²+0.5²)·2)/3) = sqrt(5/3).
	m, sd := meanSD([]float64{1, 2, 3, 4})
	if m != 2.5 || math.Abs(sd-math.Sqrt(5.0/3)) > 1e-12 {
		t.Errorf("meanSD(1..4) = %v, %v; want 2.5, %v", m, sd, math.Sqrt(5.0/3))
	}
	if _, sd := meanSD([]float64{7}); !math.IsNaN(sd) {
		t.Errorf("one value: SD %v, want NaN", sd)
	}
}

func TestVerdict(t *testing.T) {
	mk := func(alpha float64, acc ...float64) group {
		g := group{alpha: alpha, int8: acc}
		g.int8Mean, g.int8SD = meanSD(acc)
		return g
	}
	for _, c := range []struct {
		name string
		gs   []group
		want string
	}{
		{"clear gap", []group{mk(0, 92.0, 92.2, 92.1), mk(0.5, 93.0, 93.2, 93.1)}, "beats vanilla by more than the spread"},
		{"overlap", []group{mk(0, 92.0, 93.0), mk(0.5, 92.4, 93.2)}, "does not beat vanilla"},
		{"one vanilla seed", []group{mk(0, 92.96), mk(0.5, 93.35, 93.33)}, "Not settled"},
		{"no vanilla", []group{mk(0.5, 93.35)}, "not yet trained"},
		{"single seed higher", []group{mk(0, 92.96, 93.14, 93.12), mk(0.25, 94.02), mk(0.5, 93.35, 93.33, 93.39)}, "alpha 0.5 at"},
		{"single seed named", []group{mk(0, 92.96, 93.14, 93.12), mk(0.25, 94.02), mk(0.5, 93.35, 93.33, 93.39)}, "Alpha 0.25 scores higher on its one seed"},
		{"only single seeds", []group{mk(0, 92.96, 93.14), mk(0.25, 94.02)}, "Not settled"},
	} {
		if got := verdict(c.gs); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q does not say %q", c.name, got, c.want)
		}
	}
}
