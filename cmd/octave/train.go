package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/octave-project/octave/octcore/train"
)

func init() {
	register("train", "train oct-resnet-mini on MNIST or Fashion-MNIST and write an int8 model", runTrain)
}

func runTrain(args []string, stdout io.Writer) error {
	fs := newFlags("train", "[flags]")
	var o train.Recipe
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
	if err := o.Check(); err != nil {
		return usagef("%v", err)
	}
	if *out == "" {
		*out = filepath.Join("models", "weights", DefaultModelName(o.Dataset, o.Alpha))
	}
	var bar *progressbar.ProgressBar
	_, err := train.Run(context.Background(), o, train.Options{
		Out: *out, CheckpointDir: *ckdir, Resume: *resume, StopAfter: *stopAfter,
		Command: "octave train " + strings.Join(args, " "),
		Log:     stdout,
		Progress: func(p train.Progress) {
			if p.Step == 0 {
				bar = progressbar.NewOptions(p.Steps,
					progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", p.Epoch, p.Epochs)),
					progressbar.OptionShowCount(),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionShowElapsedTimeOnFinish(),
					progressbar.OptionSetWidth(20),
					progressbar.OptionThrottle(500*time.Millisecond))
				return
			}
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f acc %.2f%%", p.Epoch, p.Epochs, p.Loss, p.Accuracy))
			bar.Add(1)
			if p.Step == p.Steps {
				bar.Finish()
				fmt.Fprintln(os.Stderr)
			}
		},
	})
	var re *train.RecipeError
	if errors.As(err, &re) {
		return usagef("%s", re.Msg)
	}
	return err
}

// DefaultModelName is the file name of a shipped model: alpha in thousandths,
// so fashion-oct-a500 is alpha 0.5 on Fashion-MNIST, fashion-oct-a125 alpha 0.125.
func DefaultModelName(set string, alpha float64) string {
	short := map[string]string{"fashion-mnist": "fashion", "mnist": "mnist"}[set]
	return fmt.Sprintf("%s-oct-a%03d.safetensors", short, int(math.Round(alpha*1000)))
}
