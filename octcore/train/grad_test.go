package train

import (
	"math"
	"math/rand"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// miniGraph returns the small Oct-ResNet at width 1/4 (4, 8, 16 channels),
// optionally with every ReLU removed (a smooth function, for tight finite
// differences).
func miniGraph(t *testing.T, alpha float64, relu bool) octcore.Graph {
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: alpha, Width: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if !relu {
		for i := range g {
			g[i].Act = ""
		}
	}
	return g
}

// randomize perturbs the BatchNorm affine parameters so that their
// gradients are not special.
func randomize(ps octcore.Params, rng *rand.Rand) {
	for name, p := range ps {
		n := len(name)
		switch {
		case n > 9 && name[n-9:] == "bn.weight":
			for i := range p.Data {
				p.Data[i] = float32(0.5 + rng.Float64())
			}
		case n > 7 && name[n-7:] == "bn.bias", n > 7 && name[n-7:] == "fc.bias":
			for i := range p.Data {
				p.Data[i] = float32(rng.NormFloat64() * 0.3)
			}
		}
	}
}

func batch(rng *rand.Rand, n, c, h, w int) ([]float32, []uint8) {
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]uint8, n)
	for i := range y {
		y[i] = uint8(rng.Intn(10))
	}
	return x, y
}

// loss returns the mean loss of the batch in training mode, in float64.
func loss(tr *Trainer, x []float32, y []uint8) float64 {
	l, _ := tr.gradient(x, y, false)
	return l / float64(len(y))
}

// reluMask returns a hash of the signs of every ReLU layer's output in the
// last forward pass: equal hashes mean no ReLU changed side.
func reluMask(tr *Trainer) uint64 {
	h := uint64(14695981039346656037)
	w := tr.workers[0]
	for i, L := range tr.M.layers {
		if !L.relu {
			continue
		}
		for _, t := range []*T{w.outs[i].H, w.outs[i].L} {
			if t == nil {
				continue
			}
			for _, v := range t.D {
				b := uint64(0)
				if v > 0 {
					b = 1
				}
				h = (h ^ b) * 1099511628211
			}
		}
	}
	return h
}

// checkGrads compares the analytic gradient of every trainable tensor with
// central finite differences at a few random coordinates of each tensor.
// It returns the fraction of coordinates within tolerance.
func checkGrads(t *testing.T, g octcore.Graph, size, n int, eps, tol float64, seed int64) float64 {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	ps := octcore.RandomParams(g, seed)
	randomize(ps, rng)
	m, err := NewModel(g, ps, size, size)
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTrainer(m, Config{Workers: 1})
	x, y := batch(rng, n, 1, size, size)
	tr.gradient(x, y, false)
	grad := append([]float32(nil), tr.grad...)
	mask := reluMask(tr)
	tried := 0
	ok, total := 0, 0
	for i, name := range m.names {
		p := ps[name].Data
		for k := 0; k < 4; k++ {
			j := rng.Intn(len(p))
			v := p[j]
			tried++
			p[j] = v + float32(eps)
			lp := loss(tr, x, y)
			mp := reluMask(tr)
			p[j] = v - float32(eps)
			lm := loss(tr, x, y)
			mm := reluMask(tr)
			p[j] = v
			if mp != mask || mm != mask {
				continue // a ReLU changed side: finite differences do not apply
			}
			fd := (lp - lm) / (2 * eps)
			an := float64(grad[m.offsets[i]+j])
			total++
			if math.Abs(fd-an) <= tol*math.Max(math.Abs(fd), math.Abs(an))+3e-4 {
				ok++
			} else {
				t.Logf("%s[%d]: analytic %.6g, finite difference %.6g", name, j, an, fd)
			}
		}
	}
	// With BatchNorm in training mode a perturbation moves every activation,
	// so many cross some ReLU kink; how many depends on the rounding of the
	// build (scalar or SIMD). At least 24 checked coordinates must remain.
	if total < 24 {
		t.Errorf("only %d of %d coordinates could be checked without crossing a ReLU kink", total, tried)
	}
	t.Logf("%d of %d coordinates checked (the rest cross a ReLU kink), %d agree", total, tried, ok)
	return float64(ok) / float64(total)
}

// TestGradientsSmooth checks every backward pass (conv, octconv with all
// four paths at stride 1 and 2, odd and even sizes (stride 2 phased at
// even ones), pool2, up2, BatchNorm in training mode, residual add, global
// average pool, linear, cross-entropy)
// against finite differences on networks without ReLU, where the loss is
// smooth: every coordinate must agree.
func TestGradientsSmooth(t *testing.T) {
	for _, c := range []struct {
		alpha float64
		size  int
	}{{0, 9}, {0, 12}, {0.5, 9}, {0.5, 12}, {0.25, 11}} {
		g := miniGraph(t, c.alpha, false)
		if f := checkGrads(t, g, c.size, 3, 1e-2, 0.03, 7); f < 1 {
			t.Errorf("alpha %v size %d: %.1f%% of coordinates agree, want all", c.alpha, c.size, 100*f)
		}
	}
}

// TestGradientsReLU checks the full network with ReLU at the coordinates
// whose perturbation leaves every ReLU on its side: all of them must agree.
func TestGradientsReLU(t *testing.T) {
	for _, alpha := range []float64{0, 0.5} {
		g := miniGraph(t, alpha, true)
		if f := checkGrads(t, g, 9, 3, 1e-3, 0.05, 3); f < 1 {
			t.Errorf("alpha %v: %.1f%% of coordinates agree, want all", alpha, 100*f)
		}
	}
}

// TestMatchesEngine trains a few steps, then checks that inference mode
// (BatchNorm on running statistics) gives the logits of octcore's engine,
// which folds BatchNorm and runs its own kernels, for the same parameters.
func TestMatchesEngine(t *testing.T) {
	for _, alpha := range []float64{0, 0.5, 0.75} {
		g := miniGraph(t, alpha, true)
		ps := octcore.RandomParams(g, 1)
		size := 13
		m, err := NewModel(g, ps, size, size)
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTrainer(m, Config{LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, TotalSteps: 5, Workers: 2})
		rng := rand.New(rand.NewSource(2))
		for s := 0; s < 5; s++ {
			x, y := batch(rng, 8, 1, size, size)
			tr.TrainStep(x, y)
		}
		x, _ := batch(rng, 5, 1, size, size)
		w := tr.workers[0]
		lg := w.forward(x, 5, false)
		net, err := octcore.Build(g, ps)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			in, _ := octcore.TensorFrom(1, size, size, x[i*size*size:(i+1)*size*size])
			out, err := net.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			for o := 0; o < 10; o++ {
				got, want := lg.D[o*5+i], out.H.Data[o]
				if math.Abs(float64(got-want)) > 1e-3*(1+math.Abs(float64(want))) {
					t.Fatalf("alpha %v image %d logit %d: trainer %v, engine %v", alpha, i, o, got, want)
				}
			}
		}
	}
}

// TestDeterministic checks that two runs from the same seed give identical
// parameters, with two workers.
func TestDeterministic(t *testing.T) {
	run := func() []float32 {
		g := miniGraph(t, 0.5, true)
		ps := octcore.RandomParams(g, 4)
		m, _ := NewModel(g, ps, 10, 10)
		tr := NewTrainer(m, Config{LR: 0.1, Momentum: 0.9, TotalSteps: 3, Workers: 2})
		rng := rand.New(rand.NewSource(5))
		for s := 0; s < 3; s++ {
			x, y := batch(rng, 6, 1, 10, 10)
			tr.TrainStep(x, y)
		}
		return append([]float32(nil), ps["stage2.conv1.lh.weight"].Data...)
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("runs differ at %d: %v vs %v", i, a[i], b[i])
		}
	}
}

// TestSmallBatch checks that a batch smaller than the number of workers
// (worker 0 then has no images) gives the gradient of the same slices on
// fewer workers, after a full batch has left gradients in every worker.
func TestSmallBatch(t *testing.T) {
	g := miniGraph(t, 0.5, true)
	grad := func(workers int) []float32 {
		m, err := NewModel(g, octcore.RandomParams(g, 6), 10, 10)
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTrainer(m, Config{Workers: workers})
		rng := rand.New(rand.NewSource(8))
		x, y := batch(rng, 8, 1, 10, 10)
		tr.gradient(x, y, false)
		x, y = batch(rng, 2, 1, 10, 10)
		tr.gradient(x, y, false)
		return tr.grad
	}
	a, b := grad(4), grad(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("gradient[%d]: %v with 4 workers, %v with 2", i, a[i], b[i])
		}
	}
}
