package octcore

import (
	"fmt"
	"math/rand"
	"testing"
)

// runBench times f b.N times and reports, besides ns/op, the CPU time per
// operation (cpu-ms/op) and, when macs > 0, GFLOP/s of CPU time.
func runBench(b *testing.B, macs float64, f func()) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		f()
	}
	cpu := (cpuTime() - c0).Seconds() / float64(b.N)
	b.ReportMetric(cpu*1e3, "cpu-ms/op")
	if macs > 0 && cpu > 0 {
		b.ReportMetric(2*macs/cpu/1e9, "GFLOP/s")
	}
}

// benchNet builds g with random weights and a random input of c x size x size.
func benchNet(b *testing.B, g Graph, size int) (*Net, *Tensor) {
	b.Helper()
	net, err := Build(g, RandomParams(g, 1))
	if err != nil {
		b.Fatal(err)
	}
	x := randTensor(rand.New(rand.NewSource(1)), net.InputChannels(), size, size)
	if _, err := net.Run(x); err != nil { // plan the arena and warm up
		b.Fatal(err)
	}
	return net, x
}

// BenchmarkConv3x3 is the 3x3, 64 -> 64 convolution at 56x56 (pad 1): the
// inner loop of ResNet's first stage. It reports GFLOP/s (2 FLOPs per MAC).
func BenchmarkConv3x3(b *testing.B) {
	g := Graph{{Name: "input", Kind: "input", Out: 64},
		{Name: "conv", Kind: "conv", In: 64, Out: 64, Kernel: 3, Pad: 1}}
	net, x := benchNet(b, g, 56)
	runBench(b, 64.0*64*9*56*56, func() { net.Run(x) })
}

// BenchmarkOctResNet50 runs Oct-ResNet-50 at 224x224 end to end for the
// paper's alphas; compare each alpha's ns/op with alpha 0 against its MAC ratio.
func BenchmarkOctResNet50(b *testing.B) {
	benchArch(b, "oct-resnet50", 0, .125, .25, .5, .75)
}

// BenchmarkOctMobileNet runs Oct-MobileNet v1 (width 1) at 224x224: the
// depthwise octave convolutions and the 1x1 ones.
func BenchmarkOctMobileNet(b *testing.B) {
	benchArch(b, "oct-mobilenetv1", 0, .5)
}

// benchArch runs architecture arch at 224x224 for each alpha, reporting its GMACs.
func benchArch(b *testing.B, arch string, alphas ...float64) {
	for _, a := range alphas {
		b.Run(fmt.Sprintf("alpha=%v", a), func(b *testing.B) {
			g, _ := Arch(arch, ArchOptions{Alpha: a})
			net, x := benchNet(b, g, 224)
			c, _ := CostOf(g, 224, 224)
			b.ReportMetric(float64(c.MACs)/1e9, "GMACs")
			runBench(b, float64(c.MACs), func() { net.Run(x) })
		})
	}
}

// BenchmarkOctResNetMini is the small Fashion-MNIST network at 28x28.
func BenchmarkOctResNetMini(b *testing.B) {
	for _, a := range []float64{0, .125, .25, .5, .75} {
		b.Run(fmt.Sprintf("alpha=%v", a), func(b *testing.B) {
			g, _ := Arch("oct-resnet-mini", ArchOptions{Alpha: a})
			net, x := benchNet(b, g, 28)
			c, _ := CostOf(g, 28, 28)
			runBench(b, float64(c.MACs), func() { net.Run(x) })
		})
	}
}

// BenchmarkOctConv3x3 is the same 3x3 layer as BenchmarkConv3x3 as an
// octave convolution for each alpha (alpha_in = alpha_out): its time against
// alpha 0 should follow the MAC ratio (1, .82, .67, .44, .30).
func BenchmarkOctConv3x3(b *testing.B) {
	for _, a := range []float64{0, .125, .25, .5, .75} {
		b.Run(fmt.Sprintf("alpha=%v", a), func(b *testing.B) {
			g := Graph{{Name: "input", Kind: "input", Out: 64, AlphaOut: a},
				{Name: "conv", Kind: "octconv", In: 64, Out: 64, Kernel: 3, Pad: 1, AlphaIn: a, AlphaOut: a}}
			net, err := Build(g, RandomParams(g, 1))
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewSource(1))
			cH, cL := Split(64, a)
			x := Feature{H: randTensor(rng, cH, 56, 56)}
			if cL > 0 {
				x.L = randTensor(rng, cL, 28, 28)
			}
			net.RunFeature(x)
			c, _ := net.Cost(56, 56)
			runBench(b, float64(c.MACs), func() { net.RunFeature(x) })
		})
	}
}

// BenchmarkWinograd times a 3x3 stride-1 convolution (c -> c channels, pad
// 1, at hw x hw) with the direct kernel and as Winograd F(2x2, 3x3), side by
// side, over the channel counts and map sizes of the crossover rule
// (winoWins). GFLOP/s counts the direct convolution's multiply-adds for
// both: for Winograd it is the effective rate.
func BenchmarkWinograd(b *testing.B) {
	for _, s := range []struct{ c, hw int }{
		{8, 28}, {16, 28}, {8, 14}, {16, 14}, {16, 56}, {32, 56}, {64, 56}, {32, 28}, {64, 28}, {128, 28}, {64, 14}, {128, 14}, {256, 14},
		{128, 7}, {256, 7}, {512, 7}, {64, 112},
	} {
		for _, mode := range []string{"off", "on"} {
			b.Run(fmt.Sprintf("c=%d/hw=%d/wino=%s", s.c, s.hw, mode), func(b *testing.B) {
				prev, _ := SetWinograd(mode)
				defer SetWinograd(prev)
				g := Graph{{Name: "input", Kind: "input", Out: s.c},
					{Name: "conv", Kind: "conv", In: s.c, Out: s.c, Kernel: 3, Pad: 1, Act: "relu"}}
				net, x := benchNet(b, g, s.hw)
				runBench(b, float64(s.c*s.c*9*s.hw*s.hw), func() { net.Run(x) })
			})
		}
	}
}
