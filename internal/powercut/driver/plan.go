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
	// "run" (a time after the array or log opened), "grow", "sync",
	// "truncate", "published", "spilled", "rolling" or "dropping" (the
	// after-th line of one, then delay), or "flush" (the after-th flush the
	// disk's cache gets that finds at least writes unflushed writes,
	// holding what hold says; the cut comes before the flush is done).
	at     string
	after  int
	delay  time.Duration
	writes int    // for "flush": the least writes the flush must find waiting
	hold   string // for "flush": "slot" (a Sync's second wait), "header" (its first, with the header the Sync before wrote), or "" for any
}

func (p plan) String() string {
	switch p.at {
	case "boot":
		return fmt.Sprintf("boot+%dms", p.delay.Milliseconds())
	case "run":
		return fmt.Sprintf("open+%dms", p.delay.Milliseconds())
	case flushPlan:
		if p.hold != "" {
			return fmt.Sprintf("flush:%s#%d", p.hold, p.after)
		}
		return fmt.Sprintf("flush#%d/%dw", p.after, p.writes)
	}
	return fmt.Sprintf("%s#%d+%dus", p.at, p.after, p.delay.Microseconds())
}

// name is the plan's kind, as the summary counts them.
func (p plan) name() string {
	if p.hold != "" {
		return p.at + ":" + p.hold
	}
	return p.at
}

// flushPlan is the plan that cuts when the disk's cache gets a flush.
const flushPlan = "flush"

// How long a log's roll and drop take in the writer's machine, about: the
// cuts after their lines come within this.
const (
	rollTime = 100 * time.Millisecond
	dropTime = 15 * time.Millisecond
)

// takes reports whether a flush that finds writes waiting, holding w, is
// one the plan counts.
func (p plan) takes(writes int, w waiting) bool {
	switch {
	case p.at != flushPlan || writes < p.writes:
		return false
	case p.hold == "slot":
		return w.slot
	case p.hold == "header":
		return w.header && !w.slot
	}
	return true
}

// newPlan picks when to cut: a tenth of the trials around the moment the
// array or log opens (boot is about how long the last boot took), the
// rest after a time, after a Publish (before the Sync that makes it
// durable), in a Sync, or, on a disk with a cache, while a flush is under
// way: any, or one of a Sync's two waits; an array's at a growth of the
// file, in a Truncate or after a spill of the live area; a log's in an
// Append that rolls to a new segment or in a drop.
func newPlan(rng *rand.Rand, boot time.Duration, cache, log bool) plan {
	type weight struct {
		at, hold string
		n        int
	}
	weights := []weight{{"boot", "", 2}, {"run", "", 3}, {model.Grow, "", 4}, {model.Sync, "", 5}, {model.Truncate, "", 6},
		{model.Published, "", 5}, {model.Spilled, "", 5}}
	if log {
		weights = []weight{{"boot", "", 2}, {"run", "", 3}, {model.Rolling, "", 9}, {model.Sync, "", 5}, {model.Dropping, "", 7},
			{model.Published, "", 5}}
	}
	// On a disk with a cache, most cuts in a Sync come from flushes.
	if cache {
		weights[3].n = 2
		weights = append(weights, weight{flushPlan, "", 4}, weight{flushPlan, "header", 3}, weight{flushPlan, "slot", 3})
	}
	total := 0
	for _, w := range weights {
		total += w.n
	}
	var at, hold string
	r := rng.IntN(total)
	for _, w := range weights {
		if r < w.n {
			at, hold = w.at, w.hold
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
	case model.Published:
		return plan{at: at, after: 1 + rng.IntN(8), delay: within(5 * time.Millisecond)}
	case model.Spilled:
		return plan{at: at, after: 1 + rng.IntN(3), delay: within(3 * time.Millisecond)}
	case model.Rolling:
		// The Append fills the segment, then the roll syncs it, makes the
		// next, opens it and closes the old one.
		return plan{at: at, after: 1 + rng.IntN(8), delay: within(rollTime)}
	case model.Dropping:
		// The drop writes log.meta, syncs it, then removes the files.
		return plan{at: at, after: 1 + rng.IntN(4), delay: within(dropTime)}
	}
	if hold != "" {
		// Each Sync that changes the count waits for its slot; the next
		// one's first wait carries the header it wrote.
		return plan{at: at, hold: hold, after: 1 + rng.IntN(8), writes: 1}
	}
	// The writer syncs some twenty times a second, a flush or two each; a
	// flush of several writes is where a missing flush between them shows.
	return plan{at: at, after: 1 + rng.IntN(20), writes: 1 + rng.IntN(3)}
}
