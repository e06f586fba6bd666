package train

import (
	"fmt"
	"math/rand"
	"runtime"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// BenchmarkTrainStep measures training throughput of the small Oct-ResNet
// (width 1, 28x28 inputs, batch 128) in images/s, with one worker (one
// thread) and with one worker per CPU.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		alpha   float64
		workers int
	}{{0, 1}, {0.5, 1}, {0, runtime.GOMAXPROCS(0)}, {0.5, runtime.GOMAXPROCS(0)}} {
		alpha := c.alpha
		b.Run(fmt.Sprintf("alpha=%v/workers=%d", alpha, c.workers), func(b *testing.B) {
			g, _ := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: alpha})
			m, err := NewModel(g, octcore.RandomParams(g, 1), 28, 28)
			if err != nil {
				b.Fatal(err)
			}
			tr := NewTrainer(m, Config{LR: 0.01, Momentum: 0.9, TotalSteps: 1 << 30, Workers: c.workers})
			x, y := batch(rand.New(rand.NewSource(1)), 128, 1, 28, 28)
			tr.TrainStep(x, y)
			b.ResetTimer()
			c0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				tr.TrainStep(x, y)
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
			// On a shared machine the wall clock counts other processes'
			// time too; the process's CPU time per image does not.
			if c1 := cpuSeconds(); c1 > c0 {
				b.ReportMetric(float64(128*b.N)/(c1-c0), "images/cpu-s")
			}
		})
	}
}
