package mmap

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// How a log's writer drops its oldest segments, and trims the segments it
// rolled past, while readers have them (FORMAT.md, "Logs", "Dropping").

// choresEvery is how often Publish trims the segments rolled past and
// removes the dropped ones that readers held, while some are left.
const choresEvery = 100 * time.Millisecond

// DropBefore drops the segments whose records all lie below index i: after
// it, First is the first index of the segment that holds record i (or of
// the newest segment, which is never dropped), and readers that ask for a
// lower index get an [IndexError]. The new First is durable when it
// returns. Readers never hold it up: on Unix the files go at once, and a
// reader reading one reads on to its end; on Windows a file that a reader
// has open stays until the reader leaves it, and the writer removes it at
// its next Publish, Sync, roll, drop or Close.
func (l *Log[T]) DropBefore(i int64) error {
	if err := l.usable(true); err != nil {
		return err
	}
	if err := l.collect(true); err != nil {
		return wrapErr("drop", l.dir, err)
	}
	firsts := make([]int64, len(l.segs))
	for j, s := range l.segs {
		firsts[j] = s.first
	}
	to := kept(firsts, i)[0]
	if to <= l.w.dropTo {
		return nil
	}
	if err := l.writeState(to, false); err != nil {
		return wrapErr("drop", l.dir, err)
	}
	if err := l.meta.Sync(); err != nil {
		return wrapErr("drop", l.dir, err)
	}
	l.w.dropTo = to
	l.first.Store(to)
	return wrapErr("drop", l.dir, l.chores())
}

// KeepNewest drops the oldest segments while the rest hold n records or
// more: at least the newest n records stay (more, up to a segment's).
func (l *Log[T]) KeepNewest(n int64) error {
	if n < 0 {
		return wrapErr("drop", l.dir, errorf(ErrInvalid, "KeepNewest of a negative count %d", n))
	}
	return l.DropBefore(l.End() - n)
}

// KeepNewestBytes drops the oldest segments while the rest hold n bytes
// of records or more.
func (l *Log[T]) KeepNewestBytes(n int64) error {
	if n < 0 {
		return wrapErr("drop", l.dir, errorf(ErrInvalid, "KeepNewestBytes of a negative size %d", n))
	}
	return l.KeepNewest((n + int64(l.size) - 1) / int64(l.size))
}

// chores removes the dropped segments, oldest first, up to one that a
// reader holds (Windows), and trims the segments rolled past that no
// reader has open.
func (l *Log[T]) chores() error {
	l.w.choresAt = time.Now()
	if err := l.collect(false); err != nil {
		return err
	}
	for len(l.segs) > 1 && l.segs[0].first < l.w.dropTo {
		first := l.segs[0].first
		if err := l.remove(first); err != nil {
			if removalHeld(err) {
				break
			}
			return err
		}
		l.mu.Lock()
		l.segs = l.segs[1:]
		l.mu.Unlock()
	}
	keep := l.w.untrimmed[:0]
	for _, first := range l.w.untrimmed {
		if first < l.segs[0].first {
			continue // removed
		}
		done, err := l.trim(first)
		if err != nil {
			return err
		}
		if !done {
			keep = append(keep, first)
		}
	}
	l.w.untrimmed = keep
	return nil
}

// remove removes the segment that starts at first, and its sidecar if it
// has one and no reader holds it.
func (l *Log[T]) remove(first int64) error {
	path := l.segPath(first)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// The sidecar of a segment that was not trimmed. On Windows, a reader
	// may hold it still; the next writer's open removes it then (tidy).
	os.Remove(path + ".meta")
	return nil
}

// hasSidecar reports whether the segment that starts at first has a
// sidecar: a writer has it open, or it was closed while readers had it
// and so not trimmed.
func (l *Log[T]) hasSidecar(first int64) bool {
	_, err := os.Lstat(l.segPath(first) + ".meta")
	return err == nil
}

// trim cuts the segment that starts at first, rolled past, to its last
// record and removes its sidecar, if no reader has it open, by opening it
// as its writer and closing it (Array.Close); it reports whether the
// segment is trimmed.
func (l *Log[T]) trim(first int64) (bool, error) {
	path := l.segPath(first)
	if held, err := readersHold(path); err != nil || held {
		return false, err
	}
	a, err := Open[T](path, RDWR)
	if err != nil {
		return false, err
	}
	if err := a.Close(); err != nil {
		return false, err
	}
	return !l.hasSidecar(first), nil
}

// readersHold reports whether readers have the array file at path open:
// whether its readers' shared lock is held.
func readersHold(path string) (bool, error) {
	f, err := openRegular(path, os.O_RDONLY)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return lockHeld(f, true)
}
