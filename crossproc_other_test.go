//go:build !linux

package mmap

// sharedClock says that monotonic reads no clock that processes share: the
// benchmarks that need one run on Linux.
const sharedClock = false

// monotonic reads no clock here (sharedClock).
func monotonic() int64 { return 0 }

// sleepOnFloor does not sleep here (sharedClock).
func sleepOnFloor(*uint32, uint32) {}
