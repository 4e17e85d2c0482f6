//go:build !unix && !windows

package mmap

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// processCPU is not measured here: no system call of this platform that
// the package uses tells it.
func processCPU() (time.Duration, error) {
	return 0, fmt.Errorf("CPU time on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
