package mmap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The benchmarks in this file measure a Log: its writer's Append across
// rolls against one Array's, a roll, a drop, and how soon a reader in
// another process sees a record that opens a segment. Each measures its
// baseline in the same run, side by side (the two taking turns: ABBA, or
// records of one stream), and reports both as metrics of its own, so that
//
//	go test -run='^$' -bench='^BenchmarkLog' -benchtime=1x -count=10 -timeout=1h . | tee log.txt
//	benchstat log.txt
//
// prints each metric's median over the runs and its spread.

// recSize is the size of rec, the records the logs hold.
const recSize = 24

// BenchmarkLogAppend appends logAppendRecs records (96 MiB), or
// logAppendSegments segments' worth where that is fewer.
const (
	logAppendRecs     = 4 << 20
	logAppendSegments = 256
)

// sizeName names a size of segment in KiB or MiB.
func sizeName(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// benchFileSystems returns where the benchmarks of writing put their
// files: the disk (os.TempDir, which is on a disk on the machine the
// README's tables come from: check with df), and /dev/shm where there is
// one, a file system in memory, where syncing waits for nothing.
func benchFileSystems() []struct{ name, parent string } {
	fss := []struct{ name, parent string }{{"disk", ""}}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		fss = append(fss, struct{ name, parent string }{"shm", "/dev/shm"})
	}
	return fss
}

// openBenchLog opens the log in the new directory dir as its writer, with
// opts, and when the benchmark ends closes it, if it was not, and removes
// dir.
func openBenchLog(b testing.TB, dir string, opts ...Option) *Log[rec] {
	b.Helper()
	l, err := OpenLog[rec](dir, RDWR, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		l.Close()
		os.RemoveAll(dir)
	})
	return l
}

// abba calls a, b, then b, a: so that a drift of the machine's speed
// during the four falls on each alike.
func abba(a, b func()) {
	a()
	b()
	b()
	a()
}

// reportQuantiles reports the p50 and p99 of durations, in µs, as
// name-p50-µs and name-p99-µs, and returns the p50.
func reportQuantiles(b *testing.B, name string, durations []time.Duration) float64 {
	d := slices.Clone(durations)
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(at(0.50), name+"-p50-µs")
	b.ReportMetric(at(0.99), name+"-p99-µs")
	return at(0.50)
}

// BenchmarkLogAppend appends logAppendRecs records one at a time (256
// segments' worth, 16 MiB, with segments of 64 KiB), the loop a user
// writes, to a Log that rolls to a new segment every seg bytes, and to one
// Array that Syncs before each record where the log rolls (a roll syncs
// the segment it rolls past, beside the appends that follow): the same
// records, made durable at the same points. Each is timed from its open
// to its close, which syncs the records after the last roll, unmaps the
// files and cuts them to their last record; each starts from nothing (the log's directory, the array's
// file removed outside the timing). The array and the log's first segment
// double their capacity as they grow; a segment made by a roll has its
// full size at once. Each gives back what is left over at Close (4Mi
// records fill the array's exactly). An iteration runs each twice
// (ABBA). It runs on the disk and in memory (benchFileSystems), with
// segments of 64 KiB, 1 MiB and 16 MiB, and reports ns/record of each and
// log's time over array's.
func BenchmarkLogAppend(b *testing.B) {
	for _, fsys := range benchFileSystems() {
		for _, seg := range []int64{64 << 10, 1 << 20, 16 << 20} {
			b.Run(fmt.Sprintf("fs=%s/seg=%s", fsys.name, sizeName(seg)), func(b *testing.B) {
				dir := tempDirIn(b, fsys.parent)
				logDir, arrayPath := filepath.Join(dir, "log"), filepath.Join(dir, "array.npy")
				b.Cleanup(func() { os.RemoveAll(logDir) })
				per := seg / recSize
				n := min(logAppendRecs, logAppendSegments*per)
				var logTook, arrayTook time.Duration
				for b.Loop() {
					abba(func() {
						logTook += logAppendRun(b, logDir, seg, n)
					}, func() {
						arrayTook += arrayAppendRun(b, arrayPath, per, n)
					})
				}
				runs := float64(2 * int64(b.N) * n)
				b.ReportMetric(float64(logTook)/runs, "log-ns/record")
				b.ReportMetric(float64(arrayTook)/runs, "array-ns/record")
				b.ReportMetric(float64(logTook)/float64(arrayTook), "log/array")
			})
		}
	}
}

// logAppendRun appends n records to a new log in dir, with segments of
// seg bytes, and returns the time from its open to its close.
func logAppendRun(b *testing.B, dir string, seg, n int64) time.Duration {
	b.StopTimer()
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	l, err := OpenLog[rec](dir, RDWR, WithSegmentBytes(seg))
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := l.Append(logRec(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// arrayAppendRun appends n records to a new array at path, syncing
// before every per-th record, and returns the time from its create to its
// close.
func arrayAppendRun(b *testing.B, path string, per, n int64) time.Duration {
	b.StopTimer()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	a, err := Create[rec](path)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if i > 0 && i%per == 0 {
			if err := a.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Append(logRec(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// logRounds is how many times an iteration of BenchmarkLogRoll and
// BenchmarkLogDrop measures each of its two (ABBA): 200 times.
const logRounds = 100

// BenchmarkLogRoll measures a roll on the disk, with segments of 64 KiB
// and of 1 MiB: the time of each Append that rolls (roll-p50-µs,
// roll-p99-µs), against the Sync of an Array that as many records were
// appended to since its last Sync (sync-…), what making those records
// durable costs without a log. Each roll and each Sync follows a
// segment's worth of Appends; they take turns (ABBA), logRounds times an
// iteration. It reports roll/sync, of the p50s.
func BenchmarkLogRoll(b *testing.B) {
	for _, seg := range []int64{64 << 10, 1 << 20} {
		b.Run("seg="+sizeName(seg), func(b *testing.B) {
			dir := tempDir(b)
			l := openBenchLog(b, filepath.Join(dir, "log"), WithSegmentBytes(seg))
			a := mustCreate[rec](b, filepath.Join(dir, "array.npy"))
			per := seg / recSize
			// The log's first segment full; the array synced at that
			// point (none yet).
			appendLog(b, l, 0, per)
			var rolls, syncs []time.Duration
			roll := func() {
				end := l.End()
				start := time.Now()
				if err := l.Append(logRec(end)); err != nil { // it rolls
					b.Fatal(err)
				}
				rolls = append(rolls, time.Since(start))
				appendLog(b, l, end+1, end+per)
			}
			sync := func() {
				for j := range per {
					if err := a.Append(logRec(int64(a.Len()) + j)); err != nil {
						b.Fatal(err)
					}
				}
				start := time.Now()
				if err := a.Sync(); err != nil {
					b.Fatal(err)
				}
				syncs = append(syncs, time.Since(start))
			}
			for b.Loop() {
				for range logRounds {
					abba(roll, sync)
				}
			}
			if got := l.End() / per; got != int64(len(rolls))+1 {
				b.Fatalf("%d segments; want %d", got, len(rolls)+1)
			}
			rollP50 := reportQuantiles(b, "roll", rolls)
			syncP50 := reportQuantiles(b, "sync", syncs)
			b.ReportMetric(rollP50/syncP50, "roll/sync-p50")
		})
	}
}

// BenchmarkLogDrop measures DropBefore of the oldest segment on the disk,
// with segments of 1 MiB (drop-p50-µs, drop-p99-µs), against its floor,
// what a drop must do and nothing else: writing 24 bytes over a small
// file, waiting for them with fsync (a durable First), and removing a
// file of 1 MiB, written and synced logDropKept floors before (floor-…).
// Before each of the two the writer appends a segment's worth of records,
// rolling once: the log keeps logDropKept segments, and one more for each
// floor. The drop and the floor take turns (ABBA), logRounds times an
// iteration. It reports drop/floor, of the p50s.
func BenchmarkLogDrop(b *testing.B) {
	const seg = 1 << 20
	const logDropKept = 4
	dir := tempDir(b)
	l := openBenchLog(b, filepath.Join(dir, "log"), WithSegmentBytes(seg))
	f := openFile(b, filepath.Join(dir, "floor.meta"), os.O_RDWR|os.O_CREATE)
	word := make([]byte, logMetaSize)
	if _, err := f.WriteAt(word, 0); err != nil {
		b.Fatal(err)
	}
	// The floor's segments: files of seg bytes, written and synced.
	var floorSegs []string
	b.Cleanup(func() {
		for _, path := range floorSegs {
			os.Remove(path)
		}
	})
	zeros := make([]byte, seg)
	newFloorSeg := func() {
		path := filepath.Join(dir, fmt.Sprintf("floor%d", len(floorSegs)))
		g, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := g.Write(zeros); err != nil {
			b.Fatal(err)
		}
		if err := errors.Join(g.Sync(), g.Close()); err != nil {
			b.Fatal(err)
		}
		floorSegs = append(floorSegs, path)
	}
	per := int64(seg / recSize)
	appendLog(b, l, 0, logDropKept*per)
	for range logDropKept {
		newFloorSeg()
	}
	var drops, floors []time.Duration
	// Each of the two follows a segment's worth of Appends, the newest
	// segment's pages not yet synced, which the file system may write out
	// with any fsync.
	drop := func() {
		appendLog(b, l, l.End(), l.End()+per)
		start := time.Now()
		if err := l.DropBefore(l.First() + per); err != nil {
			b.Fatal(err)
		}
		drops = append(drops, time.Since(start))
	}
	floor := func() {
		newFloorSeg()
		appendLog(b, l, l.End(), l.End()+per)
		word[8]++
		start := time.Now()
		if _, err := f.WriteAt(word, 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(floorSegs[len(floors)]); err != nil {
			b.Fatal(err)
		}
		floors = append(floors, time.Since(start))
	}
	for b.Loop() {
		for range logRounds {
			abba(drop, floor)
		}
	}
	if got := (l.End() - l.First()) / per; got != logDropKept+int64(len(floors)) {
		b.Fatalf("%d segments kept; want %d", got, logDropKept+len(floors))
	}
	dropP50 := reportQuantiles(b, "drop", drops)
	floorP50 := reportQuantiles(b, "floor", floors)
	b.ReportMetric(dropP50/floorP50, "drop/floor-p50")
}

// A writer of BenchmarkLogFollowLatency appends logFollowRate records a
// second, rolling every logFollowSegment records (50 rolls a second), for
// latencyWarmUp, which does not count, then for logFollowTime: 200 rolls.
const (
	logFollowRate    = 20_000
	logFollowSegment = 400
	logFollowTime    = 4 * time.Second
)

// BenchmarkLogFollowLatency measures how soon a reader in another process
// that follows a Log (Follow) sees a record that opens a segment, against
// one inside a segment. The writer appends stamped records at
// logFollowRate, paced as BenchmarkPublishLatency's, with WithAutoPublish,
// rolling every logFollowSegment records; the reader sleeps in Wait, as a
// log's reader does unless told to spin (a spinning reader and a writer
// that busy-waits for each record's turn would take both cores of the
// 2-core machine the README's tables come from). It runs on the disk and
// in memory (benchFileSystems), and reports p50 and p99, in µs, of the
// time from a record's timestamp to the reader seeing it: for the records
// that open a segment (first-…) and the others (inside-…); and it splits
// the first's into the writer's part, from its timestamp until its Append,
// which rolls, returns (first-writer-…), and the reader's, from then until
// it sees it (first-reader-…, which may be below 0: the Append wakes the
// reader before it returns), the part that compares with inside-…. Linux
// only (sharedClock).
func BenchmarkLogFollowLatency(b *testing.B) {
	if !sharedClock {
		b.Skip("needs a clock that processes share; read on Linux only")
	}
	for _, fsys := range benchFileSystems() {
		b.Run("fs="+fsys.name, func(b *testing.B) {
			warm := int(logFollowRate * latencyWarmUp.Seconds())
			n := warm + int(logFollowRate*logFollowTime.Seconds())
			dir := filepath.Join(tempDirIn(b, fsys.parent), "log")
			var first, firstWriter, firstReader, inside []time.Duration
			for b.Loop() {
				total, writer := logFollowRun(b, dir, n)
				for i := warm; i < n; i++ {
					if i%logFollowSegment == 0 {
						first = append(first, total[i])
						firstWriter = append(firstWriter, writer[i])
						firstReader = append(firstReader, total[i]-writer[i])
					} else {
						inside = append(inside, total[i])
					}
				}
			}
			reportQuantiles(b, "first", first)
			reportQuantiles(b, "first-writer", firstWriter)
			reportQuantiles(b, "first-reader", firstReader)
			reportQuantiles(b, "inside", inside)
		})
	}
}

// logFollowRun makes a log in dir, starts a log-stamp-reader on it,
// appends n stamped records at logFollowRate, rolling every
// logFollowSegment, closes the log and removes it. It returns each
// record's latency as the reader saw it, and the time its Append took.
func logFollowRun(b *testing.B, dir string, n int) (total, writer []time.Duration) {
	w, err := OpenLog[stamped](dir, RDWR, WithSegmentRecords(logFollowSegment), WithAutoPublish())
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cmd, stdin, stdout := startWith(b, "log-stamp-reader", dir, n)
	writer = make([]time.Duration, n)
	pace(logFollowRate, n, func(i int, now int64) {
		if err := w.Append(stamped{I: uint64(i), Mono: now}); err != nil {
			b.Fatal(err)
		}
		writer[i] = time.Duration(monotonic() - now)
	})
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	total = make([]time.Duration, n)
	for i, lat := range readLatencies(b, cmd, stdin, stdout, n) {
		total[i] = time.Duration(lat)
	}
	return total, writer
}

// logStampReader follows the log of stamped records in dir, its
// parameter the number of records, and takes the time it sees each
// record. When the writer closes the log, it writes each record's
// latency, from the time the writer put in it to the time it saw it, to
// stdout (writeLatencies).
func logStampReader(dir string) error {
	var n int
	if _, err := childParams(&n); err != nil {
		return err
	}
	l, err := OpenLog[stamped](dir, RDONLY)
	if err != nil {
		return err
	}
	defer l.Close()
	return followStamps(n, func(ctx context.Context) iter.Seq2[stamped, error] { return l.Follow(ctx, 0) })
}
