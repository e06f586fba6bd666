package octcore

import (
	"math"
	"sort"
	"strconv"
)

// Probabilities returns the output of a classifier as probabilities: the
// values of out (high part, then low part) as they are when the graph ends
// in a softmax layer, through a softmax (computed in float64) otherwise.
func Probabilities(g Graph, out Feature) []float64 {
	var v []float64
	for _, t := range []*Tensor{out.H, out.L} {
		if t != nil {
			for _, x := range t.Data[:t.C*t.H*t.W] {
				v = append(v, float64(x))
			}
		}
	}
	if len(g) > 0 && g[len(g)-1].Kind == "softmax" {
		return v
	}
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, x)
	}
	var sum float64
	for i, x := range v {
		v[i] = math.Exp(x - mx)
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
	return v
}

// TopK returns the indices of the k largest values of p, largest first, ties
// broken by index (fewer when p has fewer).
func TopK(p []float64, k int) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	return idx[:max(0, min(k, len(idx)))]
}

// Prediction is one class of a classifier's output: its label, its index and
// its probability.
type Prediction struct {
	Label       string  `json:"label"`
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

// TopPredictions returns the k most probable classes of p, largest first (see
// [TopK]), labelled from labels; a class past the end of labels is called
// "class N".
func TopPredictions(p []float64, labels []string, k int) []Prediction {
	var out []Prediction
	for _, i := range TopK(p, k) {
		label := "class " + strconv.Itoa(i)
		if i < len(labels) {
			label = labels[i]
		}
		out = append(out, Prediction{Label: label, Index: i, Probability: p[i]})
	}
	return out
}
