package train

import (
	"fmt"
	"math/rand"
	"runtime"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// BenchmarkTrainStep measures training throughput of the small Oct-ResNet
// (width 1, 28x28 inputs, batch 128, one worker per CPU) in images/s.
func BenchmarkTrainStep(b *testing.B) {
	for _, alpha := range []float64{0, 0.5} {
		b.Run(fmt.Sprintf("alpha=%v", alpha), func(b *testing.B) {
			g, _ := octcore.Arch("oct-resnet-mini", octcore.ArchOptions{Alpha: alpha})
			m, err := NewModel(g, octcore.RandomParams(g, 1), 28, 28)
			if err != nil {
				b.Fatal(err)
			}
			tr := NewTrainer(m, Config{LR: 0.01, Momentum: 0.9, TotalSteps: 1 << 30, Workers: runtime.GOMAXPROCS(0)})
			x, y := batch(rand.New(rand.NewSource(1)), 128, 1, 28, 28)
			tr.TrainStep(x, y)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.TrainStep(x, y)
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
