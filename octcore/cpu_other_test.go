//go:build !js && !wasip1 && !windows && !plan9

package octcore

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time of the process (user + system): on a shared
// machine it is steadier than wall time, which also counts the time the
// process waits for a core. Run the benchmarks with GOMAXPROCS=1.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
