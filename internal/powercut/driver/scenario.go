//go:build linux

package main

import (
	"fmt"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// logPath is the log's directory inside the disk's file system, next to
// the array's; the log's writer creates it.
const logPath = "/powercut-log"

// watch is what a trial needs of the model's tracker of a writer
// session's lines, an array's or a log's.
type watch interface {
	// Line takes one console line.
	Line(line string)
	// opened reports whether the writer has opened its array or log.
	opened() bool
	// events returns how many lines of the kind a plan waits for (at)
	// came so far.
	events(at string) int
	// failed returns the first error the writer reported, or the first
	// line that broke the protocol.
	failed() error
	// expectArg returns what the checker must find if the power is cut
	// now, as a kernel command-line word's value.
	expectArg() string
	// note says, for a failing trial's files, what else the host expects.
	note() string
	// lastEpoch returns the highest epoch the writer used or may have
	// used.
	lastEpoch() uint64
	// report copies the counts of the session's events into r.
	report(r *result)
}

// arrayWatch follows an array's writer.
type arrayWatch struct{ *model.Tracker }

func (w arrayWatch) opened() bool { return w.Phase != model.PhaseBoot }

func (w arrayWatch) events(at string) int {
	switch at {
	case model.Grow:
		return w.Grows
	case model.Sync:
		return w.Syncs
	case model.Truncate:
		return w.Truncates
	case model.Published:
		return w.Publishes
	case model.Spilled:
		return w.Spills
	}
	return 0
}

func (w arrayWatch) failed() error     { return w.Err }
func (w arrayWatch) expectArg() string { return w.Expect().Arg() }
func (w arrayWatch) lastEpoch() uint64 { return w.MaxEpoch }

func (w arrayWatch) note() string {
	if b := w.Expect().Behind; b != nil {
		return fmt.Sprintf("the file's header may be behind: %d records, epochs %s\n", b.Count, b.Epochs)
	}
	return ""
}

func (w arrayWatch) report(r *result) {
	r.phase, r.syncs, r.truncs, r.grows, r.shrinks = w.Phase, w.Syncs, w.Truncates, w.Grows, w.Shrinks
	r.publishes, r.spills, r.ahead = w.Publishes, w.Spills, w.Ahead()
}

// logWatch follows a log's writer, in epoch.
type logWatch struct {
	*model.LogTracker
	epoch uint64
}

func (w logWatch) opened() bool { return w.Phase != model.PhaseBoot }

func (w logWatch) events(at string) int {
	switch at {
	case model.Sync:
		return w.Syncs
	case model.Rolling:
		return w.Rolls
	case model.Dropping:
		return w.Drops
	case model.Published:
		return w.Publishes
	}
	return 0
}

func (w logWatch) failed() error     { return w.Err }
func (w logWatch) expectArg() string { return w.Expect().Arg() }
func (w logWatch) lastEpoch() uint64 { return w.epoch }

func (w logWatch) note() string {
	x := w.Expect()
	return fmt.Sprintf("First may be %s; End may be %s\n", x.Firsts(), x.Ends())
}

func (w logWatch) report(r *result) {
	r.phase, r.syncs, r.rolls, r.drops = w.Phase, w.Syncs, w.Rolls, w.Drops
	r.publishes, r.ahead = w.Publishes, w.Ahead()
	x := w.Expect()
	r.dropMoves = x.Dropping != nil && *x.Dropping != x.Promise.First
}

// logExpectFrom returns what a disk holding the log before (nil: no log)
// promises before a writer session in epoch starts on it.
func logExpectFrom(before *model.LogState, epoch uint64) model.LogExpect {
	if before == nil {
		return model.LogExpect{Fresh: true, Promise: model.LogState{Epochs: model.Epochs{{Start: 0, Epoch: epoch}}}}
	}
	return model.LogExpect{Promise: *before}
}
