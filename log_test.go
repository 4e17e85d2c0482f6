package mmap

import (
	"context"
	"errors"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// logRec is the record at index i of the logs the tests write.
func logRec(i int64) rec { return rec{I: uint64(i), Gen: uint32(i % 7), Sum: uint64(i) * 3} }

// appendLog appends the records [from, to) to w.
func appendLog(t testing.TB, w *Log[rec], from, to int64) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := w.Append(logRec(i)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

// segmentFiles returns the names of the segments in dir.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	firsts, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range firsts {
		names = append(names, segmentName(f))
	}
	return names
}

// checkLogRecs checks that recs are the records from index from on.
func checkLogRecs(t testing.TB, recs []rec, from int64) {
	t.Helper()
	for j, r := range recs {
		if want := logRec(from + int64(j)); r != want {
			t.Fatalf("record %d: %+v, want %+v", from+int64(j), r, want)
		}
	}
}

func mustCloseLog[T any](t testing.TB, l *Log[T]) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLogRolls appends across segments, and reads them back by index from
// a reader: the names, First and End, At, Read, Chunks, Search; then
// closes, leaving every segment an exact .npy.
func TestLogRolls(t *testing.T) {
	dir := filepath.Join(tempDir(t), "log")
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(10))
	if err != nil {
		t.Fatal(err)
	}
	appendLog(t, w, 0, 35)
	if w.First() != 0 || w.End() != 35 {
		t.Errorf("writer: First %d, End %d; want 0, 35", w.First(), w.End())
	}
	want := []string{"00000000000000000000.npy", "00000000000000000010.npy", "00000000000000000020.npy", "00000000000000000030.npy"}
	if got := segmentFiles(t, dir); !slices.Equal(got, want) {
		t.Errorf("segments %v, want %v", got, want)
	}
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	if r.First() != 0 || r.End() != 30 {
		t.Errorf("reader before Publish: First %d, End %d; want 0, 30 (the rolls synced)", r.First(), r.End())
	}
	if err := w.Publish(); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if r.End() != 35 {
		t.Errorf("reader after Publish: End %d, want 35", r.End())
	}
	for _, i := range []int64{0, 9, 10, 29, 34} {
		got, err := r.At(i)
		if err != nil || got != logRec(i) {
			t.Errorf("At(%d) = %+v, %v; want %+v", i, got, err, logRec(i))
		}
	}
	recs, err := r.Read(5, 33)
	if err != nil || len(recs) != 28 {
		t.Fatalf("Read(5, 33): %d records, %v", len(recs), err)
	}
	checkLogRecs(t, recs, 5)
	var sizes []int
	for chunk, err := range r.Chunks(5, 25) {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(chunk))
	}
	if !slices.Equal(sizes, []int{5, 10, 5}) {
		t.Errorf("Chunks(5, 25) in pieces of %v, want [5 10 5]", sizes)
	}
	for _, c := range []struct {
		sum   uint64
		index int64
		found bool
	}{{0, 0, true}, {30, 10, true}, {31, 11, false}, {102, 34, true}, {200, 35, false}} {
		i, found, err := r.Search(func(x rec) int { return cmpInt64(int64(x.Sum), int64(c.sum)) })
		if err != nil || i != c.index || found != c.found {
			t.Errorf("Search for Sum %d: %d, %v, %v; want %d, %v", c.sum, i, found, err, c.index, c.found)
		}
	}
	for _, i := range []int64{-1, 35, 100} {
		var ie *IndexError
		if _, err := r.At(i); !errors.As(err, &ie) || !errors.Is(err, ErrRange) || ie.First != 0 || ie.End != 35 {
			t.Errorf("At(%d): %v; want an IndexError for [0, 35)", i, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	mustCloseLog(t, w)
	if w.First() != 0 || w.End() != 35 {
		t.Errorf("writer after Close: First %d, End %d; want 0, 35", w.First(), w.End())
	}
	if err := w.Append(rec{}); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Append after Close: %v; want fs.ErrClosed", err)
	}
	for j, name := range want {
		checkClosedFile(t, filepath.Join(dir, name), min(10, 35-10*j))
	}
	// A writer that opens the log again goes on in the newest segment.
	w, err = OpenLog[rec](dir, RDWR, WithSegmentRecords(10))
	if err != nil {
		t.Fatal(err)
	}
	appendLog(t, w, 35, 41)
	mustCloseLog(t, w)
	r, err = OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	recs, err = r.Read(0, 41)
	if err != nil || r.End() != 41 {
		t.Fatalf("Read after a second writer: %v, End %d", err, r.End())
	}
	checkLogRecs(t, recs, 0)
	if got := segmentFiles(t, dir); len(got) != 5 {
		t.Errorf("segments %v, want 5", got)
	}
	mustCloseLog(t, r)
}

// logPair makes a log in a new directory, in segments of 10 records,
// appends the records [0, n) and publishes each, and opens a reader of it;
// both are closed when the test ends, unless it closed them.
func logPair(t *testing.T, n int64) (dir string, w, r *Log[rec]) {
	t.Helper()
	dir = tempDir(t)
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(10), WithAutoPublish())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeLogOnce(t, w) })
	appendLog(t, w, 0, n)
	if r, err = OpenLog[rec](dir, RDONLY); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeLogOnce(t, r) })
	return dir, w, r
}

// closeLogOnce closes l unless it is closed already.
func closeLogOnce[T any](t testing.TB, l *Log[T]) {
	if err := l.Close(); err != nil && !errors.Is(err, fs.ErrClosed) {
		t.Error(err)
	}
}

// TestLogRetention drops segments below an index, and keeps the newest
// records or bytes: First moves to a segment's first index, never past
// the newest segment's, and a reader gets an IndexError naming it below.
// (TestLogDropUnderFollow has a Follow in a dropped segment.)
func TestLogRetention(t *testing.T) {
	dir, w, r := logPair(t, 45)
	if err := w.DropBefore(25); err != nil {
		t.Fatal(err)
	}
	if w.First() != 20 {
		t.Errorf("after DropBefore(25): First %d, want 20", w.First())
	}
	if got := segmentFiles(t, dir); got[0] != segmentName(20) {
		t.Errorf("after DropBefore(25): segments %v", got)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	var ie *IndexError
	if _, err := r.At(15); !errors.As(err, &ie) || ie.First != 20 {
		t.Errorf("At(15) after the drop: %v; want an IndexError naming First 20", err)
	}
	recs, err := r.Read(20, 45)
	if err != nil {
		t.Fatal(err)
	}
	checkLogRecs(t, recs, 20)
	// The newest segment is never dropped.
	if err := w.DropBefore(1000); err != nil || w.First() != 40 {
		t.Errorf("DropBefore(1000): %v, First %d; want 40", err, w.First())
	}
	appendLog(t, w, 45, 75)
	if err := w.KeepNewest(15); err != nil || w.First() != 60 {
		t.Errorf("KeepNewest(15) of [40, 75): %v, First %d; want 60", err, w.First())
	}
	appendLog(t, w, 75, 95)
	if err := w.KeepNewestBytes(24*25 + 1); err != nil || w.First() != 60 {
		t.Errorf("KeepNewestBytes(25 records and a byte) of [60, 95): %v, First %d; want 60", err, w.First())
	}
	if err := w.KeepNewestBytes(24 * 25); err != nil || w.First() != 70 {
		t.Errorf("KeepNewestBytes(25 records) of [60, 95): %v, First %d; want 70", err, w.First())
	}
	if err := w.KeepNewest(-1); !errors.Is(err, ErrInvalid) {
		t.Errorf("KeepNewest(-1): %v; want ErrInvalid", err)
	}
	if err := w.KeepNewestBytes(-1); !errors.Is(err, ErrInvalid) {
		t.Errorf("KeepNewestBytes(-1): %v; want ErrInvalid", err)
	}
}

// TestLogFollow follows a writer across rolls and drops, to the end of the
// stream, which the writer's Close marks.
func TestLogFollow(t *testing.T) {
	dir := tempDir(t)
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(100))
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, r)
	const n = 5000
	done := make(chan error)
	go func() {
		i := int64(0)
		for got, err := range r.Follow(context.Background(), 0) {
			if err != nil {
				done <- err
				return
			}
			if got != logRec(i) {
				done <- errors.New("record out of order")
				return
			}
			i++
		}
		if i != n {
			done <- errors.New("Follow ended early")
			return
		}
		done <- nil
	}()
	for i := int64(0); i < n; i++ {
		appendLog(t, w, i, i+1)
		if i%37 == 0 {
			if err := w.Publish(); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustCloseLog(t, w)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Follow did not end after the writer closed the log")
	}
	if err := r.Wait(context.Background(), n+1); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Wait past the end of a closed log: %v; want ErrWriterClosed", err)
	}
}

// TestLogRefusals: a second writer, a bad prot, options of the other
// role, a reader asked to write and a writer asked to read, a log.meta
// that is a link, a directory that is not there.
func TestLogRefusals(t *testing.T) {
	dir := tempDir(t)
	w, err := OpenLog[rec](dir, RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, w)
	if _, err := OpenLog[rec](dir, RDWR); !errors.Is(err, ErrLocked) {
		t.Errorf("a second writer: %v; want ErrLocked", err)
	}
	for _, c := range []struct {
		name string
		err  error
		is   error
	}{
		{"prot COPY", func() error { _, err := OpenLog[rec](dir, COPY); return err }(), ErrInvalid},
		{"WithSpin for a writer", func() error { _, err := OpenLog[rec](dir, RDWR, WithSpin(1)); return err }(), ErrInvalid},
		{"WithSegmentRecords for a reader", func() error { _, err := OpenLog[rec](dir, RDONLY, WithSegmentRecords(5)); return err }(), ErrInvalid},
		{"WithSegmentBytes for an Array", func() error {
			_, err := Open[rec](filepath.Join(dir, segmentName(0)), RDONLY, WithSegmentBytes(5))
			return err
		}(), ErrInvalid},
		{"negative records per segment", func() error { _, err := OpenLog[rec](tempDir(t), RDWR, WithSegmentRecords(-1)); return err }(), ErrInvalid},
		{"negative bytes per segment", func() error { _, err := OpenLog[rec](tempDir(t), RDWR, WithSegmentBytes(-1)); return err }(), ErrInvalid},
		{"a directory that is not there", func() error { _, err := OpenLog[rec](filepath.Join(dir, "nothing"), RDONLY); return err }(), fs.ErrNotExist},
		{"a file, not a directory", func() error {
			_, err := OpenLog[rec](filepath.Join(dir, segmentName(0)), RDONLY)
			return err
		}(), ErrInvalid},
		{"a log of another type", func() error { _, err := OpenLog[uint64](dir, RDONLY); return err }(), ErrType},
		{"the writer reads", func() error { _, err := w.At(0); return err }(), ErrInvalid},
		{"the writer waits", w.Wait(context.Background(), 1), ErrInvalid},
	} {
		if !errors.Is(c.err, c.is) {
			t.Errorf("%s: %v; want %v", c.name, c.err, c.is)
		}
	}
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"a reader appends", r.Append(rec{})},
		{"a reader syncs", r.Sync()},
		{"a reader publishes", r.Publish()},
		{"a reader drops", r.DropBefore(0)},
	} {
		if !errors.Is(c.err, ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", c.name, c.err)
		}
	}
	mustCloseLog(t, r)
	if err := r.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("a second Close: %v; want fs.ErrClosed", err)
	}
	if _, err := r.At(0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("At after Close: %v; want fs.ErrClosed", err)
	}
}

// TestLogPlanted: a writer refuses what someone with write access to the
// directory could have planted to make it write another file: a log.meta
// that is a link or belongs to another user, a segment that is a symbolic
// link, a newest segment with a second name.
func TestLogPlanted(t *testing.T) {
	victim := filepath.Join(tempDir(t), "victim.npy")
	writeArray(t, victim, 3)
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, dir string)
	}{
		{"log.meta, a symbolic link", func(t *testing.T, dir string) { symlink(t, victim, filepath.Join(dir, logMetaName)) }},
		{"a segment, a symbolic link", func(t *testing.T, dir string) { symlink(t, victim, filepath.Join(dir, segmentName(0))) }},
		{"the newest segment, a hard link", func(t *testing.T, dir string) { hardLink(t, victim, filepath.Join(dir, segmentName(0))) }},
		{"log.meta of another user", func(t *testing.T, dir string) {
			path := filepath.Join(dir, logMetaName)
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if os.Getuid() != 0 {
				t.Skip("only root can give a file to another user")
			}
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := tempDir(t)
			c.plant(t, dir)
			if l, err := OpenLog[rec](dir, RDWR); !errors.Is(err, ErrInvalid) {
				t.Errorf("OpenLog: %v; want ErrInvalid", err)
				if err == nil {
					mustCloseLog(t, l)
				}
			}
			checkClosedFile(t, victim, 3)
		})
	}
}

// TestLogReaderEdges: a reader of a directory no writer has made a log
// in yet, waiting for the first writer, and closed under a Follow.
func TestLogReaderEdges(t *testing.T) {
	dir := tempDir(t)
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { mustCloseLog(t, r) }()
	if r.First() != 0 || r.End() != 0 {
		t.Errorf("an empty directory: First %d, End %d; want 0, 0", r.First(), r.End())
	}
	ctx := context.Background()
	if err := r.Wait(ctx, 1); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Wait with no writer yet: %v; want ErrWriterClosed", err)
	}
	for x, err := range r.Follow(ctx, 0) {
		t.Errorf("Follow with no writer yet yielded %+v, %v", x, err)
	}
	if i, found, err := r.Search(func(rec) int { return 0 }); i != 0 || found || err != nil {
		t.Errorf("Search of an empty log: %d, %v, %v; want 0, false, nil", i, found, err)
	}
	if recs, err := r.Read(0, 0); len(recs) != 0 || err != nil {
		t.Errorf("Read(0, 0): %v, %v", recs, err)
	}
	if _, err := r.Read(3, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("Read(3, 1): %v; want ErrInvalid", err)
	}
	if _, err := r.At(0); !errors.Is(err, ErrRange) {
		t.Errorf("At(0) of an empty log: %v; want ErrRange", err)
	}

	came := make(chan error)
	go func() { came <- r.WaitWriter(ctx) }()
	w, err := OpenLog[rec](dir, RDWR, WithAutoPublish())
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, w)
	if err := <-came; err != nil {
		t.Fatalf("WaitWriter: %v", err)
	}
	appendLog(t, w, 0, 3)
	got := make(chan error)
	go func() {
		n := int64(0)
		for x, err := range r.Follow(ctx, 0) {
			if err != nil {
				got <- err
				return
			}
			if x != logRec(n) {
				got <- errors.New("a wrong record")
				return
			}
			n++
		}
		got <- errors.New("Follow ended")
	}()
	if err := r.Wait(ctx, 3); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the Follow waits for record 3
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Follow when the reader closes: %v; want fs.ErrClosed", err)
	}
	r, err = OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
}

// TestLogFollowLists: a follower lists the log's directory once for each
// segment the writer rolls to while it waits, none for the segments it
// listed already and reads on into, and again when a drop has moved
// First, which it then names.
func TestLogFollowLists(t *testing.T) {
	_, w, r := logPair(t, 50)
	lists := 0
	defer func(old func(string) ([]os.DirEntry, error)) { readDir = old }(readDir)
	readDir = func(dir string) ([]os.DirEntry, error) {
		lists++
		return os.ReadDir(dir)
	}
	next, stop := iter.Pull2(r.Follow(context.Background(), 0))
	defer stop()
	pull := func(from, to int64) {
		t.Helper()
		for i := from; i < to; i++ {
			if got, err, _ := next(); err != nil || got != logRec(i) {
				t.Fatalf("Follow, record %d: %+v, %v", i, got, err)
			}
		}
	}
	pull(0, 50)
	if lists != 0 {
		t.Errorf("reading on into 4 segments listed at open: %d listings; want none", lists)
	}
	lists = 0
	for i := int64(50); i < 100; i++ {
		appendLog(t, w, i, i+1)
		pull(i, i+1)
	}
	if lists != 5 {
		t.Errorf("following the writer across 5 rolls: %d listings; want 5", lists)
	}
	appendLog(t, w, 100, 130)
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	lists = 0
	pull(100, 110)
	if err := w.DropBefore(125); err != nil {
		t.Fatal(err)
	}
	var ie *IndexError
	if _, err, _ := next(); !errors.As(err, &ie) || ie.First != 120 {
		t.Errorf("Follow into a dropped segment: %v; want an IndexError naming First 120", err)
	}
	if lists != 1 {
		t.Errorf("reading on into a segment after a drop: %d listings; want 1", lists)
	}
}

// TestLogReopenOtherSize reopens a log with smaller segments than it was
// written with: the newest segment already holds more records than the
// new size, so the next Append rolls at once, to a segment named by where
// the records end, not where the spare made ahead for the new size would
// start; no spare is left once the log is closed.
func TestLogReopenOtherSize(t *testing.T) {
	dir := tempDir(t)
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(10))
	if err != nil {
		t.Fatal(err)
	}
	appendLog(t, w, 0, 15)
	mustCloseLog(t, w)
	if w, err = OpenLog[rec](dir, RDWR, WithSegmentRecords(3)); err != nil {
		t.Fatal(err)
	}
	appendLog(t, w, 15, 20)
	mustCloseLog(t, w)
	checkClosedLog(t, dir, []int64{0, 10, 15, 18}, 20)
}

// checkClosedLog checks that dir holds a closed log of the records [0, n)
// in segments that start at firsts, and nothing else but log.meta (no
// spare left), as a reader reads it.
func checkClosedLog(t *testing.T, dir string, firsts []int64, n int64) {
	t.Helper()
	want := []string{logMetaName}
	for _, f := range firsts {
		want = append(want, segmentName(f))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the log's directory holds %v; want %v", got, want)
	}
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, r)
	recs, err := r.Read(0, r.End())
	if err != nil || int64(len(recs)) != n {
		t.Fatalf("Read: %d records, %v; want %d", len(recs), err, n)
	}
	checkLogRecs(t, recs, 0)
}

// TestLogSpareRefused blocks the next segment's temporary name with a
// directory that cannot be removed. The roll that needs that segment
// fails, saying so, and leaves the log as it was; the roll's goroutine,
// which makes the spare after it, leaves it to the next roll, which
// reports why it cannot be made. Once the name is free the log goes on,
// every record in place.
func TestLogSpareRefused(t *testing.T) {
	dir, outside := filepath.Join(tempDir(t), "log"), tempDir(t)
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(10))
	if err != nil {
		t.Fatal(err)
	}
	defer closeLogOnce(t, w)
	block := func(first int64) string {
		tmp := filepath.Join(dir, segmentName(first)+".tmp")
		if err := os.Mkdir(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "x"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return tmp
	}
	refused := func(i int64) {
		t.Helper()
		if err := w.Append(logRec(i)); err == nil || !strings.Contains(err.Error(), segmentName(i)+".tmp") {
			t.Fatalf("Append of record %d with the next segment's name blocked: %v; want an error naming it", i, err)
		}
		if w.End() != i {
			t.Fatalf("End %d after the failed roll; want %d", w.End(), i)
		}
	}
	// Moved out of the log's directory to free the name (Wine fails to
	// remove what is in it after the writer failed to remove it).
	free := func(tmp string) {
		if err := os.Rename(tmp, filepath.Join(outside, filepath.Base(tmp))); err != nil {
			t.Fatal(err)
		}
	}
	b10, b20 := block(10), block(20)
	appendLog(t, w, 0, 10)
	refused(10)
	free(b10)
	appendLog(t, w, 10, 20)
	refused(20)
	free(b20)
	appendLog(t, w, 20, 25)
	mustCloseLog(t, w)
	checkClosedLog(t, dir, []int64{0, 10, 20}, 25)
}
