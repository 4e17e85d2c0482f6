package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Started is the guest program's first console line: the kernel booted and
// ran it.
const Started = "powercut: started"

// The lines the writer prints on the console, one per event, each a keyword
// and decimal numbers. It waits until a line has left the serial port
// before it goes on, so the host has seen every line of what happened
// before a cut.
const (
	Open      = "open"      // open COUNT EPOCH: the array opened (or was created) with COUNT records; appends are in EPOCH
	Sync      = "sync"      // sync COUNT: a Sync of COUNT records starts
	Synced    = "synced"    // synced COUNT EPOCH: that Sync returned
	Closed    = "closed"    // closed COUNT: a Close, announced as a Sync of COUNT records, returned
	Truncate  = "truncate"  // truncate TARGET EPOCH: a Truncate to TARGET starts; later appends are in EPOCH
	Truncated = "truncated" // truncated TARGET EPOCH: that Truncate returned
	Grow      = "grow"      // grow N: a Grow(N) starts
	Grew      = "grew"      // grew SIZE: the file grew to SIZE bytes (in Append or Grow)
	Shrank    = "shrank"    // shrank SIZE: a Close cut the file to its last record, SIZE bytes
	Published = "published" // published COUNT: a Publish, or an Append of an array that publishes each, showed COUNT records to readers; no promise
	Spilled   = "spilled"   // spilled COUNT FLUSHED: the writer wrote the sidecar's live area, COUNT published, to the disk itself, without its records (FLUSHED 1: and flushed the disk's cache)
	Error     = "ERROR"     // ERROR TEXT: a call failed; the writer stops
)

// Phases of the writer, as the host sees them from its lines.
const (
	PhaseBoot     = "boot"     // no array opened yet
	PhaseAppend   = "append"   // appending
	PhasePublish  = "publish"  // its last line was a Publish's or a spill's
	PhaseSync     = "sync"     // a Sync is running
	PhaseGrow     = "grow"     // the file grew and no Sync has returned since
	PhaseTruncate = "truncate" // a Truncate is running
)

// arity is how many numbers follow each keyword.
var arity = map[string]int{Open: 2, Sync: 1, Synced: 2, Closed: 1, Truncate: 2, Truncated: 2, Grow: 1, Grew: 1, Shrank: 1, Published: 1, Spilled: 2}

// Tracker follows a writer's console lines and keeps what the host knows
// from them.
type Tracker struct {
	x     Expect
	epoch uint64 // the session's epoch, the one the open line must name
	// header is the state of the header the writer wrote last; x.Behind
	// the one before, while this one may not be durable.
	header State
	// Phase is what the writer was doing at its last line.
	Phase string
	// Counts of events: Syncs and Truncates started, Grow calls and
	// growths of the file, Truncates that shrank it, Publishes and spills
	// of the live area.
	Syncs, Truncates, Grows, Shrinks, Publishes, Spills int
	// Published is the count the writer published last, as far as its
	// lines tell.
	Published uint64
	// MaxEpoch is the highest epoch the writer used or may have used.
	MaxEpoch uint64
	// Err is the first error the writer reported or the first line that
	// broke the protocol.
	Err error
}

// NewTracker returns a tracker for a writer session that starts from the
// durable state before, with epoch as its epoch.
func NewTracker(before Expect, epoch uint64) *Tracker {
	return &Tracker{x: before, epoch: epoch, Phase: PhaseBoot, MaxEpoch: epoch}
}

// Expect returns what the array must look like if the power is cut now.
func (t *Tracker) Expect() Expect { return t.x }

// Ahead returns by how many records the count the writer published last
// exceeds every count Open may find if the power is cut now: records that
// were shown to readers and are not durable. Zero when it exceeds none.
func (t *Tracker) Ahead() uint64 {
	most := uint64(0)
	for _, s := range t.x.States() {
		most = max(most, s.Count)
	}
	return t.Published - min(t.Published, most)
}

// Line takes one console line. Lines that are not the writer's are ignored.
func (t *Tracker) Line(line string) {
	if t.Err != nil {
		return
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return
	}
	if f[0] == Error {
		t.Err = fmt.Errorf("writer: %s", line)
		return
	}
	var n []uint64
	for _, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return // not a writer line
		}
		n = append(n, v)
	}
	if err := t.event(f[0], n); err != nil {
		t.Err = fmt.Errorf("console line %q: %v", line, err)
	}
}

// event takes one writer line, keyword and numbers.
func (t *Tracker) event(kw string, n []uint64) error {
	if k, ok := arity[kw]; !ok || len(n) != k {
		return nil // not a writer line
	}
	x := &t.x
	if kw != Open && t.Phase == PhaseBoot {
		return fmt.Errorf("before the %s line", Open)
	}
	switch kw {
	case Open:
		count, epoch := n[0], n[1]
		switch {
		case t.Phase != PhaseBoot:
			return fmt.Errorf("second %s line", Open)
		case epoch != t.epoch:
			return fmt.Errorf("epoch %d, host gave %d", epoch, t.epoch)
		case x.Fresh && count != 0, !x.Fresh && count != x.Promise.Count:
			return fmt.Errorf("count %d, the last durable state has %d", count, x.Promise.Count)
		}
		// The state it opened is durable, header and all.
		*x = Expect{Promise: State{count, x.Promise.Epochs.Cut(count, epoch)}}
		t.header, t.Published = x.Promise, count
		t.Phase = PhaseAppend
	case Sync:
		switch {
		case x.Pending != nil:
			return fmt.Errorf("while a %s runs", Truncate)
		case x.InSync != nil:
			return fmt.Errorf("while a %s runs", Sync)
		}
		count := n[0]
		x.InSync = &count
		t.Syncs++
		t.Phase = PhaseSync
	case Synced:
		count, epoch := n[0], n[1]
		last := x.Promise.Epochs[len(x.Promise.Epochs)-1]
		switch {
		case x.InSync == nil || *x.InSync != count:
			return fmt.Errorf("no %s %d runs", Sync, count)
		case epoch != last.Epoch || count < last.Start:
			return fmt.Errorf("host has epoch %d from record %d", last.Epoch, last.Start)
		}
		x.Promise.Count, x.InSync = count, nil
		t.wroteHeader(x.Promise)
		t.Published = count
		t.Phase = PhaseAppend
	case Closed:
		if x.InSync != nil || n[0] != x.Promise.Count {
			return fmt.Errorf("the last %s was not of %d records", Synced, n[0])
		}
		x.Behind = nil // Close waits for the header too
	case Truncate:
		target, epoch := n[0], n[1]
		switch {
		case x.Pending != nil || x.InSync != nil:
			return fmt.Errorf("while a %s or %s runs", Sync, Truncate)
		case epoch <= t.MaxEpoch:
			return fmt.Errorf("epoch %d is not new (host has seen %d)", epoch, t.MaxEpoch)
		}
		x.Pending = &Truncation{target, epoch}
		t.MaxEpoch = epoch
		t.Truncates++
		t.Phase = PhaseTruncate
	case Truncated:
		if p := x.Pending; p == nil || p.Target != n[0] || p.Epoch != n[1] {
			return fmt.Errorf("no %s %d %d runs", Truncate, n[0], n[1])
		}
		x.Promise, x.Pending = x.States()[1].State, nil
		t.wroteHeader(x.Promise)
		t.Published = x.Promise.Count
		t.Phase = PhaseAppend
	case Grow, Grew:
		t.Grows++
		t.Phase = PhaseGrow
	case Shrank:
		t.Shrinks++
	case Published:
		t.Published = n[0]
		t.Publishes++
		t.Phase = PhasePublish
	case Spilled:
		t.Spills++
		t.Phase = PhasePublish
	}
	return nil
}

// wroteHeader takes the end of a Sync (or of a Truncate's) that left the
// array in state s. Its first wait made the header written before durable;
// if the count changed, it wrote a new header, which is not.
func (t *Tracker) wroteHeader(s State) {
	if s.Count == t.header.Count {
		t.x.Behind = nil
	} else {
		behind := t.header
		t.x.Behind = &behind
	}
	t.header = s
}

// Verdict is the checker's one-line report on an array after a cut.
type Verdict struct {
	Pass bool
	// Found is the state the array was found in: "promise", "sync" (the
	// Sync in flight), "truncate" (the Truncate in flight), "nofile" (no
	// Create had returned and the file is missing or invalid), or "none".
	Found string
	// Bound is the fewest records the array may hold ([Expect.Bound]).
	// Count, Lost, Extra, Torn, Stale and their first indexes are as in
	// [Result].
	Count, Bound, Lost, Extra uint64
	Torn, Stale               int
	FirstTorn, FirstStale     uint64
	// Live is the count in the sidecar's live area as the cut left it on
	// the disk, published in the boot before (0 if none), and LiveWhole
	// how many of the records past Count up to Live were whole on the
	// disk: fewer than Live-Count when the live area reached the disk
	// ahead of its records.
	Live, LiveWhole uint64
	// Final is the count after the checker's own appends, and Runs the
	// epochs of those Final records: the durable state the next writer
	// session starts from.
	Final  uint64
	Runs   Epochs
	Reason string // why it failed; empty on a pass
}

// String returns the verdict's line: PASS or FAIL, then key=value fields,
// the reason last.
func (v Verdict) String() string {
	word := "FAIL"
	if v.Pass {
		word = "PASS"
	}
	return fmt.Sprintf("%s found=%s count=%d bound=%d lost=%d extra=%d torn=%d first_torn=%d stale=%d first_stale=%d live=%d live_whole=%d final=%d runs=%s reason=%s",
		word, v.Found, v.Count, v.Bound, v.Lost, v.Extra, v.Torn, v.FirstTorn, v.Stale, v.FirstStale, v.Live, v.LiveWhole, v.Final, v.Runs, v.Reason)
}

// ParseVerdict parses a console line that [Verdict.String] made, and
// reports whether it was one.
func ParseVerdict(line string) (Verdict, bool) {
	var v Verdict
	word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	if word != "PASS" && word != "FAIL" {
		return v, false
	}
	v.Pass = word == "PASS"
	rest, v.Reason, _ = strings.Cut(rest, " reason=")
	for field := range strings.FieldsSeq(rest) {
		key, val, _ := strings.Cut(field, "=")
		var err error
		switch key {
		case "found":
			v.Found = val
		case "count":
			v.Count, err = strconv.ParseUint(val, 10, 64)
		case "bound":
			v.Bound, err = strconv.ParseUint(val, 10, 64)
		case "lost":
			v.Lost, err = strconv.ParseUint(val, 10, 64)
		case "extra":
			v.Extra, err = strconv.ParseUint(val, 10, 64)
		case "live":
			v.Live, err = strconv.ParseUint(val, 10, 64)
		case "live_whole":
			v.LiveWhole, err = strconv.ParseUint(val, 10, 64)
		case "torn":
			v.Torn, err = strconv.Atoi(val)
		case "first_torn":
			v.FirstTorn, err = strconv.ParseUint(val, 10, 64)
		case "stale":
			v.Stale, err = strconv.Atoi(val)
		case "first_stale":
			v.FirstStale, err = strconv.ParseUint(val, 10, 64)
		case "final":
			v.Final, err = strconv.ParseUint(val, 10, 64)
		case "runs":
			v.Runs, err = ParseEpochs(val)
		default:
			return v, false
		}
		if err != nil {
			return v, false
		}
	}
	return v, true
}
