package mmap

import (
	"context"
	"errors"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// What a drop or a roll does to a segment that a reader is reading, on
// each OS. On Unix a dropped segment's file goes at once, and a reader
// reads on in its mapping. On Windows a file that a process has open
// cannot be removed: the file stays while a reader has it, and the
// writer's next Sync, or Publish once choresEvery has passed since it
// last tried, removes it after the reader has left it. First moves at the
// drop on both. A segment rolled past while a reader has it open keeps
// its sidecar and spare room, on both, until the writer's next Sync after
// the reader has left it.

// segmentThere reports whether the segment of dir that starts at first,
// and its sidecar, are there.
func segmentThere(t *testing.T, dir string, first int64) (npy, sidecar bool) {
	t.Helper()
	there := func(path string) bool {
		_, err := os.Lstat(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil
	}
	path := segPathIn(dir, first)
	return there(path), there(path + arrayfile.Suffix)
}

// segPathIn is the path of the segment of dir that starts at first.
func segPathIn(dir string, first int64) string { return filepath.Join(dir, segmentName(first)) }

// wantSegment checks whether the segment of dir that starts at first is
// there, with its sidecar.
func wantSegment(t *testing.T, dir string, first int64, npy, sidecar bool, when string) {
	t.Helper()
	gotNpy, gotSidecar := segmentThere(t, dir, first)
	if gotNpy != npy || gotSidecar != sidecar {
		t.Errorf("%s: segment %d there %v, its sidecar %v; want %v, %v", when, first, gotNpy, gotSidecar, npy, sidecar)
	}
}

// wantIndexError checks that err is an IndexError naming First first.
func wantIndexError(t *testing.T, err error, first int64, what string) {
	t.Helper()
	var ie *IndexError
	if !errors.As(err, &ie) || ie.First != first {
		t.Errorf("%s: %v; want an IndexError naming First %d", what, err, first)
	}
}

// checkHeld checks, on Windows, that the segment's file cannot be removed
// while a reader has it, and that removalHeld knows the error that says
// so, which it logs (Wine's is ERROR_SHARING_VIOLATION, "Sharing
// violation.").
func checkHeld(t *testing.T, dir string, first int64) {
	t.Helper()
	err := os.Remove(segPathIn(dir, first))
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Fatalf("removing segment %d while a reader has it: %v; want it refused", first, err)
	}
	t.Logf("removing segment %d while a reader has it: %v (%#v)", first, err, pe.Err)
	if !removalHeld(err) {
		t.Errorf("removing segment %d while a reader has it: %v; want the error removalHeld knows", first, err)
	}
}

// TestLogDropUnderFollow drops the segment a Follow is reading, and the
// one after it: First moves at once, for the writer and the reader; the
// Follow reads on to its segment's end, then gets an IndexError naming
// First. On Unix both files are gone at the drop. On Windows the Follow's
// stays until the Follow has ended, and so does the next one, which no
// reader has open, since the writer removes dropped segments oldest first
// and stops at one held; the writer's next Publish once choresEvery has
// passed removes both.
func TestLogDropUnderFollow(t *testing.T) {
	windows := runtime.GOOS == "windows"
	dir, w, r := logPair(t, 25)
	next, stop := iter.Pull2(r.Follow(context.Background(), 3))
	defer stop()
	if got, err, _ := next(); err != nil || got != logRec(3) {
		t.Fatalf("Follow: %+v, %v", got, err)
	}

	if err := w.DropBefore(25); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if w.First() != 20 || r.First() != 20 {
		t.Errorf("after DropBefore(25) under a Follow: the writer's First %d, the reader's %d; want 20, at once", w.First(), r.First())
	}
	_, err := r.At(5)
	wantIndexError(t, err, 20, "At(5) in the dropped segment that a Follow reads")
	// Segments 0 and 10 were rolled past before the reader opened the log:
	// trimmed, no sidecar.
	wantSegment(t, dir, 0, windows, false, "after the drop, with the Follow in it")
	wantSegment(t, dir, 10, windows, false, "after the drop, behind the Follow's segment")
	if windows {
		checkHeld(t, dir, 0)
	}

	for i := int64(4); i < 10; i++ {
		if got, err, _ := next(); err != nil || got != logRec(i) {
			t.Fatalf("Follow inside the dropped segment, record %d: %+v, %v", i, got, err)
		}
	}
	_, err, _ = next()
	wantIndexError(t, err, 20, "Follow past the dropped segment")
	if err != nil && !strings.Contains(err.Error(), "below the log's first index 20") {
		t.Errorf("Follow past the dropped segment: %q does not name First", err)
	}
	// The Follow holds its segment until its loop ends, here at stop.
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	wantSegment(t, dir, 0, windows, false, "after a Sync, the Follow not yet ended")

	stop()
	wantSegment(t, dir, 0, windows, false, "the Follow ended, before the writer's next chores")
	time.Sleep(choresEvery)
	start := time.Now()
	if err := w.Publish(); err != nil {
		t.Fatal(err)
	}
	if windows {
		t.Logf("a Publish %v after the last chores removed the dropped segments in %v", choresEvery, time.Since(start))
	}
	if got := segmentFiles(t, dir); len(got) != 1 || got[0] != segmentName(20) {
		t.Errorf("the Follow ended, after a Publish once choresEvery had passed: segments %v, want only %s", got, segmentName(20))
	}
	wantSegment(t, dir, 0, false, false, "the Follow ended, after a Publish once choresEvery had passed")
}

// TestLogDropUnderChunks drops the segment whose records Chunks' loop
// body holds: the chunk stays readable to its end, and the loop goes on
// to the next segment. On Windows the file stays until the reader has
// closed the segment, at its next look (Refresh), and goes at the writer's
// next Sync.
func TestLogDropUnderChunks(t *testing.T) {
	windows := runtime.GOOS == "windows"
	dir, w, r := logPair(t, 35)

	var read []rec
	for chunk, err := range r.Chunks(10, 25) {
		if err != nil {
			t.Fatal(err)
		}
		if len(read) == 0 {
			if err := w.DropBefore(25); err != nil {
				t.Fatal(err)
			}
			wantSegment(t, dir, 10, windows, false, "after the drop, in Chunks' loop body")
			if windows {
				checkHeld(t, dir, 10)
			}
		}
		read = append(read, chunk...)
	}
	checkLogRecs(t, read, 10)
	if len(read) != 15 {
		t.Errorf("Chunks(10, 25) across a drop: %d records, want 15", len(read))
	}
	if w.First() != 20 {
		t.Errorf("after DropBefore(25): the writer's First %d, want 20", w.First())
	}
	// Segment 0, which no reader had open, went at the drop.
	wantSegment(t, dir, 0, false, false, "after the drop")

	// The reader keeps segment 10 open, idle, until it looks again.
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	wantSegment(t, dir, 10, windows, false, "after a Sync, before the reader looked again")
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if r.First() != 20 {
		t.Errorf("the reader's First after a Refresh: %d, want 20", r.First())
	}
	_, err := r.At(15)
	wantIndexError(t, err, 20, "At(15) after the drop")
	wantSegment(t, dir, 10, windows, false, "after the reader's Refresh, before the writer's Sync")
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	wantSegment(t, dir, 10, false, false, "after the reader's Refresh and the writer's Sync")
}

// TestLogTrimAfterReader rolls past segments that a reader has open: one
// a Follow reads, and the newest, which a reader keeps open. Each keeps
// its sidecar and spare room, even through a Sync, while the reader has
// it; once the reader has left it (the Follow moved on into the next
// segment; the reader closed), the writer's next Sync leaves an exact
// .npy: no sidecar, the header and the records.
func TestLogTrimAfterReader(t *testing.T) {
	dir, w, r := logPair(t, 5)
	next, stop := iter.Pull2(r.Follow(context.Background(), 0))
	defer stop()
	if got, err, _ := next(); err != nil || got != logRec(0) {
		t.Fatalf("Follow: %+v, %v", got, err)
	}

	appendLog(t, w, 5, 25) // rolls past 0 (the Follow's) and 10 (no reader's)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	wantSegment(t, dir, 0, true, true, "rolled past with a Follow in it, after a Sync")
	untrimmed := sizeAt(t, segPathIn(dir, 0))
	checkClosedFile(t, segPathIn(dir, 10), 10)

	// Into segment 10: the Follow closes segment 0, and looks, which opens
	// the newest, 20.
	for i := int64(1); i <= 10; i++ {
		if got, err, _ := next(); err != nil || got != logRec(i) {
			t.Fatalf("Follow, record %d: %+v, %v", i, got, err)
		}
	}
	wantSegment(t, dir, 0, true, true, "the Follow moved on, before the writer's Sync")
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	checkClosedFile(t, segPathIn(dir, 0), 10)
	if trimmed := sizeAt(t, segPathIn(dir, 0)); untrimmed <= trimmed {
		t.Errorf("segment 0 rolled past with a Follow in it: %d bytes, and %d once trimmed; want spare room cut", untrimmed, trimmed)
	}

	appendLog(t, w, 25, 35) // rolls past 20, the reader's newest
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	wantSegment(t, dir, 20, true, true, "rolled past while the reader had it open, after a Sync")
	stop()
	mustCloseLog(t, r)
	wantSegment(t, dir, 20, true, true, "the reader closed, before the writer's Sync")
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	// A roll made segment 20 its full size at once: its trim removes the
	// sidecar, and leaves no spare room.
	checkClosedFile(t, segPathIn(dir, 20), 10)
}

// sizeAt returns the size of the file at path.
func sizeAt(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
