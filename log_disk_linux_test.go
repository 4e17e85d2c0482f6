package mmap

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLogDiskFull appends to a log on a 1 MiB file system until it is
// full: Append fails with ENOSPC, in a roll or in a segment, never faults,
// and every record appended before stays; dropping old segments makes
// room, and the log goes on, with no gap.
func TestLogDiskFull(t *testing.T) {
	dir := filepath.Join(smallFilesystem(t, "size=1m"), "log")
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(2000))
	if err != nil {
		t.Fatal(err)
	}
	fill := func() int64 {
		t.Helper()
		for i := w.End(); ; i++ {
			err := w.Append(mkrec(uint64(i), 0))
			if errors.Is(err, syscall.ENOSPC) {
				return i
			}
			if err != nil {
				t.Fatalf("Append %d on a full disk: %v; want an error wrapping ENOSPC", i, err)
			}
			if i > 1<<20 {
				t.Fatal("1 MiB never filled")
			}
		}
	}
	full := fill()
	if w.End() != full {
		t.Fatalf("after the failed Append, End %d; want %d", w.End(), full)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync on a full disk: %v", err)
	}
	if err := w.KeepNewest(full / 2); err != nil {
		t.Fatal(err)
	}
	full = fill() // the room the drop made, filled
	if err := w.KeepNewest(4000); err != nil {
		t.Fatal(err)
	}
	for i := w.End(); i < full+3000; i++ { // a roll or two again
		if err := w.Append(mkrec(uint64(i), 0)); err != nil {
			t.Fatalf("Append %d after the drop made room: %v", i, err)
		}
	}
	mustCloseLog(t, w)
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, r)
	if r.End() != full+3000 {
		t.Errorf("reopened: End %d; want %d", r.End(), full+3000)
	}
	checkLogFiles(t, dir, r)
}
