package dataset

import (
	"fmt"
	"sync"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/weights"
)

// AccuracyOf returns the accuracy in percent of model m, run by the octcore
// engine, on every image of s, normalized as the model's input spec says,
// split over workers goroutines (each with its own network).
func AccuracyOf(m *weights.Model, s *Set, workers int) (float64, error) {
	in := m.Meta.Input
	if in.Channels != 1 || len(in.Mean) != 1 || len(in.Std) != 1 {
		return 0, fmt.Errorf("the model expects %d channels; the data set has 1", in.Channels)
	}
	if s.Len() == 0 {
		return 0, fmt.Errorf("dataset: no images to evaluate on")
	}
	workers = max(1, min(workers, s.Len()))
	var wg sync.WaitGroup
	counts := make([]int, workers)
	errs := make([]error, workers)
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
	total := 0
	for k := range counts {
		if errs[k] != nil {
			return 0, errs[k]
		}
		total += counts[k]
	}
	return 100 * float64(total) / float64(s.Len()), nil
}
