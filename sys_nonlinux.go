//go:build unix && !linux

package mmap

import (
	"context"
	"time"
)

// mapPopulate is 0 where mmap has no MAP_POPULATE; mmap falls back to
// madvise(MADV_WILLNEED).
const mapPopulate = 0

// prefault is a Linux hint; elsewhere pages fault in as they are written.
func prefault([]byte) {}

// sleepOnWord cannot sleep on an address across processes, which only
// Linux can: waiters poll.
func sleepOnWord(context.Context, *uint32, uint32, time.Duration) bool { return false }

// futexWake does nothing: waiters poll.
func futexWake(*uint32) {}
