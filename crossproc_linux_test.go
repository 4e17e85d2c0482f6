package mmap

// What the benchmarks of readers in other processes need of the OS: a
// clock that every process shares, and a sleep on a word of shared memory.

import (
	"testing"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// sharedClock says that monotonic reads a clock that every process of the
// machine shares, so that a time taken in one process may be subtracted
// from a time taken in another.
const sharedClock = true

// monotonic returns CLOCK_MONOTONIC, in nanoseconds. It is the runtime's
// own reading of that clock, through the vDSO (26 ns on the 2-core test
// machine), where unix.ClockGettime makes a system call (240 ns there),
// which would weigh on a latency of a few hundred nanoseconds taken at a
// million records a second. TestMonotonic checks that the two agree.
//
//go:linkname monotonic runtime.nanotime
func monotonic() int64

// sleepOnFloor sleeps until another process changes *word from seen and
// wakes it (futexWake), or maxSleep passes: the floor's sleeping reader
// (floorReader), with the futex and nothing else.
func sleepOnFloor(word *uint32, seen uint32) { futexWait(word, seen, maxSleep) }

func TestMonotonic(t *testing.T) {
	var before, after unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &before); err != nil {
		t.Fatal(err)
	}
	now := monotonic()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &after); err != nil {
		t.Fatal(err)
	}
	if now < before.Nano() || now > after.Nano() {
		t.Errorf("monotonic() = %d; CLOCK_MONOTONIC read %d before and %d after", now, before.Nano(), after.Nano())
	}
}
