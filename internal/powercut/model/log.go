package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The log scenario: a writer appends records to a Log, in segments of a
// few hundred records so that it rolls often, publishes, syncs, drops the
// oldest segments and reopens the log; after the cut a checker reads the
// log as a reader before any writer, then goes on writing it.
//
// The log's writer prints [Sync], [Synced] and [Published] lines as an
// array's writer does, with the log's End as the count, and these.
const (
	LogOpen  = "logopen"  // logopen FIRST END EPOCH: the log opened (or was created) holding [FIRST, END); appends are in EPOCH
	Rolling  = "rolling"  // rolling FROM TO: an Append of the records [FROM, TO) starts that rolls to a new segment at least once
	Rolled   = "rolled"   // rolled FIRST: that Append returned, and the newest segment starts at FIRST
	Dropping = "dropping" // dropping TARGET FIRST: a DropBefore(TARGET), or the KeepNewest that is one, starts, which moves First to FIRST: the first index of the newest segment that starts at or below TARGET, if above First
	Dropped  = "dropped"  // dropped FIRST: it returned, with First at FIRST
)

// Phases of a log's writer besides those it shares with an array's.
const (
	PhaseRoll = "roll" // an Append that rolls is running
	PhaseDrop = "drop" // a drop is running
)

// logArity is how many numbers follow each keyword of a log's writer.
var logArity = map[string]int{LogOpen: 3, Sync: 1, Synced: 2, Published: 1, Rolling: 2, Rolled: 1, Dropping: 2, Dropped: 1}

// At returns the epoch e gives record i.
func (e Epochs) At(i uint64) uint64 {
	j := sort.Search(len(e), func(j int) bool { return e[j].Start > i }) - 1
	if j < 0 {
		return 0
	}
	return e[j].Epoch
}

// From returns e for a log whose records below first are dropped: the
// segments wholly below first go, and the one that holds first starts at
// 0, so that e still begins there. It does not change e.
func (e Epochs) From(first uint64) Epochs {
	var out Epochs
	for j, s := range e {
		if j+1 < len(e) && e[j+1].Start <= first {
			continue
		}
		if len(out) == 0 {
			s.Start = 0
		}
		out = append(out, s)
	}
	return out
}

// A LogState is what a log holds: the records [First, End), each with the
// epoch Epochs gives it.
type LogState struct {
	First, End uint64
	Epochs     Epochs
}

// LogExpect is what the host knows a log must look like after a cut.
//
// Every segment but the newest is durable and full before the next one
// is made (a roll syncs it first), and the newest is an array whose count
// only a Sync makes durable. So End, the newest segment's first index plus
// its count, is exactly the End of the last Sync or roll that returned
// (the promise); or the End of the Sync in flight (InSync); or, while an
// Append that rolls is in flight, the end of a segment that one of its
// rolls synced: any index past the promise up to the Append's last
// (Rolling). A drop makes the new First durable in log.meta before it
// removes a file, and readers ignore the segments below it; so First is
// exactly the First of the last drop that returned, or, while a drop is
// in flight, the First it moves to (Dropping).
// Every record in [First, End) must be whole, at its index, and of the
// epoch Promise.Epochs gives it.
type LogExpect struct {
	// Fresh is set when no OpenLog has returned on this disk yet: then
	// the log's directory may be missing. If it opens, it must match
	// Promise, which is empty.
	Fresh    bool
	Promise  LogState
	InSync   *uint64 // the End of the Sync in flight; nil when none was
	Rolling  *uint64 // one past the last record of the Append in flight that rolls; nil when none was
	Dropping *uint64 // the First the drop in flight moves to; nil when none was
}

// FirstState names the state First is in, "promise" or "drop" (the drop
// in flight moved it), or returns "" if it may not be first.
func (x LogExpect) FirstState(first uint64) string {
	switch d := x.Dropping; {
	case first == x.Promise.First:
		return "promise"
	case d != nil && first == *d:
		return "drop"
	}
	return ""
}

// EndState names the state End is in, "promise", "sync" (the Sync in
// flight) or "roll" (a roll of the Append in flight), or returns "" if it
// may not be end.
func (x LogExpect) EndState(end uint64) string {
	switch r := x.Rolling; {
	case end == x.Promise.End:
		return "promise"
	case x.InSync != nil && end == *x.InSync:
		return "sync"
	case r != nil && end > x.Promise.End && end <= *r:
		return "roll"
	}
	return ""
}

// Ends returns the Ends the log may have, as a sentence's list.
func (x LogExpect) Ends() string {
	ends := []string{strconv.FormatUint(x.Promise.End, 10)}
	if n := x.InSync; n != nil {
		ends = append(ends, strconv.FormatUint(*n, 10))
	}
	if r := x.Rolling; r != nil {
		ends = append(ends, fmt.Sprintf("one in (%d, %d]", x.Promise.End, *r))
	}
	return strings.Join(ends, " or ")
}

// Firsts returns the Firsts the log may have, as a sentence's list.
func (x LogExpect) Firsts() string {
	s := strconv.FormatUint(x.Promise.First, 10)
	if d := x.Dropping; d != nil && *d != x.Promise.First {
		s += fmt.Sprintf(" or %d", *d)
	}
	return s
}

// Arg returns x as the value of the kernel command-line word that passes
// it to the checker: its fields separated by slashes.
func (x LogExpect) Arg() string {
	opt := func(n *uint64) string {
		if n == nil {
			return "-"
		}
		return strconv.FormatUint(*n, 10)
	}
	return fmt.Sprintf("%t/%d/%d/%s/%s/%s/%s", x.Fresh, x.Promise.First, x.Promise.End, x.Promise.Epochs,
		opt(x.InSync), opt(x.Rolling), opt(x.Dropping))
}

// ParseLogExpect parses what [LogExpect.Arg] returns.
func ParseLogExpect(s string) (LogExpect, error) {
	var x LogExpect
	f := strings.Split(s, "/")
	if len(f) != 7 {
		return x, fmt.Errorf("log expectation %q: want 7 fields", s)
	}
	var err error
	if x.Fresh, err = strconv.ParseBool(f[0]); err != nil {
		return x, fmt.Errorf("log expectation %q: %v", s, err)
	}
	if x.Promise.First, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return x, fmt.Errorf("log expectation %q: %v", s, err)
	}
	if x.Promise.End, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return x, fmt.Errorf("log expectation %q: %v", s, err)
	}
	if x.Promise.Epochs, err = ParseEpochs(f[3]); err != nil {
		return x, err
	}
	for i, p := range []**uint64{&x.InSync, &x.Rolling, &x.Dropping} {
		if f[4+i] == "-" {
			continue
		}
		n, err := strconv.ParseUint(f[4+i], 10, 64)
		if err != nil {
			return x, fmt.Errorf("log expectation %q: %v", s, err)
		}
		*p = &n
	}
	if x.Promise.First > x.Promise.End {
		return x, fmt.Errorf("log expectation %q: First after End", s)
	}
	return x, nil
}

// LogTracker follows a log's writer's console lines and keeps what the
// host knows from them.
type LogTracker struct {
	x     LogExpect
	epoch uint64
	// Phase is what the writer was doing at its last line.
	Phase string
	// Counts of events: Syncs, Appends that rolled, drops and Publishes
	// started.
	Syncs, Rolls, Drops, Publishes int
	// Published is the End the writer published last.
	Published uint64
	// Err is the first error the writer reported or the first line that
	// broke the protocol.
	Err error
}

// NewLogTracker returns a tracker for a writer session that starts from
// the durable state before, with epoch as its epoch.
func NewLogTracker(before LogExpect, epoch uint64) *LogTracker {
	return &LogTracker{x: before, epoch: epoch, Phase: PhaseBoot}
}

// Expect returns what the log must look like if the power is cut now.
func (t *LogTracker) Expect() LogExpect { return t.x }

// Ahead returns by how many records the End the writer published last
// exceeds every End the log may have if the power is cut now.
func (t *LogTracker) Ahead() uint64 {
	most := t.x.Promise.End
	for _, n := range []*uint64{t.x.InSync, t.x.Rolling} {
		if n != nil {
			most = max(most, *n)
		}
	}
	return t.Published - min(t.Published, most)
}

// Line takes one console line. Lines that are not the writer's are
// ignored.
func (t *LogTracker) Line(line string) {
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
	if k, ok := logArity[f[0]]; !ok || len(n) != k {
		return // not a writer line
	}
	if err := t.event(f[0], n); err != nil {
		t.Err = fmt.Errorf("console line %q: %v", line, err)
	}
}

// event takes one writer line, keyword and numbers.
func (t *LogTracker) event(kw string, n []uint64) error {
	x := &t.x
	p := &x.Promise
	switch {
	case kw != LogOpen && t.Phase == PhaseBoot:
		return fmt.Errorf("before the %s line", LogOpen)
	case kw == Synced || kw == Rolled || kw == Dropped || kw == Published:
	case x.InSync != nil || x.Rolling != nil || x.Dropping != nil:
		return fmt.Errorf("while a %s, %s or %s runs", Sync, Rolling, Dropping)
	}
	switch kw {
	case LogOpen:
		first, end, epoch := n[0], n[1], n[2]
		switch {
		case t.Phase != PhaseBoot:
			return fmt.Errorf("second %s line", LogOpen)
		case epoch != t.epoch:
			return fmt.Errorf("epoch %d, host gave %d", epoch, t.epoch)
		case first != p.First || end != p.End:
			return fmt.Errorf("[%d, %d), the last durable state is [%d, %d)", first, end, p.First, p.End)
		}
		// What it opened is durable, and appends go on in its epoch.
		x.Fresh = false
		p.Epochs = p.Epochs.Cut(end, epoch)
		t.Published = end
		t.Phase = PhaseAppend
	case Sync:
		if n[0] < p.End {
			return fmt.Errorf("a %s of %d records, below the durable End %d", Sync, n[0], p.End)
		}
		x.InSync = &n[0]
		t.Syncs++
		t.Phase = PhaseSync
	case Synced:
		switch {
		case x.InSync == nil || *x.InSync != n[0]:
			return fmt.Errorf("no %s %d runs", Sync, n[0])
		case n[1] != t.epoch:
			return fmt.Errorf("epoch %d, host gave %d", n[1], t.epoch)
		}
		p.End, x.InSync = n[0], nil
		t.Published = max(t.Published, n[0])
		t.Phase = PhaseAppend
	case Rolling:
		from, to := n[0], n[1]
		if from < p.End || to <= from {
			return fmt.Errorf("an Append of [%d, %d), with %d records durable", from, to, p.End)
		}
		x.Rolling = &n[1]
		t.Rolls++
		t.Phase = PhaseRoll
	case Rolled:
		// The roll made a segment for records the Append still had.
		if x.Rolling == nil || n[0] < p.End || n[0] >= *x.Rolling {
			return fmt.Errorf("no %s Append runs that can roll at %d", Rolling, n[0])
		}
		p.End, x.Rolling = n[0], nil
		t.Phase = PhaseAppend
	case Dropping:
		if to := n[1]; to < p.First || to > max(p.First, n[0]) || to > p.End {
			return fmt.Errorf("a drop below %d that moves First from %d to %d, with %d records durable", n[0], p.First, to, p.End)
		}
		x.Dropping = &n[1]
		t.Drops++
		t.Phase = PhaseDrop
	case Dropped:
		first := n[0]
		switch {
		case x.Dropping == nil:
			return fmt.Errorf("no %s runs", Dropping)
		case first != *x.Dropping:
			return fmt.Errorf("its First %d; the segments' names said %d", first, *x.Dropping)
		}
		p.First, x.Dropping = first, nil
		p.Epochs = p.Epochs.From(first)
		t.Phase = PhaseAppend
	case Published:
		t.Published = n[0]
		t.Publishes++
		t.Phase = PhasePublish
	}
	return nil
}

// RecordCheck counts the records of a log that are wrong, as a checker
// reads them one by one.
type RecordCheck struct {
	Checked uint64 // records read
	// Torn counts records that are not whole valid records at their
	// index, Stale whole records whose epoch is not the one Epochs gives
	// them; FirstTorn and FirstStale are the first of each.
	Torn, Stale           int
	FirstTorn, FirstStale uint64
}

// Add checks rec, read at index i, against the epochs e.
func (c *RecordCheck) Add(i uint64, rec *Record, e Epochs) {
	c.Checked++
	switch {
	case !rec.Whole(i):
		if c.Torn == 0 {
			c.FirstTorn = i
		}
		c.Torn++
	case rec.Epoch != e.At(i):
		if c.Stale == 0 {
			c.FirstStale = i
		}
		c.Stale++
	}
}

// Explain says what is wrong with the records, or returns "".
func (c *RecordCheck) Explain() string {
	var why []string
	if c.Torn > 0 {
		why = append(why, fmt.Sprintf("%d torn or garbage records, the first at index %d", c.Torn, c.FirstTorn))
	}
	if c.Stale > 0 {
		why = append(why, fmt.Sprintf("%d whole records of the wrong epoch, the first at index %d", c.Stale, c.FirstStale))
	}
	return strings.Join(why, "; ")
}

// LogVerdict is the checker's one-line report on a log after a cut.
type LogVerdict struct {
	Pass bool
	// Found is the state End was found in ([LogExpect.EndState]), "nolog"
	// (no OpenLog had returned and the directory is missing), or "none";
	// FirstFound the state First was found in ([LogExpect.FirstState]).
	Found, FirstFound string
	// First and End as a reader found them before any writer opened the
	// log, and Bound, the End promised.
	First, End, Bound uint64
	// Segments is how many segments that reader read. The directory held
	// Below segment files under First (dropped, their removal lost with
	// the cut), Temp segments a roll was making under a temporary name,
	// and Sidecars of segments other than the newest: rolled past and not
	// trimmed, as when a reader held them or the cut came first.
	Segments, Below, Temp, Sidecars int
	// Checked counts the records read and checked, at the cut and after
	// the checker's appends; Torn and Stale those that were wrong
	// ([RecordCheck]).
	Checked     uint64
	Torn, Stale int
	// Final is End after the checker's appends, and Runs the epochs of the
	// records [First, Final) (from 0, as [Epochs.From] has them): the
	// durable state the next writer session starts from.
	Final  uint64
	Runs   Epochs
	Reason string // why it failed; empty on a pass
}

// logVerdictWord follows PASS or FAIL in a log's verdict line, so that an
// array's verdict and a log's are told apart.
const logVerdictWord = "log"

// String returns the verdict's line: PASS or FAIL, "log", then key=value
// fields, the reason last.
func (v LogVerdict) String() string {
	word := "FAIL"
	if v.Pass {
		word = "PASS"
	}
	return fmt.Sprintf("%s %s found=%s first_found=%s first=%d end=%d bound=%d segments=%d below=%d temp=%d sidecars=%d checked=%d torn=%d stale=%d final=%d runs=%s reason=%s",
		word, logVerdictWord, v.Found, v.FirstFound, v.First, v.End, v.Bound, v.Segments, v.Below, v.Temp, v.Sidecars, v.Checked, v.Torn, v.Stale, v.Final, v.Runs, v.Reason)
}

// ParseLogVerdict parses a console line that [LogVerdict.String] made,
// and reports whether it was one.
func ParseLogVerdict(line string) (LogVerdict, bool) {
	var v LogVerdict
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 3 || f[0] != "PASS" && f[0] != "FAIL" || f[1] != logVerdictWord {
		return v, false
	}
	v.Pass = f[0] == "PASS"
	rest, reason, _ := strings.Cut(f[2], " reason=")
	v.Reason = reason
	for field := range strings.FieldsSeq(rest) {
		key, val, _ := strings.Cut(field, "=")
		var err error
		u64 := func(p *uint64) { *p, err = strconv.ParseUint(val, 10, 64) }
		num := func(p *int) { *p, err = strconv.Atoi(val) }
		switch key {
		case "found":
			v.Found = val
		case "first_found":
			v.FirstFound = val
		case "first":
			u64(&v.First)
		case "end":
			u64(&v.End)
		case "bound":
			u64(&v.Bound)
		case "segments":
			num(&v.Segments)
		case "below":
			num(&v.Below)
		case "temp":
			num(&v.Temp)
		case "sidecars":
			num(&v.Sidecars)
		case "checked":
			u64(&v.Checked)
		case "torn":
			num(&v.Torn)
		case "stale":
			num(&v.Stale)
		case "final":
			u64(&v.Final)
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
