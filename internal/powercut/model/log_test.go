package model

import (
	"reflect"
	"strings"
	"testing"
)

func TestEpochsAtFrom(t *testing.T) {
	e := Epochs{{0, 1}, {10, 3}, {25, 4}}
	for i, want := range map[uint64]uint64{0: 1, 9: 1, 10: 3, 24: 3, 25: 4, 1000: 4} {
		if got := e.At(i); got != want {
			t.Errorf("At(%d) = %d, want %d", i, got, want)
		}
	}
	for _, c := range []struct {
		first uint64
		want  string
	}{{0, "0:1,10:3,25:4"}, {9, "0:1,10:3,25:4"}, {10, "0:3,25:4"}, {24, "0:3,25:4"}, {25, "0:4"}, {99, "0:4"}} {
		got := e.From(c.first)
		if got.String() != c.want {
			t.Errorf("From(%d) = %s, want %s", c.first, got, c.want)
		}
		if _, err := ParseEpochs(got.String()); err != nil {
			t.Errorf("From(%d): %v", c.first, err)
		}
		for i := c.first; i < 40; i++ {
			if got.At(i) != e.At(i) {
				t.Errorf("From(%d).At(%d) = %d, want %d", c.first, i, got.At(i), e.At(i))
			}
		}
	}
	if e.String() != "0:1,10:3,25:4" {
		t.Errorf("From changed its receiver: %s", e)
	}
}

func TestLogExpectArg(t *testing.T) {
	for _, x := range []LogExpect{
		{Fresh: true, Promise: LogState{0, 0, Epochs{{0, 1}}}},
		{Promise: LogState{200, 1234, Epochs{{0, 1}, {700, 3}}}},
		{Promise: LogState{200, 1234, Epochs{{0, 1}}}, InSync: ptr(1300)},
		{Promise: LogState{200, 1234, Epochs{{0, 1}}}, Rolling: ptr(1500), Dropping: ptr(900)},
	} {
		got, err := ParseLogExpect(x.Arg())
		if err != nil || !reflect.DeepEqual(got, x) {
			t.Errorf("ParseLogExpect(%q) = %+v, %v; want %+v", x.Arg(), got, err, x)
		}
		if strings.ContainsAny(x.Arg(), " \t\n\"") {
			t.Errorf("Arg %q is not one word of a kernel command line", x.Arg())
		}
	}
	for _, s := range []string{"", "false/0/0/0:1/-/-", "maybe/0/0/0:1/-/-/-", "false/x/0/0:1/-/-/-", "false/0/0/1:1/-/-/-",
		"false/0/0/0:1/x/-/-", "false/0/0/0:1/-/-/x", "false/5/4/0:1/-/-/-"} {
		if _, err := ParseLogExpect(s); err == nil {
			t.Errorf("ParseLogExpect(%q) succeeded", s)
		}
	}
}

func TestLogExpectStates(t *testing.T) {
	x := LogExpect{Promise: LogState{100, 500, Epochs{{0, 1}}}}
	for _, c := range []struct {
		name        string
		x           LogExpect
		first, end  uint64
		fstate, est string
	}{
		{"the promise", x, 100, 500, "promise", "promise"},
		{"First lower", x, 99, 500, "", "promise"},
		{"First higher", x, 300, 500, "", "promise"},
		{"End lower", x, 100, 499, "promise", ""},
		{"End higher", x, 100, 501, "promise", ""},
		{"the Sync in flight", with(x, func(x *LogExpect) { x.InSync = ptr(600) }), 100, 600, "promise", "sync"},
		{"between the promise and the Sync", with(x, func(x *LogExpect) { x.InSync = ptr(600) }), 100, 550, "promise", ""},
		{"a roll in flight", with(x, func(x *LogExpect) { x.Rolling = ptr(900) }), 100, 800, "promise", "roll"},
		{"past the rolling Append", with(x, func(x *LogExpect) { x.Rolling = ptr(900) }), 100, 901, "promise", ""},
		{"a drop in flight", with(x, func(x *LogExpect) { x.Dropping = ptr(400) }), 400, 500, "drop", "promise"},
		{"a drop that came back", with(x, func(x *LogExpect) { x.Dropping = ptr(400) }), 100, 500, "promise", "promise"},
		{"short of the drop's First", with(x, func(x *LogExpect) { x.Dropping = ptr(400) }), 300, 500, "", "promise"},
		{"past the drop's First", with(x, func(x *LogExpect) { x.Dropping = ptr(400) }), 401, 500, "", "promise"},
	} {
		if got := c.x.FirstState(c.first); got != c.fstate {
			t.Errorf("%s: FirstState(%d) = %q, want %q", c.name, c.first, got, c.fstate)
		}
		if got := c.x.EndState(c.end); got != c.est {
			t.Errorf("%s: EndState(%d) = %q, want %q", c.name, c.end, got, c.est)
		}
	}
}

// with returns x changed by f.
func with(x LogExpect, f func(*LogExpect)) LogExpect {
	f(&x)
	return x
}

// feedLog gives lines to a log tracker and fails on a protocol error.
func feedLog(t *testing.T, tr *LogTracker, lines ...string) {
	t.Helper()
	for _, l := range lines {
		tr.Line(l)
		if tr.Err != nil {
			t.Fatalf("after %q: %v", l, tr.Err)
		}
	}
}

func TestLogTracker(t *testing.T) {
	tr := NewLogTracker(LogExpect{Fresh: true, Promise: LogState{0, 0, Epochs{{0, 5}}}}, 5)
	feedLog(t, tr, "", Started, "[    3.1] EXT4-fs (vda): recovery complete", "logopen 0 0 5")
	if x := tr.Expect(); x.Fresh || tr.Phase != PhaseAppend {
		t.Fatalf("after open: %+v, phase %s", x, tr.Phase)
	}
	feedLog(t, tr, "published 150", "sync 300")
	if x := tr.Expect(); x.Ends() != "0 or 300" || tr.Phase != PhaseSync || tr.Ahead() != 0 {
		t.Fatalf("in a Sync: ends %s, phase %s, ahead %d", x.Ends(), tr.Phase, tr.Ahead())
	}
	feedLog(t, tr, "synced 300 5", "published 350")
	if tr.Ahead() != 50 {
		t.Fatalf("published 50 past the Sync: ahead %d", tr.Ahead())
	}
	// A rolling Append: End may be any index it rolled at.
	feedLog(t, tr, "rolling 350 1200")
	if x := tr.Expect(); x.Ends() != "300 or one in (300, 1200]" || tr.Phase != PhaseRoll || tr.Ahead() != 0 {
		t.Fatalf("in a roll: ends %s, phase %s, ahead %d", x.Ends(), tr.Phase, tr.Ahead())
	}
	feedLog(t, tr, "rolled 1000")
	if x := tr.Expect(); x.Promise.End != 1000 || x.Rolling != nil {
		t.Fatalf("after a roll: %+v", x)
	}
	// A drop: First moves to the segment that holds its target, and the
	// epochs below go.
	feedLog(t, tr, "dropping 700 500")
	if x := tr.Expect(); x.Firsts() != "0 or 500" || tr.Phase != PhaseDrop {
		t.Fatalf("in a drop: firsts %s, phase %s", x.Firsts(), tr.Phase)
	}
	feedLog(t, tr, "dropped 500")
	want := LogExpect{Promise: LogState{500, 1000, Epochs{{0, 5}}}}
	if x := tr.Expect(); !reflect.DeepEqual(x, want) || tr.Phase != PhaseAppend {
		t.Fatalf("after a drop: %+v, want %+v", x, want)
	}
	if tr.Syncs != 1 || tr.Rolls != 1 || tr.Drops != 1 || tr.Publishes != 2 {
		t.Errorf("counts: %+v", tr)
	}
}

func TestLogTrackerReopen(t *testing.T) {
	before := LogExpect{Promise: LogState{200, 900, Epochs{{0, 2}, {600, 4}}}}
	tr := NewLogTracker(before, 9)
	feedLog(t, tr, "logopen 200 900 9", "sync 950", "synced 950 9", "dropping 800 600", "dropped 600")
	want := LogState{600, 950, Epochs{{0, 4}, {900, 9}}}
	if got := tr.Expect().Promise; !reflect.DeepEqual(got, want) {
		t.Fatalf("promise %+v, want %+v", got, want)
	}
}

func TestLogTrackerRefuses(t *testing.T) {
	before := LogExpect{Promise: LogState{100, 300, Epochs{{0, 1}}}}
	for _, c := range []struct {
		name  string
		lines []string
	}{
		{"sync before open", []string{"sync 400"}},
		{"open twice", []string{"logopen 100 300 2", "logopen 100 300 2"}},
		{"open with another epoch", []string{"logopen 100 300 3"}},
		{"open with another End", []string{"logopen 100 299 2"}},
		{"open with another First", []string{"logopen 0 300 2"}},
		{"sync below the durable End", []string{"logopen 100 300 2", "sync 200"}},
		{"synced without sync", []string{"logopen 100 300 2", "synced 300 2"}},
		{"synced of another End", []string{"logopen 100 300 2", "sync 400", "synced 401 2"}},
		{"synced of an old epoch", []string{"logopen 100 300 2", "sync 400", "synced 400 1"}},
		{"sync while a roll runs", []string{"logopen 100 300 2", "rolling 300 900", "sync 900"}},
		{"drop while a sync runs", []string{"logopen 100 300 2", "sync 400", "dropping 200 150"}},
		{"rolling below the durable End", []string{"logopen 100 300 2", "rolling 299 900"}},
		{"rolling nothing", []string{"logopen 100 300 2", "rolling 300 300"}},
		{"rolled without rolling", []string{"logopen 100 300 2", "rolled 400"}},
		{"rolled past the Append", []string{"logopen 100 300 2", "rolling 300 900", "rolled 900"}},
		{"dropped without dropping", []string{"logopen 100 300 2", "dropped 200"}},
		{"dropping past the target", []string{"logopen 100 300 2", "dropping 200 250"}},
		{"dropping back", []string{"logopen 100 300 2", "dropping 200 50"}},
		{"dropping past the durable End", []string{"logopen 100 300 2", "dropping 500 400"}},
		{"dropped elsewhere", []string{"logopen 100 300 2", "dropping 200 150", "dropped 200"}},
		{"dropped as it was", []string{"logopen 100 300 2", "dropping 200 150", "dropped 100"}},
		{"writer error", []string{"logopen 100 300 2", "ERROR follower: boom"}},
	} {
		tr := NewLogTracker(before, 2)
		for _, l := range c.lines {
			tr.Line(l)
		}
		if tr.Err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// Lines that are not the log writer's are ignored, the array's among
	// them.
	tr := NewLogTracker(before, 2)
	feedLog(t, tr, "synced", "rolled x", "open 300 2", "truncate 10 3", "[    1.0] synced 3 4")
	if tr.Phase != PhaseBoot {
		t.Errorf("phase %s after lines that are not the writer's", tr.Phase)
	}
}

func TestRecordCheck(t *testing.T) {
	e := Epochs{{0, 1}, {12, 2}}
	var c RecordCheck
	for i := uint64(10); i < 15; i++ {
		r := NewRecord(i, e.At(i))
		switch i {
		case 11:
			r.Fill[2]++
		case 13:
			r = NewRecord(i, 1)
		}
		c.Add(i, &r, e)
	}
	want := RecordCheck{Checked: 5, Torn: 1, FirstTorn: 11, Stale: 1, FirstStale: 13}
	if c != want {
		t.Errorf("%+v, want %+v", c, want)
	}
	if why := c.Explain(); !strings.Contains(why, "torn or garbage records, the first at index 11") || !strings.Contains(why, "wrong epoch, the first at index 13") {
		t.Errorf("Explain: %q", why)
	}
}

func TestLogVerdict(t *testing.T) {
	for _, v := range []LogVerdict{
		{Pass: true, Found: "roll", FirstFound: "promise", First: 400, End: 1300, Bound: 1000, Segments: 4, Below: 1, Temp: 1, Sidecars: 2,
			Checked: 2500, Final: 1700, Runs: Epochs{{0, 3}, {1300, 4}}},
		{Pass: true, Found: "nolog", FirstFound: "nolog", Final: 20, Runs: Epochs{{0, 1}}},
		{Found: "none", Bound: 10, Torn: 2, Stale: 1, Reason: "its End is 5 (First 0), want 10"},
	} {
		got, ok := ParseLogVerdict(v.String())
		if !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("ParseLogVerdict(%q) = %+v, %v; want %+v", v, got, ok, v)
		}
		if _, ok := ParseVerdict(v.String()); ok {
			t.Errorf("ParseVerdict takes a log's verdict %q", v)
		}
	}
	if _, ok := ParseLogVerdict(Verdict{Pass: true, Found: "promise"}.String()); ok {
		t.Error("ParseLogVerdict takes an array's verdict")
	}
	for _, s := range []string{"PASS log", "PASS log first=x", "PASS log what=1", "OK log found=x"} {
		if v, ok := ParseLogVerdict(s); ok {
			t.Errorf("ParseLogVerdict(%q) = %+v", s, v)
		}
	}
}
