//go:build !linux

package mmap

import (
	"context"
	"time"
)

// sleepOnWord cannot sleep on an address across processes, which only
// Linux can: waiters poll.
func sleepOnWord(context.Context, *uint32, uint32, time.Duration) bool { return false }

// futexWake does nothing: waiters poll.
func futexWake(*uint32) {}

// canSleepOnWord says that readers poll.
const canSleepOnWord = false
