//go:build unix && !linux

package mmap

import "time"

// mapPopulate is 0 where mmap has no MAP_POPULATE; mmap falls back to
// madvise(MADV_WILLNEED).
const mapPopulate = 0

// prefault is a Linux hint; elsewhere pages fault in as they are written.
func prefault([]byte) {}

// futexWait polls: only Linux sleeps on an address across processes. It
// sleeps pollInterval, or d if that is shorter.
func futexWait(_ *uint32, _ uint32, d time.Duration) { time.Sleep(min(d, pollInterval)) }

// futexWake does nothing: waiters poll.
func futexWake(*uint32) {}
