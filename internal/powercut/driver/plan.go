//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// plan is when a trial cuts the power.
type plan struct {
	// at is what the cut waits for: "boot" (a time after the start),
	// "run" (a time after the array opened), "grow", "sync" or "truncate"
	// (the after-th start of one, then delay), or "flush" (the after-th
	// flush the disk's cache gets that finds at least writes unflushed
	// writes; the cut comes before the flush is done).
	at     string
	after  int
	delay  time.Duration
	writes int // for "flush": the least writes the flush must find waiting
}

func (p plan) String() string {
	switch p.at {
	case "boot":
		return fmt.Sprintf("boot+%dms", p.delay.Milliseconds())
	case "run":
		return fmt.Sprintf("open+%dms", p.delay.Milliseconds())
	case flushPlan:
		return fmt.Sprintf("flush#%d/%dw", p.after, p.writes)
	}
	return fmt.Sprintf("%s#%d+%dus", p.at, p.after, p.delay.Microseconds())
}

// flushPlan is the plan that cuts when the disk's cache gets a flush.
const flushPlan = "flush"

// newPlan picks when to cut: a tenth of the trials around the moment the
// array opens (boot is about how long the last boot took), the rest after
// a time, at a growth of the file, in a Sync or in a Truncate, or, on a
// disk with a cache, while a flush is under way.
func newPlan(rng *rand.Rand, boot time.Duration, cache bool) plan {
	type weight struct {
		at string
		n  int
	}
	// On a disk with a cache, most cuts in a Sync come from flushes.
	syncs, flushes := 5, 0
	if cache {
		syncs, flushes = 2, 8
	}
	weights := []weight{{"boot", 2}, {"run", 3}, {model.Grow, 4}, {model.Sync, syncs}, {model.Truncate, 6}, {flushPlan, flushes}}
	total := 0
	for _, w := range weights {
		total += w.n
	}
	var at string
	r := rng.IntN(total)
	for _, w := range weights {
		if r < w.n {
			at = w.at
			break
		}
		r -= w.n
	}
	within := func(d time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(d))) }
	switch at {
	case "boot":
		return plan{at: at, delay: time.Duration((0.7 + 0.4*rng.Float64()) * float64(boot))}
	case "run":
		return plan{at: at, delay: within(2 * time.Second)}
	case model.Grow:
		return plan{at: at, after: 1 + rng.IntN(4), delay: within(10 * time.Millisecond)}
	case model.Sync:
		return plan{at: at, after: 1 + rng.IntN(4), delay: within(8 * time.Millisecond)}
	case model.Truncate:
		return plan{at: at, after: 1 + rng.IntN(4), delay: within(5 * time.Millisecond)}
	}
	// The writer syncs some twenty times a second, a flush or two each; a
	// flush of several writes is where a missing flush between them shows.
	return plan{at: at, after: 1 + rng.IntN(20), writes: 1 + rng.IntN(3)}
}
