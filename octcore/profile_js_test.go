//go:build js

package octcore

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// BenchmarkStageProfile compares, stage by stage, the CPU time of
// Oct-ResNet-50 at alpha .5 with alpha 0 against their MAC ratio
// (docs/PERFORMANCE.md). It prints a table; it measures, it asserts nothing:
//
//	PATH=$(GOTOOLCHAIN=go1.27.3 go env GOROOT)/lib/wasm:$PATH \
//	  GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd GOOS=js GOARCH=wasm \
//	  go test -run '^$' -bench StageProfile -benchtime 1x ./octcore
func BenchmarkStageProfile(b *testing.B) {
	layerClock = cpuTime
	defer func() { layerClock = monotonic }()
	x := randTensor(rand.New(rand.NewSource(1)), 3, 224, 224)
	prof := func(a float64) (map[string]time.Duration, map[string]int64, []string) {
		g, _ := Arch("oct-resnet50", ArchOptions{Alpha: a})
		net, _ := Build(g, RandomParams(g, 1))
		c, _ := CostOf(g, 224, 224)
		net.Run(x)
		ts := map[string]time.Duration{}
		ms := map[string]int64{}
		var order []string
		for rep := 0; rep < 3; rep++ {
			net.Run(x)
			for i, d := range net.LayerTimes() {
				name := g[i].Name
				key := name
				if j := strings.Index(name, "."); j > 0 {
					key = name[:j]
					if rest := name[j+1:]; strings.Contains(rest, ".") {
						key += "." + rest[strings.LastIndex(rest, ".")+1:]
					}
				}
				if _, ok := ts[key]; !ok && rep == 0 {
					order = append(order, key)
				}
				ts[key] += d / 3
				if rep == 0 {
					ms[key] += c.Layers[i].MACs
				}
			}
		}
		return ts, ms, order
	}
	t0, m0, order := prof(0)
	t5, m5, _ := prof(.5)
	var s0, s5 time.Duration
	var n0, n5 int64
	for _, k := range order {
		s0, s5, n0, n5 = s0+t0[k], s5+t5[k], n0+m0[k], n5+m5[k]
		if m0[k] == 0 && t0[k] < time.Millisecond {
			continue
		}
		fmt.Printf("%-22s a0 %7.2f ms  a.5 %7.2f ms  time ratio %5.2f  MAC ratio %5.2f\n", k, t0[k].Seconds()*1e3, t5[k].Seconds()*1e3, t0[k].Seconds()/t5[k].Seconds(), float64(m0[k])/float64(max(m5[k], 1)))
	}
	b.ReportMetric(s0.Seconds()/s5.Seconds(), "time-ratio")
	b.ReportMetric(float64(n0)/float64(n5), "MAC-ratio")
}
