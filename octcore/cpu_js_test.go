//go:build js

package octcore

import (
	"syscall/js"
	"time"
)

// cpuTime returns the CPU time of the Node process (user + system): on a
// shared machine it is steadier than wall time, which also counts the time
// the process waits for a core.
func cpuTime() time.Duration {
	u := js.Global().Get("process").Call("cpuUsage")
	return time.Duration((u.Get("user").Float() + u.Get("system").Float()) * 1e3)
}
