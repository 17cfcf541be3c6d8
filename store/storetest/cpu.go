package storetest

import (
	"syscall"
	"time"
)

// CPUTime is the processor time this process has used, user and system.
// Benchmarks on a shared machine report work per CPU-second beside the
// wall-clock rate, which other loads distort.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
