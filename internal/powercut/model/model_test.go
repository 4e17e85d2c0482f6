package model

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

func TestRecord(t *testing.T) {
	if got := binary.Size(Record{}); got != 88 || unsafe.Sizeof(Record{}) != 88 {
		t.Fatalf("Record is %d bytes (Go says %d), want 88", got, unsafe.Sizeof(Record{}))
	}
	r := NewRecord(7, 3)
	if !r.Whole(7) {
		t.Error("NewRecord(7, 3) is not whole at 7")
	}
	if r.Whole(8) {
		t.Error("NewRecord(7, 3) is whole at 8")
	}
	var zero Record
	if zero.Whole(0) {
		t.Error("a zero record is whole")
	}
	// A record torn between two writes of index 7: the first half from
	// epoch 3, the rest from epoch 4.
	torn, other := NewRecord(7, 3), NewRecord(7, 4)
	copy(torn.Fill[4:], other.Fill[4:])
	torn.Check = other.Check
	if torn.Whole(7) {
		t.Error("a torn record is whole")
	}
	if NewRecord(7, 3) == NewRecord(7, 4) || NewRecord(7, 3) == NewRecord(8, 3) {
		t.Error("records of different indexes or epochs are equal")
	}
}

func TestEpochsCut(t *testing.T) {
	for _, c := range []struct {
		in     string
		n, e   uint64
		result string
	}{
		{"", 0, 1, "0:1"},
		{"0:1", 0, 2, "0:2"},
		{"0:1", 10, 2, "0:1,10:2"},
		{"0:1,10:2", 10, 3, "0:1,10:3"},
		{"0:1,10:2", 11, 3, "0:1,10:2,11:3"},
		{"0:1,10:2,20:3", 5, 4, "0:1,5:4"},
		{"0:1,10:2", 15, 2, "0:1,10:2"}, // the same epoch goes on
	} {
		in, err := ParseEpochs(c.in)
		if err != nil {
			t.Fatal(err)
		}
		before := in.String()
		if got := in.Cut(c.n, c.e).String(); got != c.result {
			t.Errorf("%q.Cut(%d, %d) = %q, want %q", c.in, c.n, c.e, got, c.result)
		}
		if in.String() != before {
			t.Errorf("Cut changed its receiver from %q to %q", before, in)
		}
	}
}

func TestParseEpochsRefuses(t *testing.T) {
	for _, s := range []string{"1:1", "0:1,0:2", "0:1,5:2,3:3", "0:x", "0", "0:1,"} {
		if e, err := ParseEpochs(s); err == nil {
			t.Errorf("ParseEpochs(%q) = %v, want an error", s, e)
		}
	}
}

func TestExpectArg(t *testing.T) {
	for _, x := range []Expect{
		{Fresh: true, Promise: State{0, Epochs{{0, 1}}}},
		{Promise: State{12, Epochs{{0, 1}, {5, 3}}}},
		{Promise: State{12, Epochs{{0, 1}, {5, 3}}}, Pending: &Truncation{4, 9}},
		{Promise: State{0, nil}},
		{Promise: State{12, Epochs{{0, 1}}}, InSync: ptr(20)},
	} {
		got, err := ParseExpect(x.Arg())
		if err != nil || !reflect.DeepEqual(got, x) {
			t.Errorf("ParseExpect(%q) = %+v, %v; want %+v", x.Arg(), got, err, x)
		}
		if strings.ContainsAny(x.Arg(), " \t\n\"") {
			t.Errorf("Arg %q is not one word of a kernel command line", x.Arg())
		}
	}
	// Behind is the host's alone.
	x := Expect{Promise: State{12, Epochs{{0, 1}}}, Behind: &State{10, Epochs{{0, 1}}}}
	if got, err := ParseExpect(x.Arg()); err != nil || got.Behind != nil || got.Promise.Count != 12 {
		t.Errorf("ParseExpect(%q) = %+v, %v; want the promise without Behind", x.Arg(), got, err)
	}
	for _, s := range []string{"", "true/0/0:1/-", "maybe/0/0:1/-/-", "false/x/0:1/-/-", "false/0/0:1/3/-", "false/0/0:1/x:3/-", "false/0/0:1/3:x/-", "false/0/1:1/-/-", "false/0/0:1/-/x"} {
		if _, err := ParseExpect(s); err == nil {
			t.Errorf("ParseExpect(%q) succeeded", s)
		}
	}
}

func ptr(n uint64) *uint64 { return &n }

// feed gives lines to a tracker and fails on a protocol error.
func feed(t *testing.T, tr *Tracker, lines ...string) {
	t.Helper()
	for _, l := range lines {
		tr.Line(l)
		if tr.Err != nil {
			t.Fatalf("after %q: %v", l, tr.Err)
		}
	}
}

func TestTrackerBound(t *testing.T) {
	fresh := Expect{Fresh: true, Promise: State{0, Epochs{{0, 5}}}}
	tr := NewTracker(fresh, 5)
	if x := tr.Expect(); !x.Fresh || tr.Phase != PhaseBoot {
		t.Fatalf("before open: %+v, phase %s", x, tr.Phase)
	}
	feed(t, tr, "", Started, "[    3.1] EXT4-fs (vda): recovery complete", "open 0 5")
	if x := tr.Expect(); x.Fresh || x.Bound() != 0 {
		t.Fatalf("after open: %+v", x)
	}
	feed(t, tr, "grew 8192", "sync 100")
	if x := tr.Expect(); x.Bound() != 0 || tr.Phase != PhaseSync || x.Counts() != "0 or 100" {
		t.Fatalf("during a Sync: bound %d, counts %s, phase %s", x.Bound(), x.Counts(), tr.Phase)
	}
	feed(t, tr, "synced 100 5", "sync 150", "synced 150 5")
	if x := tr.Expect(); x.Bound() != 150 || x.Pending != nil || x.InSync != nil || tr.Phase != PhaseAppend {
		t.Fatalf("after syncs: %+v, phase %s", x, tr.Phase)
	}
	// A Truncate in flight: the bound is its target, and the array may be
	// in either state.
	feed(t, tr, "truncate 40 6")
	x := tr.Expect()
	if x.Bound() != 40 || tr.Phase != PhaseTruncate {
		t.Fatalf("during truncate: bound %d, phase %s", x.Bound(), tr.Phase)
	}
	want := []Candidate{{"promise", State{150, Epochs{{0, 5}}}}, {"truncate", State{40, Epochs{{0, 5}, {40, 6}}}}}
	if got := x.States(); !reflect.DeepEqual(got, want) {
		t.Fatalf("during truncate: states %v, want %v", got, want)
	}
	feed(t, tr, "truncated 40 6", "shrank 4096")
	if x := tr.Expect(); x.Bound() != 40 || x.Pending != nil || !reflect.DeepEqual(x.Promise, want[1].State) {
		t.Fatalf("after truncate: %+v", x)
	}
	// Appends after the Truncate are promised by the next Sync only.
	feed(t, tr, "grow 100", "grew 16384")
	if x := tr.Expect(); x.Bound() != 40 || tr.Phase != PhaseGrow {
		t.Fatalf("after grow: bound %d, phase %s", x.Bound(), tr.Phase)
	}
	feed(t, tr, "sync 90", "synced 90 6", "truncate 95 7")
	if x := tr.Expect(); x.Bound() != 90 {
		t.Fatalf("truncate above the promise: bound %d, want 90", x.Bound())
	}
	if tr.Syncs != 3 || tr.Truncates != 2 || tr.Grows != 3 || tr.Shrinks != 1 || tr.MaxEpoch != 7 {
		t.Errorf("counts: %+v", tr)
	}
}

// TestTrackerPublish checks that a published count is no promise: Open may
// never find it, and the host knows by how much it is ahead.
func TestTrackerPublish(t *testing.T) {
	tr := NewTracker(Expect{Promise: State{30, Epochs{{0, 1}}}}, 2)
	feed(t, tr, "open 30 2", "published 45", "published 60", "spilled 60 1")
	if x := tr.Expect(); x.Counts() != "30" || tr.Ahead() != 30 || tr.Phase != PhasePublish || tr.Publishes != 2 || tr.Spills != 1 {
		t.Fatalf("after publishes: counts %s, ahead %d, phase %s, %+v", x.Counts(), tr.Ahead(), tr.Phase, tr)
	}
	// A Sync of fewer records than were published: still ahead.
	feed(t, tr, "sync 50")
	if x := tr.Expect(); x.Counts() != "30 or 50" || tr.Ahead() != 10 {
		t.Fatalf("in a Sync: counts %s, ahead %d", x.Counts(), tr.Ahead())
	}
	feed(t, tr, "synced 50 2", "published 70", "sync 70")
	if tr.Ahead() != 0 {
		t.Fatalf("in a Sync of all that was published: ahead %d", tr.Ahead())
	}
	feed(t, tr, "synced 70 2", "truncate 10 3")
	if tr.Ahead() != 0 {
		t.Fatalf("in a Truncate: ahead %d", tr.Ahead())
	}
}

// TestTrackerBehind checks which header the file alone may show: each
// Sync that changes the count writes one without waiting, and the next
// Sync, Truncate or Close makes it durable.
func TestTrackerBehind(t *testing.T) {
	tr := NewTracker(Expect{Promise: State{30, Epochs{{0, 1}}}}, 2)
	behind := func(want string) {
		t.Helper()
		var names []string
		for _, c := range tr.Expect().FileStates() {
			names = append(names, fmt.Sprintf("%s %d", c.Name, c.Count))
		}
		if got := strings.Join(names, ", "); got != want {
			t.Errorf("file states %q, want %q", got, want)
		}
	}
	feed(t, tr, "open 30 2")
	behind("promise 30")
	feed(t, tr, "sync 40")
	behind("promise 30, sync 40")
	feed(t, tr, "synced 40 2")
	behind("promise 40, behind 30")
	feed(t, tr, "sync 40", "synced 40 2")
	behind("promise 40")
	feed(t, tr, "sync 50", "synced 50 2", "sync 60")
	behind("promise 50, sync 60, behind 40")
	feed(t, tr, "synced 60 2", "truncate 20 3")
	behind("promise 60, truncate 20, behind 50")
	feed(t, tr, "truncated 20 3")
	behind("promise 20, behind 60")
	if b := tr.Expect().Behind; !reflect.DeepEqual(*b, State{60, Epochs{{0, 1}, {30, 2}}}) {
		t.Errorf("behind a Truncate: %+v", b)
	}
	feed(t, tr, "sync 25", "synced 25 3", "closed 25")
	behind("promise 25")
}

func TestTrackerReopen(t *testing.T) {
	before := Expect{Promise: State{30, Epochs{{0, 1}, {20, 4}}}}
	tr := NewTracker(before, 9)
	feed(t, tr, "open 30 9", "sync 50", "synced 50 9")
	want := State{50, Epochs{{0, 1}, {20, 4}, {30, 9}}}
	if got := tr.Expect().Promise; !reflect.DeepEqual(got, want) {
		t.Fatalf("promise %v, want %v", got, want)
	}
}

func TestTrackerRefuses(t *testing.T) {
	before := Expect{Promise: State{30, Epochs{{0, 1}}}}
	for _, c := range []struct {
		name  string
		lines []string
	}{
		{"sync before open", []string{"synced 1 2"}},
		{"open twice", []string{"open 30 2", "open 30 2"}},
		{"open with another epoch", []string{"open 30 3"}},
		{"open with another count", []string{"open 29 2"}},
		{"sync of an old epoch", []string{"open 30 2", "sync 40", "synced 40 1"}},
		{"sync below the epoch's start", []string{"open 30 2", "truncate 10 3", "truncated 10 3", "sync 5", "synced 5 3"}},
		{"synced without sync", []string{"open 30 2", "synced 30 2"}},
		{"synced of another count", []string{"open 30 2", "sync 40", "synced 41 2"}},
		{"sync while one runs", []string{"open 30 2", "sync 40", "sync 41"}},
		{"truncate while a sync runs", []string{"open 30 2", "sync 40", "truncate 10 3"}},
		{"closed of another count", []string{"open 30 2", "sync 40", "synced 40 2", "closed 41"}},
		{"truncated without truncate", []string{"open 30 2", "truncated 10 3"}},
		{"truncate while one runs", []string{"open 30 2", "truncate 10 3", "truncate 5 4"}},
		{"sync while a truncate runs", []string{"open 30 2", "truncate 10 3", "sync 10"}},
		{"truncate reuses an epoch", []string{"open 30 2", "truncate 10 2"}},
		{"writer error", []string{"open 30 2", "ERROR Sync: input/output error"}},
	} {
		tr := NewTracker(before, 2)
		for _, l := range c.lines {
			tr.Line(l)
		}
		if tr.Err == nil {
			t.Errorf("%s: no error", c.name)
		}
		// The first error stays.
		first := tr.Err
		tr.Line("ERROR later")
		if tr.Err != first {
			t.Errorf("%s: error %v replaced by %v", c.name, first, tr.Err)
		}
	}
	// Lines that are not the writer's are ignored.
	tr := NewTracker(before, 2)
	feed(t, tr, "synced", "synced 1", "synced x 2", "opened 1 2", "[    1.0] synced 3 4")
	if tr.Phase != PhaseBoot {
		t.Errorf("phase %s after lines that are not the writer's", tr.Phase)
	}
}

// array returns records with the given epochs, from index 0.
func array(epochs ...uint64) []Record {
	recs := make([]Record, len(epochs))
	for i, e := range epochs {
		recs[i] = NewRecord(uint64(i), e)
	}
	return recs
}

// repeat returns n copies of e.
func repeat(e uint64, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = e
	}
	return s
}

func TestCheck(t *testing.T) {
	// The last Sync promised 10 records of epoch 1; a Truncate to 4
	// (epoch 2) was in flight.
	x := Expect{Promise: State{10, Epochs{{0, 1}}}, Pending: &Truncation{4, 2}}
	zeroed := array(repeat(1, 10)...)
	zeroed[6] = Record{}
	moved := array(repeat(1, 10)...)
	moved[3] = NewRecord(2, 1)
	for _, c := range []struct {
		name  string
		recs  []Record
		found string
		lost  uint64
		extra uint64
		torn  int
		stale int
		first uint64
	}{
		{"the promise", array(repeat(1, 10)...), "promise", 0, 0, 0, 0, 0},
		{"the Truncate", array(repeat(1, 4)...), "truncate", 0, 0, 0, 0, 0},
		{"more than was synced", array(repeat(1, 12)...), "", 0, 2, 0, 0, 0},
		{"the Truncate and more", array(append(repeat(1, 4), 2, 2)...), "", 0, 2, 0, 0, 0},
		{"lost records", array(repeat(1, 3)...), "", 1, 0, 0, 0, 0},
		{"lost a record, no Truncate", array(repeat(1, 9)...), "", 1, 0, 0, 0, 0},
		{"an old count", array(repeat(1, 6)...), "", 4, 0, 0, 0, 0},
		{"a zeroed record", zeroed, "", 0, 0, 1, 0, 6},
		{"a record at the wrong index", moved, "", 0, 0, 1, 0, 3},
		{"a record of the wrong epoch", array(1, 1, 3, 1, 1, 1, 1, 1, 1, 1), "", 0, 0, 0, 1, 2},
	} {
		r := x.Check(c.recs)
		first := r.FirstStale
		if c.torn > 0 {
			first = r.FirstTorn
		}
		if r.Found != c.found || r.Lost != c.lost || r.Extra != c.extra || r.Torn != c.torn || r.Stale != c.stale || first != c.first || r.OK() != (c.found != "") {
			t.Errorf("%s: %+v, want found %q lost %d extra %d torn %d stale %d first %d",
				c.name, r, c.found, c.lost, c.extra, c.torn, c.stale, c.first)
		}
		if why := r.Explain(); (why == "") != r.OK() {
			t.Errorf("%s: Explain says %q", c.name, why)
		}
	}
	// A Sync of 12 in flight: its count may be durable, and no other.
	x = Expect{Promise: State{10, Epochs{{0, 1}}}, InSync: ptr(12)}
	for _, c := range []struct {
		n     int
		found string
	}{{10, "promise"}, {12, "sync"}, {11, ""}, {13, ""}} {
		if r := x.Check(array(repeat(1, c.n)...)); r.Found != c.found {
			t.Errorf("a Sync of 12 in flight, %d records: found %q, want %q", c.n, r.Found, c.found)
		}
	}
	// The file alone may show the header before the last, and Open may not.
	x = Expect{Promise: State{10, Epochs{{0, 1}}}, Behind: &State{6, Epochs{{0, 1}}}}
	if r := x.Check(array(repeat(1, 6)...)); r.OK() {
		t.Errorf("Open found the state behind: %+v", r)
	}
	if r := x.CheckFile(array(repeat(1, 6)...)); r.Found != "behind" {
		t.Errorf("the file alone: %+v, want the state behind", r)
	}
}

func TestRunsOf(t *testing.T) {
	if got := RunsOf(array(1, 1, 3, 3, 3, 2)).String(); got != "0:1,2:3,5:2" {
		t.Errorf("RunsOf = %q", got)
	}
	if got := RunsOf(nil); got != nil {
		t.Errorf("RunsOf(nil) = %v", got)
	}
}

func TestVerdict(t *testing.T) {
	for _, v := range []Verdict{
		{Pass: true, Found: "promise", Count: 10, Bound: 8, Final: 20, Runs: Epochs{{0, 1}, {10, 3}}},
		{Pass: true, Found: "nofile"},
		{Pass: true, Found: "sync", Count: 12, Bound: 10, Live: 30, LiveWhole: 4, Final: 40, Runs: Epochs{{0, 1}}},
		{Found: "none", Count: 3, Bound: 8, Lost: 5, Extra: 1, Torn: 2, FirstTorn: 1, Stale: 1, FirstStale: 2,
			Reason: "lost synced records: 3 records; 2 torn"},
	} {
		got, ok := ParseVerdict(v.String())
		if !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("ParseVerdict(%q) = %+v, %v; want %+v", v, got, ok, v)
		}
	}
	for _, s := range []string{"PASSED", "synced 1 2", "PASS count=x", "FAIL what=1"} {
		if v, ok := ParseVerdict(s); ok {
			t.Errorf("ParseVerdict(%q) = %+v", s, v)
		}
	}
}
