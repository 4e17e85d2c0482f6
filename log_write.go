package mmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/typedmmap/mmap/internal/fileid"
)

// How a log's writer works (FORMAT.md, "Logs"): its lock, what it finishes
// of a writer that crashed, and appends that roll to new segments.

// openWriter takes the log's lock, finishes what a writer that crashed
// left undone (a roll, a drop, a trim), and opens the newest segment.
func (l *Log[T]) openWriter(o options) error {
	l.w.perm = o.perm
	if o.autoPublish {
		l.w.opts = []Option{WithAutoPublish()}
	}
	l.w.perRecords = perSegment(o, l.size)
	if err := makeDir(l.dir); err != nil {
		return err
	}
	created, err := l.lockLog()
	if err != nil {
		return err
	}
	dropTo, _, _ := readLogState(l.meta)
	firsts, err := l.tidy()
	if err != nil {
		return err
	}
	if created {
		// log.meta's name must be durable before a drop relies on it.
		if err := syncDir(l.dir); err != nil {
			return err
		}
	}
	if len(firsts) == 0 {
		firsts = []int64{dropTo}
		if err := l.makeSegment(dropTo); err != nil {
			return err
		}
	}
	l.w.dropTo = kept(firsts, dropTo)[0]
	for _, first := range firsts {
		l.segs = append(l.segs, &segment[T]{first: first})
		if first >= l.w.dropTo && first != firsts[len(firsts)-1] && l.hasSidecar(first) {
			l.w.untrimmed = append(l.w.untrimmed, first)
		}
	}
	newest := firsts[len(firsts)-1]
	if err := oneName(l.segPath(newest)); err != nil {
		return err
	}
	if l.w.cur, err = Open[T](l.segPath(newest), RDWR, l.w.opts...); err != nil {
		return err
	}
	l.w.curFirst = newest
	l.first.Store(l.w.dropTo)
	if err := l.writeState(l.w.dropTo, false); err != nil {
		return err
	}
	return l.chores()
}

// oneName refuses the segment at path if it has a second name (a hard
// link): the writer would write another file through it.
func oneName(path string) error {
	f, err := openRegular(path, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	id, err := fileid.Stat(f)
	if err != nil {
		return err
	}
	if id.Links != 1 {
		return errorf(ErrInvalid, "segment %s has %d names (hard links): the writer would write another file through it; a log's segments have one name", filepath.Base(path), id.Links)
	}
	return nil
}

// perSegment is how many records a segment holds, by the options o, for
// records of size bytes: at least one.
func perSegment(o options, size int) int {
	n := o.segmentRecords
	bytes := o.segmentBytes
	if n == 0 && bytes == 0 {
		bytes = defaultSegmentBytes
	}
	if bytes > 0 {
		byBytes := int(min(max(bytes/int64(size), 1), int64(maxInt)))
		if n == 0 || byBytes < n {
			n = byBytes
		}
	}
	return n
}

// makeDir makes the directory dir, if it is not there, and makes its name
// durable: synced records in it must not vanish with it in a power cut.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

// lockLog opens log.meta, or creates it (created), refusing one that
// someone else could have planted (fileid.Trust), and takes the writer's
// lock on it.
func (l *Log[T]) lockLog() (created bool, err error) {
	path := filepath.Join(l.dir, logMetaName)
	f, err := fileid.OpenNoFollow(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, l.w.perm)
	created = err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = fileid.OpenNoFollow(path, os.O_RDWR, 0)
	}
	if errors.Is(err, fileid.ErrNotRegular) {
		return false, errorf(ErrInvalid, "%s: %v", logMetaName, err)
	}
	if err != nil {
		return false, err
	}
	l.meta = f
	id, err := fileid.Stat(f)
	if err != nil {
		return false, err
	}
	if err := fileid.Trust(id, id, os.Getuid(), true); err != nil {
		return false, errorf(ErrInvalid, "%s is not to be trusted: %v", logMetaName, err)
	}
	err = retryLocked(func() error { return withFD(f, lockInode) })
	l.inode = err == nil
	if errors.Is(err, errors.ErrUnsupported) {
		err = retryLocked(func() error { return withFD(f, func(fd uintptr) error { return lockFile(fd, true) }) })
	}
	if errors.Is(err, ErrLocked) {
		return false, errorf(ErrLocked, "another writer has the log open (in this process or another); a log has one writer at a time")
	}
	return created, err
}

// tidy removes what a writer that crashed may have left in the directory:
// a segment that a roll was making, and sidecars of segments that are
// gone. It returns the segments, in order.
func (l *Log[T]) tidy() ([]int64, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var firsts []int64
	for _, e := range entries {
		name := e.Name()
		first, ok := parseSegment(name)
		if ok && !e.Type().IsRegular() {
			return nil, errorf(ErrInvalid, "segment %s is a %v, not a regular file; a log's segments are regular files", name, e.Type())
		}
		if ok {
			firsts = append(firsts, first)
			continue
		}
		if first, ok := parseSegment(strings.TrimSuffix(name, ".tmp")); ok && name != segmentName(first) {
			if err := os.Remove(l.segPath(first) + ".tmp"); err != nil {
				return nil, err
			}
		}
		if first, ok := parseSegment(strings.TrimSuffix(name, ".meta")); ok && name != segmentName(first) {
			if _, err := os.Lstat(l.segPath(first)); errors.Is(err, fs.ErrNotExist) {
				// A dropped segment's: on Windows, a reader may hold it
				// still; the next writer removes it then.
				os.Remove(filepath.Join(l.dir, name))
			}
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

// makeSegment makes an empty segment that starts at first (prepare), and
// renames it into place and makes its name durable.
func (l *Log[T]) makeSegment(first int64) error {
	tmp, err := l.prepare(first)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, l.segPath(first)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(l.dir)
}

// prepare makes an empty segment, to start at first: an exact .npy file
// of no records, written under a temporary name (which it returns) and
// made durable, so that once it is renamed into place no one ever sees
// its name with anything else.
func (l *Log[T]) prepare(first int64) (string, error) {
	hdr, _, err := newHeader(l.t, 0)
	if err != nil {
		return "", err
	}
	tmp := l.segPath(first) + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, l.w.perm)
	if err != nil {
		return "", err
	}
	_, err = f.Write(hdr)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// Append appends records to the newest segment, rolling to a new segment
// whenever it is full: records of one call may go to two or more segments.
// As [Array.Append], it shows them to readers in other processes after
// Publish (or at once with WithAutoPublish), and makes them durable at
// Sync. A roll syncs the segment it rolls past, and closes it in another
// goroutine, whose error, if any, the next roll, Sync, drop or Close
// returns.
func (l *Log[T]) Append(v ...T) error {
	if err := l.usable(true); err != nil {
		return err
	}
	for {
		room := l.w.perRecords - l.w.cur.Len()
		if len(v) <= room {
			return l.w.cur.Append(v...)
		}
		if room > 0 {
			if err := l.w.cur.Append(v[:room]...); err != nil {
				return err
			}
			v = v[room:]
		}
		if err := l.roll(); err != nil {
			return wrapErr("roll", l.dir, err)
		}
	}
}

// roll makes the newest segment durable, puts the next one in place, and
// ends the newest, in that order: a reader that finds a segment ended finds
// the next one there (FORMAT.md, "Rolling"). It waits for the disk to sync
// the newest segment and for the next one's new sidecar; the rest goes on
// in another goroutine (afterRoll), which the next roll, Sync, drop and
// Close wait for.
func (l *Log[T]) roll() error {
	old, oldFirst := l.w.cur, l.w.curFirst
	next := oldFirst + int64(old.Len())
	if err := old.Sync(); err != nil {
		return err
	}
	// The last roll's segment's name is durable before this one's.
	if err := l.collect(true); err != nil {
		return err
	}
	if err := l.chores(); err != nil {
		return err
	}
	tmp := l.w.spare
	l.w.spare = ""
	if tmp == "" {
		var err error
		if tmp, err = l.prepare(next); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, l.segPath(next)); err != nil {
		os.Remove(tmp)
		return err
	}
	cur, err := Open[T](l.segPath(next), RDWR, l.w.opts...)
	if err != nil {
		return err
	}
	// The writer filled the segment before: this one gets its full size at
	// once, in one piece on the disk, instead of growing by doubling as it
	// fills. Where the disk has not that much room, it grows as records
	// come, and Append says when the disk is full.
	cur.Grow(l.w.perRecords)
	l.mu.Lock()
	l.w.cur, l.w.curFirst = cur, next
	l.segs = append(l.segs, &segment[T]{first: next})
	l.mu.Unlock()
	old.announceEnd()
	l.afterRoll(old, oldFirst, next+int64(l.w.perRecords))
	return nil
}

// afterRoll finishes a roll in another goroutine: it makes the new
// segment's name durable, closes the segment rolled past (old, which
// starts at oldFirst; Close trims it if no reader has it), and makes a
// spare segment for the next roll, to start at spareFirst. The writer
// collects what it did (collect).
func (l *Log[T]) afterRoll(old *Array[T], oldFirst, spareFirst int64) {
	job := make(chan rolled, 1)
	l.w.job = job
	go func() {
		r := rolled{first: oldFirst, err: errors.Join(syncDir(l.dir), old.Close())}
		if r.err == nil {
			// A spare that could not be made is made again by the roll,
			// which reports why it could not.
			r.spare, _ = l.prepare(spareFirst)
		}
		job <- r
	}()
}

// collect takes what the last roll's goroutine did, waiting for it with
// wait; without, only if it is done. It reports the goroutine's error.
func (l *Log[T]) collect(wait bool) error {
	if l.w.job == nil {
		return nil
	}
	var r rolled
	if wait {
		r = <-l.w.job
	} else {
		select {
		case r = <-l.w.job:
		default:
			return nil
		}
	}
	l.w.job = nil
	l.w.spare = r.spare
	if l.hasSidecar(r.first) {
		l.w.untrimmed = append(l.w.untrimmed, r.first)
	}
	return r.err
}

// Publish shows the records appended so far to readers in other
// processes, as [Array.Publish] does, without waiting for the disk.
func (l *Log[T]) Publish() error {
	if err := l.usable(true); err != nil {
		return err
	}
	if err := l.w.cur.Publish(); err != nil {
		return err
	}
	if l.w.job != nil || len(l.w.untrimmed) > 0 || len(l.segs) > 1 && l.segs[0].first < l.w.dropTo {
		if time.Since(l.w.choresAt) >= choresEvery {
			return wrapErr("publish", l.dir, l.chores())
		}
	}
	return nil
}

// Sync makes the records appended so far durable, as [Array.Sync] does
// (the segments rolled past are durable already), and trims and removes
// the old segments that readers have left.
func (l *Log[T]) Sync() error {
	if err := l.usable(true); err != nil {
		return err
	}
	if err := l.w.cur.Sync(); err != nil {
		return err
	}
	// The newest segment's name is durable too (afterRoll).
	if err := l.collect(true); err != nil {
		return wrapErr("sync", l.dir, err)
	}
	return wrapErr("sync", l.dir, l.chores())
}
