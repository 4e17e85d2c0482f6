package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A Segment says that the records from Start on, up to the next segment's
// Start, were written in Epoch.
type Segment struct {
	Start, Epoch uint64
}

// Epochs says which epoch wrote each record: segments by ascending Start,
// the first at 0. The last segment reaches to any length.
type Epochs []Segment

// Cut returns e after the records from n on have been dropped and are
// written again in epoch: what a truncation to n does, and a writer session
// that starts at n. It does not change e.
func (e Epochs) Cut(n, epoch uint64) Epochs {
	var out Epochs
	for _, s := range e {
		if s.Start < n {
			out = append(out, s)
		}
	}
	if len(out) > 0 && out[len(out)-1].Epoch == epoch {
		return out
	}
	return append(out, Segment{n, epoch})
}

// RunsOf returns the epochs of recs as segments, one per run of equal
// epochs.
func RunsOf(recs []Record) Epochs {
	var e Epochs
	for i := range recs {
		if len(e) == 0 || e[len(e)-1].Epoch != recs[i].Epoch {
			e = append(e, Segment{uint64(i), recs[i].Epoch})
		}
	}
	return e
}

// String returns e as START:EPOCH pairs separated by commas.
func (e Epochs) String() string {
	parts := make([]string, len(e))
	for i, s := range e {
		parts[i] = fmt.Sprintf("%d:%d", s.Start, s.Epoch)
	}
	return strings.Join(parts, ",")
}

// ParseEpochs parses what [Epochs.String] returns.
func ParseEpochs(s string) (Epochs, error) {
	if s == "" {
		return nil, nil
	}
	var e Epochs
	for part := range strings.SplitSeq(s, ",") {
		start, epoch, err := parsePair(part)
		if err != nil {
			return nil, fmt.Errorf("epochs %q: %v", s, err)
		}
		if len(e) == 0 && start != 0 || len(e) > 0 && start <= e[len(e)-1].Start {
			return nil, fmt.Errorf("epochs %q: segments must start at 0 and ascend", s)
		}
		e = append(e, Segment{start, epoch})
	}
	return e, nil
}

// parsePair parses "A:B" of two unsigned integers.
func parsePair(s string) (a, b uint64, err error) {
	x, y, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not A:B", s)
	}
	if a, err = strconv.ParseUint(x, 10, 64); err != nil {
		return 0, 0, err
	}
	if b, err = strconv.ParseUint(y, 10, 64); err != nil {
		return 0, 0, err
	}
	return a, b, nil
}

// A State is what an array may hold after a cut: exactly Count records,
// each with the epoch Epochs gives it.
type State struct {
	Count  uint64
	Epochs Epochs
}

// A Truncation is a Truncate the writer announced and had not finished:
// to Target records, after which it appends in Epoch.
type Truncation struct {
	Target, Epoch uint64
}

// Expect is what the host knows an array must look like after a cut.
//
// The writer reports a line before a Sync or Truncate starts and one when
// it has returned (the promise: every record it covered is durable). Open
// finds the count of the newest sidecar slot that reached the disk, and
// only a Sync writes a slot, after the records it counts are durable
// (FORMAT.md). So Open finds exactly one of: the promise; the count of the
// Sync in flight at the cut (InSync), which only adds records of the
// current epoch; or the result of the Truncate in flight (Pending), which
// lowers the count to its target and lets only records of its new epoch
// follow. There is no other candidate: the writer announces each Sync and
// Truncate before it starts and reports its end before it starts anything
// else, and a count it only published (Publish) was never in a slot. Every
// record must be whole, at its index, and have the epoch the state gives
// it.
//
// The .npy file's own header, which numpy reads without the sidecar, is
// written after the slot, without a wait: it reaches the disk at the next
// Sync's first wait, or at Close. Until then the file alone may still show
// the state of the header before (Behind).
type Expect struct {
	// Fresh is set when no Create has returned on this disk yet: then the
	// file may be missing or invalid. If it opens, it must match Promise.
	Fresh   bool
	Promise State
	InSync  *uint64     // the count of the Sync in flight; nil when none was
	Pending *Truncation // nil when no Truncate was in flight
	// Behind is the state of the header written before the last one,
	// while the last may not be durable; nil when it is. Only the file
	// read without its sidecar may show it, so it is the host's alone: Arg
	// leaves it out.
	Behind *State
}

// A Candidate is a state the array may be in after a cut, and its name:
// "promise", "sync" (the Sync in flight), "truncate" (the Truncate in
// flight) or "behind" (the header before the last, in the file alone).
type Candidate struct {
	Name string
	State
}

// States returns the states Open may find the array in: the promise and,
// while a Sync or a Truncate is in flight, its result.
func (x Expect) States() []Candidate {
	states := []Candidate{{"promise", x.Promise}}
	if n := x.InSync; n != nil {
		states = append(states, Candidate{"sync", State{*n, x.Promise.Epochs}})
	}
	if t := x.Pending; t != nil {
		states = append(states, Candidate{"truncate", State{t.Target, x.Promise.Epochs.Cut(t.Target, t.Epoch)}})
	}
	return states
}

// FileStates returns the states the .npy file read without its sidecar
// (as numpy reads it) may be in: those of States, and Behind.
func (x Expect) FileStates() []Candidate {
	states := x.States()
	if b := x.Behind; b != nil {
		states = append(states, Candidate{"behind", *b})
	}
	return states
}

// Bound returns the fewest records the array may hold.
func (x Expect) Bound() uint64 {
	bound := x.Promise.Count
	if t := x.Pending; t != nil {
		bound = min(bound, t.Target)
	}
	return bound
}

// Counts returns the counts Open may find, as a sentence's list: "10",
// "10 or 12".
func (x Expect) Counts() string {
	var counts []string
	for _, c := range x.States() {
		counts = append(counts, strconv.FormatUint(c.Count, 10))
	}
	return strings.Join(counts, " or ")
}

// Arg returns x as the value of the kernel command-line word that passes it
// to the checker: the fields of x, but Behind, separated by slashes.
func (x Expect) Arg() string {
	pending, inSync := "-", "-"
	if t := x.Pending; t != nil {
		pending = fmt.Sprintf("%d:%d", t.Target, t.Epoch)
	}
	if n := x.InSync; n != nil {
		inSync = strconv.FormatUint(*n, 10)
	}
	return fmt.Sprintf("%t/%d/%s/%s/%s", x.Fresh, x.Promise.Count, x.Promise.Epochs, pending, inSync)
}

// ParseExpect parses what [Expect.Arg] returns.
func ParseExpect(s string) (Expect, error) {
	var x Expect
	f := strings.Split(s, "/")
	if len(f) != 5 {
		return x, fmt.Errorf("expectation %q: want 5 fields", s)
	}
	var err error
	if x.Fresh, err = strconv.ParseBool(f[0]); err != nil {
		return x, fmt.Errorf("expectation %q: %v", s, err)
	}
	if x.Promise.Count, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return x, fmt.Errorf("expectation %q: %v", s, err)
	}
	if x.Promise.Epochs, err = ParseEpochs(f[2]); err != nil {
		return x, err
	}
	if f[3] != "-" {
		target, epoch, err := parsePair(f[3])
		if err != nil {
			return x, fmt.Errorf("expectation %q: %v", s, err)
		}
		x.Pending = &Truncation{target, epoch}
	}
	if f[4] != "-" {
		n, err := strconv.ParseUint(f[4], 10, 64)
		if err != nil {
			return x, fmt.Errorf("expectation %q: %v", s, err)
		}
		x.InSync = &n
	}
	return x, nil
}

// Result is what [Expect.Check] finds.
type Result struct {
	Count uint64 // records in the array
	// Torn counts records below Count that are not whole valid records at
	// their index: torn, zero or garbage. FirstTorn is the first of them.
	Torn      int
	FirstTorn uint64
	// The closest state the array may be in is the one it misses by the
	// fewest records, missing, extra or stale. Lost counts the records the
	// array lacks to reach that state's count: promised records that are
	// gone. Extra counts those it has past that count, which no Sync made
	// durable. Stale counts whole records whose epoch is not the one that
	// state gives them, FirstStale the first.
	Lost, Extra uint64
	Stale       int
	FirstStale  uint64
	// Found names the state the array is in, or is empty if it matches
	// none.
	Found string
}

// OK reports whether the array is in a state it may be in.
func (r Result) OK() bool { return r.Found != "" }

// Explain says what is wrong with an array that matches no state.
func (r Result) Explain() string {
	var why []string
	if r.Lost > 0 {
		why = append(why, fmt.Sprintf("lost %d synced records: %d records, the closest state it may be in has %d", r.Lost, r.Count, r.Count+r.Lost))
	}
	if r.Extra > 0 {
		why = append(why, fmt.Sprintf("%d records that no Sync made durable: %d records, the closest state it may be in has %d", r.Extra, r.Count, r.Count-r.Extra))
	}
	if r.Torn > 0 {
		why = append(why, fmt.Sprintf("%d torn or garbage records, the first at index %d", r.Torn, r.FirstTorn))
	}
	if r.Stale > 0 {
		why = append(why, fmt.Sprintf("%d whole records of the wrong epoch, the first at index %d", r.Stale, r.FirstStale))
	}
	return strings.Join(why, "; ")
}

// Check checks the records of an array as Open reads it, Items()[:Len()],
// against the states of x.
func (x Expect) Check(recs []Record) Result { return check(recs, x.States()) }

// CheckFile checks the records that the .npy file's header counts, read
// without the sidecar, against the states the file alone may be in.
func (x Expect) CheckFile(recs []Record) Result { return check(recs, x.FileStates()) }

func check(recs []Record, states []Candidate) Result {
	r := Result{Count: uint64(len(recs))}
	whole := make([]bool, len(recs))
	for i := range recs {
		whole[i] = recs[i].Whole(uint64(i))
		if !whole[i] {
			if r.Torn == 0 {
				r.FirstTorn = uint64(i)
			}
			r.Torn++
		}
	}
	closest := uint64(math.MaxUint64) // records missing, extra or stale for the closest state so far
	for _, s := range states {
		stale, first, seg := 0, uint64(0), -1
		for i := range recs {
			// seg is the segment of record i, found walking up (a search
			// from the start for every record would be quadratic).
			for seg+1 < len(s.Epochs) && s.Epochs[seg+1].Start <= uint64(i) {
				seg++
			}
			if whole[i] && (seg < 0 || recs[i].Epoch != s.Epochs[seg].Epoch) {
				if stale == 0 {
					first = uint64(i)
				}
				stale++
			}
		}
		short, extra := s.Count-min(s.Count, r.Count), r.Count-min(s.Count, r.Count)
		if miss := short + extra + uint64(stale); miss < closest {
			closest, r.Lost, r.Extra, r.Stale, r.FirstStale = miss, short, extra, stale, first
		}
		if r.Torn == 0 && short == 0 && extra == 0 && stale == 0 && r.Found == "" {
			r.Found = s.Name
		}
	}
	return r
}
