package main

import (
	"bytes"
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

	"github.com/schollz/progressbar/v3"

	"github.com/octave-project/octave/octcore"
	"github.com/octave-project/octave/octcore/dataset"
	"github.com/octave-project/octave/octcore/train"
	"github.com/octave-project/octave/octcore/weights"
)

func init() {
	register("train", "train oct-resnet-mini on MNIST or Fashion-MNIST and write an int8 model", runTrain)
}

// trainOpts is the recipe of one training run.
type trainOpts struct {
	Dataset     string
	Alpha       float64
	Width       float64
	Epochs      int
	Batch       int
	LR          float64
	WeightDecay float64
	Seed        int64
	Val         int
	Limit       int
	Workers     int
}

// checkpoint is the state saved after every epoch.
type checkpoint struct {
	Opts     trainOpts
	Epoch    int // epochs done
	Step     int
	Params   map[string][]float32
	Velocity []float32
	Seconds  float64 // training time so far
	Log      []string
}

func runTrain(args []string, stdout io.Writer) error {
	fs := newFlags("train", "[flags]")
	var o trainOpts
	fs.StringVar(&o.Dataset, "dataset", "fashion-mnist", "data set: fashion-mnist or mnist")
	fs.Float64Var(&o.Alpha, "alpha", 0.5, "ratio of low-frequency channels")
	fs.Float64Var(&o.Width, "width", 1, "width multiplier of oct-resnet-mini (16w, 32w, 64w channels)")
	fs.IntVar(&o.Epochs, "epochs", 6, "epochs")
	fs.IntVar(&o.Batch, "batch", 128, "batch size")
	fs.Float64Var(&o.LR, "lr", 0.1, "peak learning rate (SGD, Nesterov momentum 0.9, cosine schedule)")
	fs.Float64Var(&o.WeightDecay, "wd", 5e-4, "weight decay of conv and linear weights")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the initialization, the order of the batches and the augmentation")
	fs.IntVar(&o.Val, "val", 5000, "training images held out for validation")
	fs.IntVar(&o.Limit, "limit", 0, "use only this many training images (0: all; for quick trials)")
	fs.IntVar(&o.Workers, "workers", runtime.NumCPU(), "goroutines (the batch is split between them)")
	out := fs.String("out", "", "model file to write (int8 safetensors); default models/weights/<dataset>-oct-a<alpha>.safetensors")
	ckdir := fs.String("checkpoints", "models/checkpoints", "directory of the per-epoch checkpoints")
	resume := fs.Bool("resume", false, "continue from the checkpoint of the same output file when there is one")
	stopAfter := fs.Int("stop-after", 0, "stop after this many epochs in all, leaving the checkpoint to --resume from (0: train to the end)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %v", fs.Args())
	}
	if o.Dataset != "mnist" && o.Dataset != "fashion-mnist" {
		return usagef("--dataset must be mnist or fashion-mnist, not %q", o.Dataset)
	}
	if o.Epochs < 1 || o.Batch < 1 || o.Val < 0 || o.Workers < 1 || !(o.LR > 0) {
		return usagef("--epochs, --batch and --workers must be positive, --lr > 0, --val >= 0")
	}
	if *out == "" {
		*out = filepath.Join("models", "weights", DefaultModelName(o.Dataset, o.Alpha))
	}
	command := "octave train " + strings.Join(args, " ")
	return trainRun(o, *out, *ckdir, *resume, *stopAfter, command, stdout)
}

// DefaultModelName is the file name of a shipped model: alpha in thousandths,
// so fashion-oct-a500 is alpha 0.5 on Fashion-MNIST, fashion-oct-a125 alpha 0.125.
func DefaultModelName(set string, alpha float64) string {
	short := map[string]string{"fashion-mnist": "fashion", "mnist": "mnist"}[set]
	return fmt.Sprintf("%s-oct-a%03d.safetensors", short, int(math.Round(alpha*1000)))
}

// splitTrainVal shuffles the training set with a fixed seed (the same for
// every model, so that all share one validation set) and holds out val images.
func splitTrainVal(s *dataset.Set, val, limit int) (tr, va *dataset.Set) {
	perm := rand.New(rand.NewSource(20190405)).Perm(s.Len())
	va = s.Subset(perm[:val])
	rest := perm[val:]
	if limit > 0 && limit < len(rest) {
		rest = rest[:limit]
	}
	return s.Subset(rest), va
}

// meanStd returns the mean and standard deviation of the pixels in [0, 1].
func meanStd(s *dataset.Set) (float32, float32) {
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

// augment writes image i of s, shifted by (dy, dx) with zero padding (a
// random crop of the image padded by 2 pixels) and mirrored when flip,
// normalized as (p/255 - mean)/std, into x. With no shift and no flip it is
// the plain normalized image, as evaluation uses it.
func augment(x []float32, s *dataset.Set, i, dy, dx int, flip bool, mean, std float32) {
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

func ckptPath(dir, out string) string {
	return filepath.Join(dir, strings.TrimSuffix(filepath.Base(out), ".safetensors")+".ckpt")
}

func saveCheckpoint(path string, ck *checkpoint) error {
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

func loadCheckpoint(path string) (*checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ck); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return &ck, nil
}

func trainRun(o trainOpts, out, ckdir string, resume bool, stopAfter int, command string, stdout io.Writer) error {
	full, err := dataset.Load(o.Dataset, "train")
	if err != nil {
		return err
	}
	if o.Val >= full.Len() {
		return usagef("--val %d leaves no training images", o.Val)
	}
	trainSet, valSet := splitTrainVal(full, o.Val, o.Limit)
	mean, std := meanStd(trainSet)
	g, err := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: o.Alpha, Width: o.Width, Classes: len(full.ClassNames)})
	if err != nil {
		return err
	}
	ps := octcore.RandomParams(g, o.Seed)
	m, err := train.NewModel(g, ps, full.Rows, full.Cols)
	if err != nil {
		return err
	}
	steps := trainSet.Len() / o.Batch
	if steps == 0 {
		return usagef("--batch %d is larger than the %d training images", o.Batch, trainSet.Len())
	}
	cfg := train.Config{LR: o.LR * float64(o.Batch) / 128, Momentum: 0.9, Nesterov: true, WeightDecay: o.WeightDecay,
		Warmup: min(steps/2, 200), TotalSteps: steps * o.Epochs, Workers: o.Workers}
	tr := train.NewTrainer(m, cfg)
	cost, _ := octcore.CostOf(g, full.Rows, full.Cols)
	fmt.Fprintf(stdout, "oct-resnet-mini alpha %v width %v on %s: %d params, %.2f M MACs; %d train / %d val images, %d steps/epoch, %d workers\n",
		o.Alpha, o.Width, o.Dataset, cost.Params, float64(cost.MACs)/1e6, trainSet.Len(), valSet.Len(), steps, o.Workers)

	ck := &checkpoint{Opts: o}
	cpath := ckptPath(ckdir, out)
	if resume {
		old, err := loadCheckpoint(cpath)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(stdout, "no checkpoint at %s: starting afresh\n", cpath)
		case err != nil:
			return err
		case old.Opts != o:
			return fmt.Errorf("checkpoint %s was made with %+v, not %+v; delete it or use the same flags", cpath, old.Opts, o)
		default:
			ck = old
			for name, d := range ck.Params {
				copy(ps[name].Data, d)
			}
			copy(tr.Velocity, ck.Velocity)
			tr.Step = ck.Step
			fmt.Fprintf(stdout, "resumed from %s after epoch %d\n", cpath, ck.Epoch)
		}
	}

	flip := o.Dataset == "fashion-mnist"
	npx := full.Rows * full.Cols
	x := make([]float32, o.Batch*npx)
	y := make([]uint8, o.Batch)
	for epoch := ck.Epoch; epoch < o.Epochs; epoch++ {
		t0 := time.Now()
		rng := rand.New(rand.NewSource(o.Seed*1000003 + int64(epoch)))
		perm := rng.Perm(trainSet.Len())
		bar := progressbar.NewOptions(steps,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch+1, o.Epochs)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(500*time.Millisecond))
		var lossSum float64
		correct, seen := 0, 0
		for s := 0; s < steps; s++ {
			for k := 0; k < o.Batch; k++ {
				i := perm[s*o.Batch+k]
				dy, dx := rng.Intn(5)-2, rng.Intn(5)-2
				f := flip && rng.Intn(2) == 1
				augment(x[k*npx:(k+1)*npx], trainSet, i, dy, dx, f, mean, std)
				y[k] = trainSet.Labels[i]
			}
			l, c := tr.TrainStep(x, y)
			if math.IsNaN(l) {
				return fmt.Errorf("epoch %d step %d: the loss is NaN", epoch+1, s)
			}
			lossSum += l
			correct += c
			seen += o.Batch
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f acc %.2f%%", epoch+1, o.Epochs, lossSum/float64(seen), 100*float64(correct)/float64(seen)))
			bar.Add(1)
		}
		bar.Finish()
		fmt.Fprintln(os.Stderr)
		va := accuracyTrainer(tr, valSet, mean, std, o.Batch)
		ck.Seconds += time.Since(t0).Seconds()
		line := fmt.Sprintf("epoch %d/%d: loss %.4f, train acc %.2f%%, val acc %.2f%%, lr %.4g, %.0f s (%.0f images/s)",
			epoch+1, o.Epochs, lossSum/float64(seen), 100*float64(correct)/float64(seen), va, tr.LR(tr.Step-1),
			time.Since(t0).Seconds(), float64(seen)/time.Since(t0).Seconds())
		fmt.Fprintln(stdout, line)
		ck.Log = append(ck.Log, line)
		ck.Epoch = epoch + 1
		ck.Step = tr.Step
		ck.Velocity = tr.Velocity
		ck.Params = map[string][]float32{}
		for name, p := range ps {
			ck.Params[name] = p.Data
		}
		if err := saveCheckpoint(cpath, ck); err != nil {
			return err
		}
		if stopAfter > 0 && ck.Epoch >= stopAfter && ck.Epoch < o.Epochs {
			fmt.Fprintf(stdout, "stopping after epoch %d as asked; continue with --resume\n", ck.Epoch)
			return nil
		}
	}

	// Final numbers on the test set: fp32 from the trained network, int8
	// from the file as written, run by the inference engine.
	test, err := dataset.Load(o.Dataset, "test")
	if err != nil {
		return err
	}
	valAcc := accuracyTrainer(tr, valSet, mean, std, o.Batch)
	fp32 := accuracyTrainer(tr, test, mean, std, o.Batch)
	model := &weights.Model{Graph: g, Params: ps, Meta: weights.Metadata{
		Name:   fmt.Sprintf("oct-resnet-mini alpha %v on %s", o.Alpha, map[string]string{"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}[o.Dataset]),
		Labels: full.ClassNames,
		Input:  weights.InputSpec{Channels: 1, Height: full.Rows, Width: full.Cols, Mean: []float32{mean}, Std: []float32{std}},
	}}
	var buf bytes.Buffer
	if err := weights.Write(&buf, model, weights.WriteOptions{DType: "int8"}); err != nil {
		return err
	}
	loaded, err := weights.Load(buf.Bytes())
	if err != nil {
		return err
	}
	int8Acc, err := dataset.AccuracyOf(loaded, test, o.Workers)
	if err != nil {
		return err
	}
	aug := "random crop 28 of 2-px zero padding"
	if flip {
		aug += " + horizontal flip"
	}
	model.Meta.Provenance = map[string]string{
		"dataset":            o.Dataset,
		"architecture":       "oct-resnet-mini",
		"alpha":              strconv.FormatFloat(o.Alpha, 'g', -1, 64),
		"width":              strconv.FormatFloat(o.Width, 'g', -1, 64),
		"params":             strconv.FormatInt(cost.Params, 10),
		"macs":               strconv.FormatInt(cost.MACs, 10),
		"seed":               strconv.FormatInt(o.Seed, 10),
		"command":            command,
		"recipe":             fmt.Sprintf("SGD Nesterov momentum 0.9, lr %g (batch %d), weight decay %g, %d warm-up steps then cosine to 0, %d epochs; %s; %d images held out for validation (split seed 20190405)", cfg.LR, o.Batch, o.WeightDecay, cfg.Warmup, o.Epochs, aug, o.Val),
		"train_images":       strconv.Itoa(trainSet.Len()),
		"train_seconds":      strconv.FormatFloat(math.Round(ck.Seconds), 'f', 0, 64),
		"train_workers":      strconv.Itoa(o.Workers),
		"val_accuracy":       fmt.Sprintf("%.2f", valAcc),
		"test_accuracy_fp32": fmt.Sprintf("%.2f", fp32),
		"test_accuracy_int8": fmt.Sprintf("%.2f", int8Acc),
		"test_images":        strconv.Itoa(test.Len()),
		"go":                 runtime.Version(),
		"simd":               strconv.FormatBool(octcore.SIMD),
	}
	buf.Reset()
	if err := weights.Write(&buf, model, weights.WriteOptions{DType: "int8"}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy: fp32 %.2f%%, int8 %.2f%% (val %.2f%%); %d bytes written to %s; trained in %.0f s\n",
		fp32, int8Acc, valAcc, buf.Len(), out, ck.Seconds)
	return nil
}

// accuracyTrainer returns the accuracy in percent of the trainer's network
// (inference mode) on s.
func accuracyTrainer(tr *train.Trainer, s *dataset.Set, mean, std float32, batch int) float64 {
	npx := s.Rows * s.Cols
	correct := 0
	x := make([]float32, batch*npx)
	for i0 := 0; i0 < s.Len(); i0 += batch {
		n := min(batch, s.Len()-i0)
		for k := 0; k < n; k++ {
			augment(x[k*npx:(k+1)*npx], s, i0+k, 0, 0, false, mean, std)
		}
		for k, p := range tr.Predict(x[:n*npx], n) {
			if p == int(s.Labels[i0+k]) {
				correct++
			}
		}
	}
	return 100 * float64(correct) / float64(s.Len())
}
