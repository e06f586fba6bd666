package train

import (
	"math"
	"sync"
)

// Config is the optimisation recipe.
type Config struct {
	LR          float64 // peak learning rate
	Momentum    float64 // SGD momentum (0.9)
	WeightDecay float64 // L2 on conv and linear weights
	Nesterov    bool
	// Warmup is the number of steps of linear warm-up before the cosine decay.
	Warmup int
	// TotalSteps is the length of the cosine schedule.
	TotalSteps int
	// BNMomentum is the weight of the batch statistics in the running
	// averages (0.1 as in PyTorch).
	BNMomentum float64
	Workers    int // goroutines; 0 means 1
}

// Trainer runs training steps of a Model: data parallel over Workers
// goroutines, each taking a contiguous slice of the batch with its own
// BatchNorm statistics (as data-parallel training does without synchronized
// BatchNorm); gradients are summed in worker order, so results do not depend
// on scheduling.
type Trainer struct {
	M        *Model
	Cfg      Config
	Step     int       // steps taken
	Velocity []float32 // momentum buffer, flat, in the order of the gradient
	workers  []*worker
	grad     []float32
}

// NewTrainer returns a trainer of m.
func NewTrainer(m *Model, cfg Config) *Trainer {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.BNMomentum == 0 {
		cfg.BNMomentum = 0.1
	}
	t := &Trainer{M: m, Cfg: cfg, Velocity: make([]float32, m.nGrad), grad: make([]float32, m.nGrad)}
	for i := 0; i < cfg.Workers; i++ {
		t.workers = append(t.workers, newWorker(m))
	}
	return t
}

// LR returns the learning rate of step s: linear warm-up, then cosine decay to 0.
func (t *Trainer) LR(s int) float64 {
	c := t.Cfg
	if s < c.Warmup {
		return c.LR * float64(s+1) / float64(c.Warmup)
	}
	T := max(c.TotalSteps-c.Warmup, 1)
	p := math.Min(float64(s-c.Warmup)/float64(T), 1)
	return c.LR * 0.5 * (1 + math.Cos(math.Pi*p))
}

// split returns the slice [lo, hi) of n images that worker k of K takes.
func split(n, k, K int) (int, int) { return n * k / K, n * (k + 1) / K }

// gradient computes the loss summed over the batch, the number of correct
// predictions and, into t.grad, the gradient of the mean loss, without
// updating anything but the BN running statistics (when updateBN).
// x holds n images of C x H x W, image-major.
func (t *Trainer) gradient(x []float32, labels []uint8, updateBN bool) (float64, int) {
	n := len(labels)
	K := len(t.workers)
	losses := make([]float64, K)
	corrects := make([]int, K)
	t.each(x, n, true, func(k int, w *worker, lo, hi int, _ *T) {
		losses[k], corrects[k] = w.lossGrad(labels[lo:hi], 1/float32(n))
		w.backward()
	})
	var loss float64
	correct := 0
	first := true
	for k, w := range t.workers {
		if lo, hi := split(n, k, K); hi == lo {
			continue // its gradient is stale
		}
		if first {
			copy(t.grad, w.grad)
			first = false
		} else {
			for i, v := range w.grad {
				t.grad[i] += v
			}
		}
		loss += losses[k]
		correct += corrects[k]
	}
	if updateBN {
		t.updateBN(n)
	}
	return loss, correct
}

// each runs, concurrently for every worker with a non-empty slice [lo, hi)
// of the n images in x, the forward pass of the slice (clearing the
// worker's gradient first when train) and then f on its logits.
func (t *Trainer) each(x []float32, n int, train bool, f func(k int, w *worker, lo, hi int, logits *T)) {
	img := len(x) / n
	K := len(t.workers)
	var wg sync.WaitGroup
	for k, w := range t.workers {
		lo, hi := split(n, k, K)
		if hi == lo {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if train {
				clear(w.grad)
			}
			lg := w.forward(toCNHW(x[lo*img:hi*img], hi-lo, t.M.layers[0].out.CH), hi-lo, train)
			f(k, w, lo, hi, lg)
		}()
	}
	wg.Wait()
}

// toCNHW reorders n images of c x hw values into channel-major order; a
// single channel needs no copy.
func toCNHW(x []float32, n, c int) []float32 {
	if c == 1 {
		return x
	}
	hw := len(x) / (n * c)
	y := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			copy(y[(ch*n+i)*hw:(ch*n+i+1)*hw], x[(i*c+ch)*hw:(i*c+ch+1)*hw])
		}
	}
	return y
}

// updateBN folds the workers' batch statistics into the running averages:
// the mean of the workers' means and variances, weighted by their images.
func (t *Trainer) updateBN(n int) {
	mom := t.Cfg.BNMomentum
	K := len(t.workers)
	for _, L := range t.M.layers {
		if !L.bn {
			continue
		}
		for c := range L.rmean {
			var mu, vr float64
			for k, w := range t.workers {
				lo, hi := split(n, k, K)
				if hi == lo {
					continue
				}
				f := float64(hi-lo) / float64(n)
				mu += f * w.bnMean[L.bnIdx][c]
				vr += f * w.bnVar[L.bnIdx][c]
			}
			L.rmean[c] = float32((1-mom)*float64(L.rmean[c]) + mom*mu)
			L.rvar[c] = float32((1-mom)*float64(L.rvar[c]) + mom*vr)
		}
	}
}

// TrainStep runs one SGD step on a batch and returns the summed loss and the
// number of correct predictions (in training mode, before the update).
func (t *Trainer) TrainStep(x []float32, labels []uint8) (float64, int) {
	loss, correct := t.gradient(x, labels, true)
	lr := float32(t.LR(t.Step))
	mom := float32(t.Cfg.Momentum)
	wd := float32(t.Cfg.WeightDecay)
	for i, name := range t.M.names {
		p := t.M.Params[name].Data
		off := t.M.offsets[i]
		g := t.grad[off : off+len(p)]
		v := t.Velocity[off : off+len(p)]
		decay := t.M.decay[i]
		for j := range p {
			gj := g[j]
			if decay {
				gj += wd * p[j]
			}
			v[j] = mom*v[j] + gj
			if t.Cfg.Nesterov {
				gj += mom * v[j]
			} else {
				gj = v[j]
			}
			p[j] -= lr * gj
		}
	}
	t.Step++
	return loss, correct
}

// Predict returns the predicted class of each of the n images in x, with
// BatchNorm on its running statistics (inference mode).
func (t *Trainer) Predict(x []float32, n int) []int {
	pred := make([]int, n)
	t.each(x, n, false, func(_ int, _ *worker, lo, hi int, lg *T) {
		m := hi - lo
		for j := 0; j < m; j++ {
			best := 0
			for o := 1; o < lg.C; o++ {
				if lg.D[o*m+j] > lg.D[best*m+j] {
					best = o
				}
			}
			pred[lo+j] = best
		}
	})
	return pred
}
