//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/powercut/model"
)

// maxLogRecords is how many records the log's writer keeps at most before
// it drops the oldest segments: about 1.4 MB.
const maxLogRecords = 1 << 14

// logWriter appends to a log, publishes, syncs, drops its oldest segments
// and reopens it at random until the power is cut, and prints the console
// lines of [model.LogTracker].
type logWriter struct {
	lg  *mmap.Log[model.Record]
	dir string
	// per is the records per segment (WithSegmentRecords), newest the
	// first index of the newest segment, as the directory shows it.
	per    int
	newest int64
	epoch  uint64
	rng    *rand.Rand
	batch  []model.Record
	// auto: the log publishes each Append (WithAutoPublish); otherwise
	// the writer calls Publish after an Append with the chance publish.
	auto    bool
	publish float64
}

// writeLog opens the log in dir, or creates it, and runs the log's writer
// on it in the given epoch, with a reader following it in this process if
// s says so. It returns only on an error.
func writeLog(dir string, seed, epoch uint64, s session) error {
	if s.writeback > 0 {
		if err := setWriteback(s.writeback); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(seed, epoch))
	w := &logWriter{dir: dir, epoch: epoch, rng: rng, per: 200 + rng.IntN(301), auto: s.autoPublish, publish: rng.Float64() * 0.6}
	if err := w.open(); err != nil {
		return err
	}
	say("%s %d %d %d", model.LogOpen, w.lg.First(), w.lg.End(), epoch)
	if s.follow {
		go follow(dir, uint64(w.lg.End()), epoch)
	}
	for {
		if err := w.step(); err != nil {
			return err
		}
	}
}

// open opens the log as its writer and finds its newest segment.
func (w *logWriter) open() error {
	opts := []mmap.Option{mmap.WithSegmentRecords(w.per)}
	if w.auto {
		opts = append(opts, mmap.WithAutoPublish())
	}
	lg, err := mmap.OpenLog[model.Record](w.dir, mmap.RDWR, opts...)
	if err != nil {
		return err
	}
	w.lg = lg
	w.newest, err = newestSegment(w.dir)
	return err
}

// newestSegment returns the first index of the newest segment in dir, by
// the segments' names.
func newestSegment(dir string) (int64, error) {
	return segmentAtOrBelow(dir, math.MaxInt64)
}

// segmentAtOrBelow returns the first index of the newest segment in dir
// that starts at or below i, by the segments' names.
func segmentAtOrBelow(dir string, i int64) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	newest := int64(-1)
	for _, e := range entries {
		if first, ok := segmentFirst(e.Name()); ok && first <= i {
			newest = max(newest, first)
		}
	}
	if newest < 0 {
		return 0, fmt.Errorf("no segment in %s at or below %d", dir, i)
	}
	return newest, nil
}

// segmentFirst returns the first index of the segment named name: 20
// digits and .npy.
func segmentFirst(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, ".npy")
	if !ok || len(digits) != 20 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	first, err := strconv.ParseInt(digits, 10, 64)
	return first, err == nil
}

// step does one thing at random.
func (w *logWriter) step() error {
	end := w.lg.End()
	if end-w.lg.First() > maxLogRecords {
		return w.keepNewest(int64(w.rng.IntN(4 * w.per)))
	}
	switch r := w.rng.IntN(100); {
	case r < 64:
		return w.appendBurst()
	case r < 70:
		return w.published(true)
	case r < 86:
		return w.sync(w.lg.Sync)
	case r < 92:
		return w.dropBefore(w.lg.First() + w.rng.Int64N(end-w.lg.First()+1))
	case r < 97:
		return w.keepNewest(int64(w.rng.IntN(3 * w.per)))
	}
	return w.reopen()
}

// appendBurst appends up to a thousand records, in calls of random sizes,
// each of which may publish. An Append that fills the newest segment and
// goes on rolls to a new one: the writer says so before it starts, and
// checks after it that it did, and did not otherwise.
func (w *logWriter) appendBurst() error {
	for left := 1 + w.rng.IntN(1<<w.rng.IntN(11)); left > 0; {
		k := 1 + w.rng.IntN(left)
		from := w.lg.End()
		w.batch = w.batch[:0]
		for i := range k {
			w.batch = append(w.batch, model.NewRecord(uint64(from)+uint64(i), w.epoch))
		}
		rolls := from+int64(k) > w.newest+int64(w.per)
		if rolls {
			say("%s %d %d", model.Rolling, from, from+int64(k))
		}
		if err := w.lg.Append(w.batch...); err != nil {
			return err
		}
		newest, err := newestSegment(w.dir)
		switch {
		case err != nil:
			return err
		case rolls != (newest != w.newest):
			return fmt.Errorf("an Append of [%d, %d) with %d records per segment left the newest segment at %d, after %d", from, from+int64(k), w.per, newest, w.newest)
		case rolls:
			say("%s %d", model.Rolled, newest)
		}
		w.newest = newest
		if err := w.published(false); err != nil {
			return err
		}
		left -= k
	}
	return nil
}

// published reports the End that readers see after an Append of a log
// that publishes each, or after a Publish, which it calls if call is set
// or, after an Append, with the chance w.publish.
func (w *logWriter) published(call bool) error {
	if !w.auto {
		if !call && w.rng.Float64() >= w.publish {
			return nil
		}
		if err := w.lg.Publish(); err != nil {
			return err
		}
	}
	say("%s %d", model.Published, w.lg.End())
	return nil
}

// sync runs op, a Sync or a Close of the log, between the lines of a Sync
// of the records the log holds.
func (w *logWriter) sync(op func() error) error {
	end := w.lg.End()
	say("%s %d", model.Sync, end)
	if err := op(); err != nil {
		return err
	}
	say("%s %d %d", model.Synced, end, w.epoch)
	return nil
}

// dropBefore drops the segments below the one that holds record i.
func (w *logWriter) dropBefore(i int64) error {
	return w.drop(i, func() error { return w.lg.DropBefore(i) })
}

// keepNewest drops the oldest segments while the rest hold n records or
// more: a DropBefore of End − n.
func (w *logWriter) keepNewest(n int64) error {
	return w.drop(w.lg.End()-n, func() error { return w.lg.KeepNewest(n) })
}

// drop runs op, a drop of the segments below the one that holds record
// target, between its lines, which say where it moves First: to the
// newest segment that starts at or below target, if that is above First.
func (w *logWriter) drop(target int64, op func() error) error {
	to := w.lg.First()
	if at, err := segmentAtOrBelow(w.dir, target); err == nil {
		to = max(to, at)
	}
	say("%s %d %d", model.Dropping, max(target, 0), to)
	if err := op(); err != nil {
		return err
	}
	say("%s %d", model.Dropped, w.lg.First())
	return nil
}

// reopen closes the log, which syncs it, and opens it again, which must
// find the same records. To the host, the Close is a Sync.
func (w *logWriter) reopen() error {
	first, end := w.lg.First(), w.lg.End()
	if err := w.sync(w.lg.Close); err != nil {
		return err
	}
	if err := w.open(); err != nil {
		return err
	}
	if w.lg.First() != first || w.lg.End() != end {
		return fmt.Errorf("closed holding [%d, %d), reopened holding [%d, %d)", first, end, w.lg.First(), w.lg.End())
	}
	return nil
}

// follow reads the log in dir as a reader in the writer's process, from
// its First on, following the writer across rolls, drops and reopens, and
// checks each record: whole at its index, and of epoch from index from on.
// It holds the segments it reads, so that the writer rolls past segments
// it cannot trim. It reports an error with an ERROR line, which fails the
// trial, and returns.
func follow(dir string, from, epoch uint64) {
	r, err := mmap.OpenLog[model.Record](dir, mmap.RDONLY)
	if err != nil {
		say("%s follower: %v", model.Error, err)
		return
	}
	ctx := context.Background()
	i := r.First()
	for {
		for rec, err := range r.Follow(ctx, i) {
			if ie := (*mmap.IndexError)(nil); errors.As(err, &ie) && ie.Index < ie.First {
				// Dropped before the follower got to it.
				i = ie.First
				break
			}
			if err != nil {
				say("%s follower at %d: %v", model.Error, i, err)
				return
			}
			if !rec.Whole(uint64(i)) || uint64(i) >= from && rec.Epoch != epoch {
				say("%s follower: record %d is %+v, want one whole of epoch %d", model.Error, i, rec, epoch)
				return
			}
			i++
		}
		// The writer closed the log (a reopen), or the follower fell
		// behind a drop.
		if err := r.WaitWriter(ctx); err != nil {
			say("%s follower: %v", model.Error, err)
			return
		}
		if err := r.Refresh(); err != nil {
			say("%s follower: %v", model.Error, err)
			return
		}
		i = max(i, r.First())
	}
}
