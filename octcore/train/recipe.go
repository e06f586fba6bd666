package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/weights"
)

// Recipe is one training run of oct-resnet-mini on MNIST or Fashion-MNIST:
// what `octave train` trains. A checkpoint records it, and a run resumes
// only from a checkpoint of the same Recipe.
type Recipe struct {
	Dataset     string  // "mnist" or "fashion-mnist"
	Alpha       float64 // ratio of low-frequency channels
	Width       float64 // width multiplier of oct-resnet-mini (16w, 32w, 64w channels)
	Epochs      int
	Batch       int
	LR          float64 // peak learning rate at batch 128 (scaled linearly with Batch)
	WeightDecay float64 // L2 on conv and linear weights
	Seed        int64   // initialization, batch order and augmentation
	Val         int     // training images held out for validation
	Limit       int     // use only this many training images (0: all)
	Workers     int     // goroutines; the batch is split between them
}

// Options say where a run writes and what it reports; none of them changes
// the weights a Recipe trains to.
type Options struct {
	// Out is the int8 model file written at the end (required).
	Out string
	// CheckpointDir holds the per-epoch checkpoint, CheckpointPath(CheckpointDir, Out).
	CheckpointDir string
	// Resume continues from that checkpoint when there is one.
	Resume bool
	// StopAfter stops after this many epochs in all, leaving the checkpoint
	// to resume from (0: train to the end).
	StopAfter int
	// Command is recorded in the model's provenance.
	Command string
	// Log receives the run's summary lines: the network and data, resuming,
	// one line per epoch, the final accuracies (nil: discarded).
	Log io.Writer
	// Progress, when set, is called at the start of every epoch (Step 0)
	// and after every training step.
	Progress func(Progress)
}

// Progress is the state of a run after one training step.
type Progress struct {
	Epoch, Epochs int     // the epoch running, from 1
	Step, Steps   int     // steps done in this epoch (0 at its start)
	Loss          float64 // mean loss over the epoch so far
	Accuracy      float64 // training accuracy in percent over the epoch so far
}

// Result is what a finished (or stopped) run did.
type Result struct {
	Epochs   int     // epochs done in all, including resumed ones
	Stopped  bool    // stopped by Options.StopAfter before the last epoch
	Seconds  float64 // training time, summed over resumed runs
	Model    *weights.Model
	Bytes    int // size of the file written
	ValAcc   float64
	TestFP32 float64
	TestInt8 float64
}

// Checkpoint is the state saved (gob-encoded) after every epoch.
type Checkpoint struct {
	Opts     Recipe
	Epoch    int // epochs done
	Step     int
	Params   map[string][]float32
	Velocity []float32
	Seconds  float64 // training time so far
	Log      []string
}

// RecipeError is a Recipe that cannot run on the data set (too few images
// for the batch or the validation split, an unknown data set, ...).
type RecipeError struct{ Msg string }

func (e *RecipeError) Error() string { return e.Msg }

func recipeErrorf(format string, args ...any) error {
	return &RecipeError{fmt.Sprintf(format, args...)}
}

// Check reports a Recipe that cannot run whatever the data.
func (r Recipe) Check() error {
	if r.Dataset != "mnist" && r.Dataset != "fashion-mnist" {
		return recipeErrorf("--dataset must be mnist or fashion-mnist, not %q", r.Dataset)
	}
	if r.Epochs < 1 || r.Batch < 1 || r.Val < 0 || r.Workers < 1 || !(r.LR > 0) {
		return recipeErrorf("--epochs, --batch and --workers must be positive, --lr > 0, --val >= 0")
	}
	return nil
}

// CheckpointPath is the checkpoint of the run writing out: dir/<out's base name>.ckpt.
func CheckpointPath(dir, out string) string {
	return filepath.Join(dir, strings.TrimSuffix(filepath.Base(out), ".safetensors")+".ckpt")
}

// SaveCheckpoint writes ck to path atomically (a temporary file, then a rename).
func SaveCheckpoint(path string, ck *Checkpoint) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(ck); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ck Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ck); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return &ck, nil
}

// SplitTrainVal shuffles the training set with a fixed seed (the same for
// every model, so that all share one validation set) and holds out val
// images; limit > 0 keeps only that many training images.
func SplitTrainVal(s *dataset.Set, val, limit int) (tr, va *dataset.Set) {
	perm := rand.New(rand.NewSource(20190405)).Perm(s.Len())
	va = s.Subset(perm[:val])
	rest := perm[val:]
	if limit > 0 && limit < len(rest) {
		rest = rest[:limit]
	}
	return s.Subset(rest), va
}

// MeanStd returns the mean and standard deviation of the pixels in [0, 1].
func MeanStd(s *dataset.Set) (float32, float32) {
	var sum, sq float64
	for _, p := range s.Pixels {
		v := float64(p) / 255
		sum += v
		sq += v * v
	}
	n := float64(len(s.Pixels))
	m := sum / n
	return float32(m), float32(math.Sqrt(sq/n - m*m))
}

// Augment writes image i of s, shifted by (dy, dx) with zero padding (a
// random crop of the image padded by 2 pixels) and mirrored when flip,
// normalized as (p/255 - mean)/std, into x. With no shift and no flip it is
// the plain normalized image, as evaluation uses it.
func Augment(x []float32, s *dataset.Set, i, dy, dx int, flip bool, mean, std float32) {
	R, C := s.Rows, s.Cols
	img := s.Image(i)
	bg := (0 - mean) / std
	for y := 0; y < R; y++ {
		sy := y + dy
		for c := 0; c < C; c++ {
			sc := c
			if flip {
				sc = C - 1 - c
			}
			sc += dx
			v := bg
			if uint(sy) < uint(R) && uint(sc) < uint(C) {
				v = (float32(img[sy*C+sc])/255 - mean) / std
			}
			x[y*C+c] = v
		}
	}
}

// Accuracy returns the accuracy in percent of the trainer's network
// (inference mode) on s, normalized with mean and std, batch images at a time.
func Accuracy(tr *Trainer, s *dataset.Set, mean, std float32, batch int) float64 {
	npx := s.Rows * s.Cols
	correct := 0
	x := make([]float32, batch*npx)
	for i0 := 0; i0 < s.Len(); i0 += batch {
		n := min(batch, s.Len()-i0)
		for k := 0; k < n; k++ {
			Augment(x[k*npx:(k+1)*npx], s, i0+k, 0, 0, false, mean, std)
		}
		for k, p := range tr.Predict(x[:n*npx], n) {
			if p == int(s.Labels[i0+k]) {
				correct++
			}
		}
	}
	return 100 * float64(correct) / float64(s.Len())
}

// Run trains r from scratch, or from the checkpoint of o.Out when o.Resume,
// saving a checkpoint after every epoch; at the end it measures the network
// on the validation and test sets (fp32, and int8 as written, run by the
// inference engine) and writes the int8 model with its provenance to o.Out.
// The recipe: SGD with Nesterov momentum 0.9, linear warm-up then cosine
// decay, random crops of 2-pixel zero padding (and horizontal flips on
// Fashion-MNIST). The same Recipe trains to the same weights, whether run
// straight through or stopped and resumed. Run returns ctx.Err() between
// steps when ctx is done; the last epoch's checkpoint stays.
func Run(ctx context.Context, r Recipe, o Options) (*Result, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, errors.New("train.Run: no output file")
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	full, err := dataset.Load(r.Dataset, "train")
	if err != nil {
		return nil, err
	}
	if r.Val >= full.Len() {
		return nil, recipeErrorf("--val %d leaves no training images", r.Val)
	}
	trainSet, valSet := SplitTrainVal(full, r.Val, r.Limit)
	mean, std := MeanStd(trainSet)
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: r.Alpha, Width: r.Width, Classes: len(full.ClassNames)})
	if err != nil {
		return nil, err
	}
	ps := octcore.RandomParams(g, r.Seed)
	m, err := NewModel(g, ps, full.Rows, full.Cols)
	if err != nil {
		return nil, err
	}
	steps := trainSet.Len() / r.Batch
	if steps == 0 {
		return nil, recipeErrorf("--batch %d is larger than the %d training images", r.Batch, trainSet.Len())
	}
	cfg := Config{LR: r.LR * float64(r.Batch) / 128, Momentum: 0.9, Nesterov: true, WeightDecay: r.WeightDecay,
		Warmup: min(steps/2, 200), TotalSteps: steps * r.Epochs, Workers: r.Workers}
	tr := NewTrainer(m, cfg)
	cost, _ := octcore.CostOf(g, full.Rows, full.Cols)
	fmt.Fprintf(log, "oct-resnet-mini alpha %v width %v on %s: %d params, %.2f M MACs; %d train / %d val images, %d steps/epoch, %d workers\n",
		r.Alpha, r.Width, r.Dataset, cost.Params, float64(cost.MACs)/1e6, trainSet.Len(), valSet.Len(), steps, r.Workers)

	ck := &Checkpoint{Opts: r}
	cpath := CheckpointPath(o.CheckpointDir, o.Out)
	if o.Resume {
		old, err := LoadCheckpoint(cpath)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(log, "no checkpoint at %s: starting afresh\n", cpath)
		case err != nil:
			return nil, err
		case old.Opts != r:
			return nil, fmt.Errorf("checkpoint %s was made with %+v, not %+v; delete it or use the same flags", cpath, old.Opts, r)
		default:
			ck = old
			for name, d := range ck.Params {
				p := ps[name]
				if p == nil || len(p.Data) != len(d) {
					return nil, fmt.Errorf("checkpoint %s: parameter %s missing from the network or of another size", cpath, name)
				}
				copy(p.Data, d)
			}
			if len(ck.Velocity) != len(tr.Velocity) {
				return nil, fmt.Errorf("checkpoint %s: %d momentum values, the network has %d", cpath, len(ck.Velocity), len(tr.Velocity))
			}
			copy(tr.Velocity, ck.Velocity)
			tr.Step = ck.Step
			fmt.Fprintf(log, "resumed from %s after epoch %d\n", cpath, ck.Epoch)
		}
	}

	flip := r.Dataset == "fashion-mnist"
	npx := full.Rows * full.Cols
	x := make([]float32, r.Batch*npx)
	y := make([]uint8, r.Batch)
	for epoch := ck.Epoch; epoch < r.Epochs; epoch++ {
		t0 := time.Now()
		rng := rand.New(rand.NewSource(r.Seed*1000003 + int64(epoch)))
		perm := rng.Perm(trainSet.Len())
		var lossSum float64
		correct, seen := 0, 0
		if o.Progress != nil {
			o.Progress(Progress{Epoch: epoch + 1, Epochs: r.Epochs, Steps: steps})
		}
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for k := 0; k < r.Batch; k++ {
				i := perm[s*r.Batch+k]
				dy, dx := rng.Intn(5)-2, rng.Intn(5)-2
				f := flip && rng.Intn(2) == 1
				Augment(x[k*npx:(k+1)*npx], trainSet, i, dy, dx, f, mean, std)
				y[k] = trainSet.Labels[i]
			}
			l, c := tr.TrainStep(x, y)
			if math.IsNaN(l) {
				return nil, fmt.Errorf("epoch %d step %d: the loss is NaN", epoch+1, s)
			}
			lossSum += l
			correct += c
			seen += r.Batch
			if o.Progress != nil {
				o.Progress(Progress{Epoch: epoch + 1, Epochs: r.Epochs, Step: s + 1, Steps: steps,
					Loss: lossSum / float64(seen), Accuracy: 100 * float64(correct) / float64(seen)})
			}
		}
		va := Accuracy(tr, valSet, mean, std, r.Batch)
		ck.Seconds += time.Since(t0).Seconds()
		line := fmt.Sprintf("epoch %d/%d: loss %.4f, train acc %.2f%%, val acc %.2f%%, lr %.4g, %.0f s (%.0f images/s)",
			epoch+1, r.Epochs, lossSum/float64(seen), 100*float64(correct)/float64(seen), va, tr.LR(tr.Step-1),
			time.Since(t0).Seconds(), float64(seen)/time.Since(t0).Seconds())
		fmt.Fprintln(log, line)
		ck.Log = append(ck.Log, line)
		ck.Epoch = epoch + 1
		ck.Step = tr.Step
		ck.Velocity = tr.Velocity
		ck.Params = map[string][]float32{}
		for name, p := range ps {
			ck.Params[name] = p.Data
		}
		if err := SaveCheckpoint(cpath, ck); err != nil {
			return nil, err
		}
		if o.StopAfter > 0 && ck.Epoch >= o.StopAfter && ck.Epoch < r.Epochs {
			fmt.Fprintf(log, "stopping after epoch %d as asked; continue with --resume\n", ck.Epoch)
			return &Result{Epochs: ck.Epoch, Stopped: true, Seconds: ck.Seconds}, nil
		}
	}

	// Final numbers on the test set: fp32 from the trained network, int8
	// from the file as written, run by the inference engine.
	test, err := dataset.Load(r.Dataset, "test")
	if err != nil {
		return nil, err
	}
	res := &Result{Epochs: ck.Epoch, Seconds: ck.Seconds}
	res.ValAcc = Accuracy(tr, valSet, mean, std, r.Batch)
	res.TestFP32 = Accuracy(tr, test, mean, std, r.Batch)
	model := &weights.Model{Graph: g, Params: ps, Meta: weights.Metadata{
		Name:   fmt.Sprintf("oct-resnet-mini alpha %v on %s", r.Alpha, map[string]string{"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}[r.Dataset]),
		Labels: full.ClassNames,
		Input:  weights.InputSpec{Channels: 1, Height: full.Rows, Width: full.Cols, Mean: []float32{mean}, Std: []float32{std}},
	}}
	var buf bytes.Buffer
	if err := weights.Write(&buf, model, weights.WriteOptions{DType: "int8"}); err != nil {
		return nil, err
	}
	loaded, err := weights.Load(buf.Bytes())
	if err != nil {
		return nil, err
	}
	res.TestInt8, err = dataset.AccuracyOf(loaded, test, r.Workers)
	if err != nil {
		return nil, err
	}
	aug := "random crop 28 of 2-px zero padding"
	if flip {
		aug += " + horizontal flip"
	}
	model.Meta.Provenance = map[string]string{
		"dataset":            r.Dataset,
		"architecture":       "oct-resnet-mini",
		"alpha":              strconv.FormatFloat(r.Alpha, 'g', -1, 64),
		"width":              strconv.FormatFloat(r.Width, 'g', -1, 64),
		"params":             strconv.FormatInt(cost.Params, 10),
		"macs":               strconv.FormatInt(cost.MACs, 10),
		"seed":               strconv.FormatInt(r.Seed, 10),
		"command":            o.Command,
		"recipe":             fmt.Sprintf("SGD Nesterov momentum 0.9, lr %g (batch %d), weight decay %g, %d warm-up steps then cosine to 0, %d epochs; %s; %d images held out for validation (split seed 20190405)", cfg.LR, r.Batch, r.WeightDecay, cfg.Warmup, r.Epochs, aug, r.Val),
		"train_images":       strconv.Itoa(trainSet.Len()),
		"train_seconds":      strconv.FormatFloat(math.Round(ck.Seconds), 'f', 0, 64),
		"train_workers":      strconv.Itoa(r.Workers),
		"val_accuracy":       fmt.Sprintf("%.2f", res.ValAcc),
		"test_accuracy_fp32": fmt.Sprintf("%.2f", res.TestFP32),
		"test_accuracy_int8": fmt.Sprintf("%.2f", res.TestInt8),
		"test_images":        strconv.Itoa(test.Len()),
		"go":                 runtime.Version(),
		"simd":               strconv.FormatBool(octcore.SIMD),
	}
	buf.Reset()
	if err := weights.Write(&buf, model, weights.WriteOptions{DType: "int8"}); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(o.Out, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	res.Model, res.Bytes = model, buf.Len()
	fmt.Fprintf(log, "test accuracy: fp32 %.2f%%, int8 %.2f%% (val %.2f%%); %d bytes written to %s; trained in %.0f s\n",
		res.TestFP32, res.TestInt8, res.ValAcc, buf.Len(), o.Out, ck.Seconds)
	return res, nil
}
