package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// runRecord is one training run as models/runs.json keeps it: every figure
// the card needs, copied from the model file's metadata, so the card and the
// accuracy-against-alpha curve can be regenerated from this one file.
type runRecord struct {
	File    string  `json:"file"`
	Dataset string  `json:"dataset"`
	Alpha   float64 `json:"alpha"`
	Seed    int     `json:"seed"`
	Epochs  int     `json:"epochs"`
	Params  int64   `json:"params"`
	MACs    int64   `json:"macs"`
	Int8    float64 `json:"test_accuracy_int8"`
	FP32    float64 `json:"test_accuracy_fp32"`
	Val     float64 `json:"val_accuracy"`
	Seconds float64 `json:"train_seconds"`
	Shipped bool    `json:"shipped"`
	Command string  `json:"command"`
	Recipe  string  `json:"recipe"`
	DataSHA string  `json:"data_sha256"`
}

type runsFile struct {
	Comment string      `json:"comment"`
	Runs    []runRecord `json:"runs"`
}

var epochsRe = regexp.MustCompile(`(\d+) epochs`)

// record turns a card row into its runs.json entry; rel is the file's path
// relative to models/.
func record(r row, rel string, shipped bool) runRecord {
	seed, _ := strconv.Atoi(r.seed)
	ep := 0
	if m := epochsRe.FindStringSubmatch(r.rec); m != nil {
		ep, _ = strconv.Atoi(m[1])
	}
	return runRecord{File: filepath.ToSlash(rel), Dataset: r.dataset, Alpha: r.alpha, Seed: seed, Epochs: ep,
		Params: r.params, MACs: r.macs, Int8: r.int8, FP32: r.fp32, Val: r.val, Seconds: r.seconds,
		Shipped: shipped, Command: r.command, Recipe: r.rec, DataSHA: r.sha}
}

// marshalRuns writes runs.json: runs sorted by data set, epochs, alpha, seed.
func marshalRuns(runs []runRecord) []byte {
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if a.Dataset != b.Dataset {
			return a.Dataset > b.Dataset
		}
		if a.Epochs != b.Epochs {
			return a.Epochs > b.Epochs
		}
		if a.Alpha != b.Alpha {
			return a.Alpha < b.Alpha
		}
		if a.Seed != b.Seed {
			return a.Seed < b.Seed
		}
		return a.File < b.File
	})
	out, err := json.MarshalIndent(runsFile{
		Comment: "Every training run of models/runs and models/weights, from each file's metadata; written by go run ./models/card.",
		Runs:    runs,
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}

// group is the runs of one data set, recipe length and alpha, over seeds.
type group struct {
	dataset          string
	epochs           int
	alpha            float64
	macs             int64
	seeds            []int
	int8, fp32       []float64
	int8Mean, int8SD float64 // SD is NaN for a single seed
	fp32Mean, fp32SD float64
}

// meanSD returns the mean and the sample standard deviation (n-1), NaN for n < 2.
func meanSD(x []float64) (float64, float64) {
	var s float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	if len(x) < 2 {
		return m, math.NaN()
	}
	var q float64
	for _, v := range x {
		q += (v - m) * (v - m)
	}
	return m, math.Sqrt(q / float64(len(x)-1))
}

// groups collects the runs of one data set and recipe length by alpha. Each
// model file counts once (a shipped file that is a copy of a run shares its
// data checksum and is skipped).
func groups(runs []runRecord, dataset string, epochs int) []group {
	seen := map[string]bool{}
	by := map[float64]*group{}
	for _, r := range runs {
		if r.Dataset != dataset || r.Epochs != epochs || seen[r.DataSHA] {
			continue
		}
		seen[r.DataSHA] = true
		g := by[r.Alpha]
		if g == nil {
			g = &group{dataset: dataset, epochs: epochs, alpha: r.Alpha, macs: r.MACs}
			by[r.Alpha] = g
		}
		g.seeds = append(g.seeds, r.Seed)
		g.int8 = append(g.int8, r.Int8)
		g.fp32 = append(g.fp32, r.FP32)
	}
	var out []group
	for _, g := range by {
		g.int8Mean, g.int8SD = meanSD(g.int8)
		g.fp32Mean, g.fp32SD = meanSD(g.fp32)
		sort.Ints(g.seeds)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].alpha < out[j].alpha })
	return out
}

// longestRecipe is the largest epoch count among the runs of a data set.
func longestRecipe(runs []runRecord, dataset string) int {
	ep := 0
	for _, r := range runs {
		if r.Dataset == dataset && r.Epochs > ep {
			ep = r.Epochs
		}
	}
	return ep
}

func pm(m, sd float64) string {
	if math.IsNaN(sd) {
		return fmt.Sprintf("%.2f%% (one seed)", m)
	}
	return fmt.Sprintf("%.2f%% ± %.2f", m, sd)
}

// seedsSection is the card's accuracy-against-alpha table over seeds, and the
// plain answer to "does the best Oct model beat vanilla by more than the
// spread?".
func seedsSection(runs []runRecord) string {
	ep := longestRecipe(runs, "fashion-mnist")
	gs := groups(runs, "fashion-mnist", ep)
	if len(gs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Accuracy against alpha, over seeds (%d-epoch recipe)\n\n", ep)
	b.WriteString("Every run of this recipe, shipped or not (models/runs.json lists them with the figures of\n")
	b.WriteString("each file's metadata; `go run ./models/card` regenerates this section, runs.json and the chart).\n")
	b.WriteString("Mean ± sample standard deviation over seeds, int8 files on the full 10,000-image test set.\n\n")
	b.WriteString("| alpha | MACs | seeds | int8 test acc | fp32 test acc | each seed (int8) |\n|---|---|---|---|---|---|\n")
	for _, g := range gs {
		each := make([]string, len(g.int8))
		for i := range g.int8 {
			each[i] = fmt.Sprintf("%.2f", g.int8[i])
		}
		fmt.Fprintf(&b, "| %g | %.2fM | %s | %s | %s | %s |\n", g.alpha, float64(g.macs)/1e6,
			joinInts(g.seeds), pm(g.int8Mean, g.int8SD), pm(g.fp32Mean, g.fp32SD), strings.Join(each, ", "))
	}
	b.WriteString("\n")
	b.WriteString(verdict(gs))
	b.WriteString("\n\n")
	return b.String()
}

// verdict compares the best Oct alpha's mean with vanilla's. "More than the
// spread" means the gap of the means exceeds the sum of both standard
// deviations (the ±1 SD intervals do not overlap); with fewer than two seeds
// on either side the spread is unknown and the answer says so.
func verdict(gs []group) string {
	// The comparison counts Oct alphas with at least two seeds (a spread
	// needs two); a better single-seed alpha is named but not counted.
	var van, best, single *group
	for i := range gs {
		g := &gs[i]
		switch {
		case g.alpha == 0:
			van = g
		case len(g.int8) >= 2 && (best == nil || g.int8Mean > best.int8Mean):
			best = g
		case len(g.int8) < 2 && (single == nil || g.int8Mean > single.int8Mean):
			single = g
		}
	}
	if van == nil || (best == nil && single == nil) {
		return "Vanilla (alpha 0) and at least one Oct alpha are both needed for the comparison; not yet trained."
	}
	note := ""
	if single != nil && (best == nil || single.int8Mean > best.int8Mean) {
		note = fmt.Sprintf(" Alpha %g scores higher on its one seed (%.2f%%) but is not compared until it has a second.",
			single.alpha, single.int8Mean)
	}
	if best == nil || len(van.int8) < 2 {
		n := 0
		if best != nil {
			n = len(best.int8)
		}
		return fmt.Sprintf("**Not settled**: the spread needs at least two seeds of vanilla and of an Oct alpha (vanilla has %d, the best Oct alpha with seeds %d).", len(van.int8), n) + note
	}
	gap := best.int8Mean - van.int8Mean
	s := fmt.Sprintf("Best Oct model over at least two seeds: alpha %g at %s against vanilla at %s, a gap of %+.2f points.",
		best.alpha, pm(best.int8Mean, best.int8SD), pm(van.int8Mean, van.int8SD), gap)
	spread := best.int8SD + van.int8SD
	if gap > spread {
		return s + fmt.Sprintf(" **It beats vanilla by more than the spread** (%.2f > %.2f, the sum of both standard deviations).", gap, spread) + note
	}
	return s + fmt.Sprintf(" **It does not beat vanilla by more than the spread** (%.2f ≤ %.2f, the sum of both standard deviations).", gap, spread) + note
}

func joinInts(x []int) string {
	s := make([]string, len(x))
	for i, v := range x {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}
