//go:build linux

package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// summary adds up the trials.
type summary struct {
	trials, failed, fresh int
	noInit                int // boots whose kernel stopped before /init
	fsck                  int // trials whose disk ext4 mounted only after e2fsck

	cached int // trials with a volatile write cache
	// The sectors of unflushed writes at those cuts, and how many of them
	// reached the image.
	unflushed, persisted int
	// Writer sessions whose array published each Append, and whose page
	// cache wrote a changed page back once it was 0.05 to 0.5 s old.
	auto, writeback int

	// Cuts when the count the writer had published was above every count
	// Open may find (by its phase), and the records above.
	ahead        map[string]int
	aheadRecords uint64
	// Cuts after which the live area on the disk held a count above the
	// one Open found, and those of them whose records were not all on the
	// disk: the live area got there ahead of its records.
	liveAbove, liveFirst int
	// held counts the cuts at a flush by what waited for it.
	held map[string]int

	lost, extra uint64 // promised records missing, records no Sync made durable, over all trials
	torn, stale int

	plans  map[string]int // cuts by what the plan waited for
	phases map[string]int // cuts by the writer's phase
	// found counts the cuts in a Sync and in a Truncate by what the
	// checker found: its count ("sync", "truncate") or the one before
	// ("promise").
	found   map[string]map[string]int
	shrinks int

	boot, write, check, all time.Duration

	// The figures above from lost on are the array's trials'; these the
	// log's.
	logs logSummary
}

// logSummary adds up the trials of the log.
type logSummary struct {
	trials, failed int
	follow         int // trials with a reader following the writer
	// Cuts while published records were not durable, and the records.
	ahead        int
	aheadRecords uint64
	plans        map[string]int // cuts by what the plan waited for
	phases       map[string]int // cuts by the writer's phase
	// What the checker found at the cuts in a Sync, in an Append that
	// rolled and in a drop: End as promised ("promise"), at the Sync's
	// ("sync") or at a roll's ("roll"); First as promised ("came back":
	// the drop was lost), where the drop moved it ("moved"), or as
	// promised where the drop would not move it ("no-op").
	inSync, inRoll, inDrop map[string]int
	// Cuts that left segment files below First (a drop's removals lost),
	// a segment under its temporary name (a roll's), and sidecars of
	// segments (not trimmed), and how many of each.
	below, temp, sidecars          int
	belowN, tempN, sidecarsN       int
	segments                       int    // segments the checkers' first readers read
	checked                        uint64 // records checked
	torn, stale                    int
	rolls, drops, syncs, publishes int
}

func (s *logSummary) add(r result) {
	if s.plans == nil {
		s.plans, s.phases = map[string]int{}, map[string]int{}
		s.inSync, s.inRoll, s.inDrop = map[string]int{}, map[string]int{}, map[string]int{}
	}
	v := r.logVerdict
	s.trials++
	if r.err != nil {
		s.failed++
	}
	if r.follow {
		s.follow++
	}
	if r.ahead > 0 {
		s.ahead++
		s.aheadRecords += r.ahead
	}
	s.plans[r.plan.name()]++
	s.phases[r.phase]++
	found, first := v.Found, v.FirstFound
	if found == "" {
		found = "no verdict"
	}
	if first == "" {
		first = "no verdict"
	}
	switch r.phase {
	case model.PhaseSync:
		s.inSync[found]++
	case model.PhaseRoll:
		s.inRoll[found]++
	case model.PhaseDrop:
		switch {
		case !r.dropMoves:
			first = "no-op"
		case first == "promise":
			first = "came back"
		case first == "drop":
			first = "moved"
		}
		s.inDrop[first]++
	}
	for _, c := range []struct {
		cuts, files *int
		n           int
	}{{&s.below, &s.belowN, v.Below}, {&s.temp, &s.tempN, v.Temp}, {&s.sidecars, &s.sidecarsN, v.Sidecars}} {
		if c.n > 0 {
			*c.cuts++
			*c.files += c.n
		}
	}
	s.segments += v.Segments
	s.checked += v.Checked
	s.torn += v.Torn
	s.stale += v.Stale
	s.rolls += r.rolls
	s.drops += r.drops
	s.syncs += r.syncs
	s.publishes += r.publishes
}

func (s *logSummary) print() {
	if s.trials == 0 {
		return
	}
	fmt.Printf("powercut: log: %d trials, %d passed, %d failed; %d with a reader following the writer; the writers rolled in %d Appends, dropped %d times, synced %d times, published %d times\n",
		s.trials, s.trials-s.failed, s.failed, s.follow, s.rolls, s.drops, s.syncs, s.publishes)
	fmt.Printf("powercut: log: records checked %d, torn or garbage %d, of a wrong epoch %d; segments read at the cuts %d\n", s.checked, s.torn, s.stale, s.segments)
	fmt.Printf("powercut: log: cuts planned at: %s\n", counts(s.plans))
	fmt.Printf("powercut: log: cuts by the writer's phase: %s; in a Sync the checker found End at %s; in a rolling Append %s; in a drop First at %s\n",
		counts(s.phases), counts(s.inSync), counts(s.inRoll), counts(s.inDrop))
	fmt.Printf("powercut: log: cuts that left segment files below First %d (%d files), a segment under its temporary name %d (%d), sidecars of segments rolled past %d (%d)\n",
		s.below, s.belowN, s.temp, s.tempN, s.sidecars, s.sidecarsN)
	fmt.Printf("powercut: log: cuts while published records were not durable: %d (%d records in all)\n", s.ahead, s.aheadRecords)
}

func (s *summary) add(r result) {
	if s.phases == nil {
		s.plans, s.phases, s.ahead, s.held = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
		s.found = map[string]map[string]int{model.PhaseSync: {}, model.PhaseTruncate: {}}
	}
	s.trials++
	if r.err != nil {
		s.failed++
	}
	if r.fresh {
		s.fresh++
	}
	s.noInit += r.noInit
	if r.fsck {
		s.fsck++
	}
	if r.cache {
		s.cached++
		s.unflushed += r.unflushed
		s.persisted += r.persisted
	}
	if r.auto {
		s.auto++
	}
	if r.writeback > 0 {
		s.writeback++
	}
	if r.held != "" {
		s.held[r.held]++
	}
	s.boot += r.boot
	s.write += r.write
	s.check += r.check
	s.all += r.wall
	if r.log {
		s.logs.add(r)
		return
	}
	s.lost += r.verdict.Lost
	s.extra += r.verdict.Extra
	s.torn += r.verdict.Torn
	s.stale += r.verdict.Stale
	if r.ahead > 0 {
		s.ahead[r.phase]++
		s.aheadRecords += r.ahead
	}
	if v := r.verdict; v.Live > v.Count {
		s.liveAbove++
		if v.LiveWhole < v.Live-v.Count {
			s.liveFirst++
		}
	}
	s.plans[r.plan.name()]++
	s.phases[r.phase]++
	if found, ok := s.found[r.phase]; ok {
		name := r.verdict.Found
		if name == "" {
			name = "no verdict"
		}
		found[name]++
	}
	s.shrinks += r.shrinks
}

func (s *summary) print(wall time.Duration) {
	n := time.Duration(max(s.trials, 1))
	fmt.Printf("powercut: %d trials, %d passed, %d failed; %d on a new disk; %d boots stopped before /init and were tried again\n",
		s.trials, s.trials-s.failed, s.failed, s.fresh, s.noInit)
	fmt.Printf("powercut: %d cuts killed qemu on a plain disk, %d on a disk with a volatile write cache (%d unflushed sectors at the cuts, %d of them kept); %d disks needed e2fsck before ext4 mounted them\n",
		s.trials-s.cached, s.cached, s.unflushed, s.persisted, s.fsck)
	fmt.Printf("powercut: writers: %d published each Append (WithAutoPublish), the others called Publish; %d had their page cache write changed pages back once 0.05 to 0.5 s old\n",
		s.auto, s.writeback)
	fmt.Printf("powercut: cuts at a flush, by what waited for it: %s\n", counts(s.held))
	if arrays := s.trials - s.logs.trials; arrays > 0 {
		fmt.Printf("powercut: array: %d trials, %d passed, %d failed\n", arrays, arrays-(s.failed-s.logs.failed), s.failed-s.logs.failed)
		fmt.Printf("powercut: array: lost synced records %d, extra records %d, torn or garbage records %d, records of a wrong epoch %d\n", s.lost, s.extra, s.torn, s.stale)
		fmt.Printf("powercut: array: cuts planned at: %s\n", counts(s.plans))
		fmt.Printf("powercut: array: cuts by the writer's phase: %s; in a Sync the checker found %s; in a Truncate %s; Closes that cut the file: %d\n",
			counts(s.phases), counts(s.found[model.PhaseSync]), counts(s.found[model.PhaseTruncate]), s.shrinks)
		fmt.Printf("powercut: array: cuts while published records were not durable: %d (by phase: %s; %d records in all)\n",
			total(s.ahead), counts(s.ahead), s.aheadRecords)
		fmt.Printf("powercut: array: cuts that left a published count on the disk's live area above the durable one: %d, %d of them ahead of their records\n",
			s.liveAbove, s.liveFirst)
	}
	s.logs.print()
	fmt.Printf("powercut: per trial %.1fs (writer boot %.1fs, writing %.1fs, checker %.1fs); %.0fs in all\n",
		(s.all / n).Seconds(), (s.boot / n).Seconds(), (s.write / n).Seconds(), (s.check / n).Seconds(), wall.Seconds())
}

// total adds up a map of counts.
func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// counts formats a map of counts as "key n, key n".
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
