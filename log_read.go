package mmap

import (
	"errors"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/typedmmap/mmap/internal/fileid"
)

// How a log's readers read it: by index, and following the writer across
// segments (FORMAT.md, "Logs").

// openReader looks at the log in dir for the first time.
func (l *Log[T]) openReader() error {
	fi, err := os.Stat(l.dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errorf(ErrInvalid, "a log is a directory, and this is not one")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.look()
}

// Refresh looks at the log again: afterwards First and End say what it
// holds now, and the segments the writer dropped are closed unless a
// Follow is reading one. Wait and Follow refresh as they need to. On the
// writer it does nothing.
func (l *Log[T]) Refresh() error {
	if l.writable {
		return l.usable(true)
	}
	if err := l.usable(false); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return wrapErr("refresh", l.dir, l.look())
}

// look lists the segments, under mu: it adds the new ones, marks those
// below the log's first index dropped, closes the arrays that no one
// reads, and refreshes the newest.
func (l *Log[T]) look() error {
	firsts, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	if dropTo, _, ok := l.state(); ok {
		firsts = kept(firsts, dropTo)
	}
	old := make(map[int64]*segment[T], len(l.segs))
	for _, s := range l.segs {
		old[s.first] = s
	}
	l.segs = make([]*segment[T], 0, len(firsts))
	for _, first := range firsts {
		s := old[first]
		if s == nil {
			s = &segment[T]{first: first}
		}
		delete(old, first)
		l.segs = append(l.segs, s)
	}
	for _, s := range old {
		s.dropped = true
		l.closeIdle(s)
	}
	if len(l.segs) == 0 {
		l.first.Store(l.end.Load())
		return nil
	}
	for _, s := range l.segs[:len(l.segs)-1] {
		l.closeIdle(s)
	}
	l.first.Store(l.segs[0].first)
	newest := l.segs[len(l.segs)-1]
	if err := l.openSegment(newest); err != nil {
		return err
	}
	if err := newest.arr.Refresh(); err != nil {
		return err
	}
	l.end.Store(newest.first + int64(newest.arr.Len()))
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// closeIdle closes the array of s unless someone reads it or it is the
// newest segment kept: so that the writer can trim it, or (Windows)
// remove it.
func (l *Log[T]) closeIdle(s *segment[T]) {
	if s.refs == 0 && s.arr != nil && (s.dropped || len(l.segs) == 0 || s != l.segs[len(l.segs)-1]) {
		s.arr.Close()
		s.arr = nil
	}
}

// openSegment opens the array of s, under mu, if it is not open.
func (l *Log[T]) openSegment(s *segment[T]) error {
	if s.arr != nil {
		return nil
	}
	var opts []Option
	if l.spin > 0 {
		opts = []Option{WithSpin(l.spin)}
	}
	a, err := Open[T](l.segPath(s.first), RDONLY, opts...)
	// On Windows, the writer removing the file holds it for a moment, and
	// an open then fails as for a file in use: once it is gone, the open
	// finds nothing (a dropped segment); a file that stays was not being
	// removed, and the error stands.
	for wait := time.Duration(0); removalHeld(err) && wait < removalWait; wait += time.Millisecond {
		time.Sleep(time.Millisecond)
		a, err = Open[T](l.segPath(s.first), RDONLY, opts...)
	}
	if err != nil {
		return err
	}
	s.arr = a
	return nil
}

// removalWait is how long a reader waits for a segment file that it
// cannot open, as for a file in use, to go (openSegment).
const removalWait = 100 * time.Millisecond

// state reads log.meta's state, opening log.meta if the reader has not.
func (l *Log[T]) state() (dropTo int64, closed, ok bool) {
	if l.meta == nil {
		f, err := fileid.OpenNoFollow(filepath.Join(l.dir, logMetaName), os.O_RDONLY, 0)
		if err != nil {
			return 0, false, false
		}
		l.meta = f
	}
	return readLogState(l.meta)
}

// segmentOf returns the segment that holds index i, under mu, with its
// array open and counting every record it holds below End; an IndexError
// if the log does not hold i.
func (l *Log[T]) segmentOf(i int64) (*segment[T], error) {
	if i < l.first.Load() || i >= l.end.Load() || len(l.segs) == 0 {
		return nil, &IndexError{Index: i, First: l.first.Load(), End: l.end.Load()}
	}
	j := sort.Search(len(l.segs), func(j int) bool { return l.segs[j].first > i }) - 1
	s := l.segs[j]
	if err := l.openSegment(s); errors.Is(err, fs.ErrNotExist) {
		// Dropped since the reader looked.
		if err := l.look(); err != nil {
			return nil, err
		}
		return nil, &IndexError{Index: i, First: l.first.Load(), End: l.end.Load()}
	} else if err != nil {
		return nil, err
	}
	end := l.end.Load()
	if j+1 < len(l.segs) {
		end = l.segs[j+1].first
	}
	if n := s.first + int64(s.arr.Len()); n < end {
		if err := s.arr.Refresh(); err != nil {
			return nil, err
		}
	}
	if n := s.first + int64(s.arr.Len()); n < end || j+1 < len(l.segs) && n > end {
		return nil, errorf(ErrFormat, "segment %s holds records [%d, %d), but the log goes on at %d", segmentName(s.first), s.first, n, end)
	}
	return s, nil
}

// At returns a copy of the record at index i, which the log must hold:
// First ≤ i < End, or an [IndexError].
func (l *Log[T]) At(i int64) (T, error) {
	var rec T
	for recs, err := range l.Chunks(i, i+1) {
		if err != nil {
			return rec, err
		}
		rec = recs[0]
	}
	return rec, nil
}

// Read returns a copy of the records at indexes [from, to), which the log
// must hold (an [IndexError] otherwise).
func (l *Log[T]) Read(from, to int64) ([]T, error) {
	if to < from {
		return nil, wrapErr("read", l.dir, errorf(ErrInvalid, "Read from %d to %d, which is before it", from, to))
	}
	recs := make([]T, 0, to-from)
	for chunk, err := range l.Chunks(from, to) {
		if err != nil {
			return nil, err
		}
		recs = append(recs, chunk...)
	}
	return recs, nil
}

// Chunks yields the records at indexes [from, to) where they lie, mapped,
// without a copy: one Slice per segment, in order. Each is valid until the
// loop body returns; copy what is kept. If the log does not hold them all,
// it yields an [IndexError], after the chunks it holds.
//
//	for recs, err := range lg.Chunks(lg.First(), lg.End()) {
//		if err != nil {
//			return err
//		}
//		for _, r := range recs { ... }
//	}
func (l *Log[T]) Chunks(from, to int64) iter.Seq2[Slice[T], error] {
	return func(yield func(Slice[T], error) bool) {
		if err := l.usable(false); err != nil {
			yield(nil, err)
			return
		}
		for i := from; i < to; {
			l.mu.Lock()
			s, err := l.segmentOf(i)
			if err != nil {
				l.mu.Unlock()
				yield(nil, wrapErr("read", l.dir, err))
				return
			}
			s.refs++
			l.mu.Unlock()
			recs := s.arr.Items()[i-s.first : min(to-s.first, int64(s.arr.Len()))]
			more := yield(recs, nil)
			l.releaseSegment(s)
			if !more {
				return
			}
			i += int64(len(recs))
		}
	}
}

// releaseSegment gives back a segment that Chunks or Follow read, closing
// it if it was dropped meanwhile.
func (l *Log[T]) releaseSegment(s *segment[T]) {
	if s == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s.refs--
	if s.dropped {
		l.closeIdle(s)
	}
}

// Search finds, over the records the log holds, the index of the first
// for which cmp returns 0 or more, as [slices.BinarySearchFunc] does on a
// slice sorted by cmp, and whether cmp returns 0 for it: a record's time
// to its index. cmp returns how the record compares with the target:
// negative if it comes before it. It reads one record of each segment it
// passes over and the records of one segment.
func (l *Log[T]) Search(cmp func(T) int) (int64, bool, error) {
	if err := l.usable(false); err != nil {
		return 0, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	segs, end := l.segs, l.end.Load()
	if end == l.first.Load() {
		return end, false, nil
	}
	last := func(j int) int64 { // one past segment j's last record
		if j+1 < len(segs) {
			return segs[j+1].first
		}
		return end
	}
	var err error
	j := sort.Search(len(segs), func(j int) bool {
		s, e := l.segmentOf(last(j) - 1)
		if e != nil {
			err = errors.Join(err, e)
			return true
		}
		return cmp(s.arr.Items()[last(j)-1-s.first]) >= 0
	})
	if err != nil {
		return 0, false, wrapErr("search", l.dir, err)
	}
	if j == len(segs) {
		return end, false, nil
	}
	s, err := l.segmentOf(max(segs[j].first, l.first.Load()))
	if err != nil {
		return 0, false, wrapErr("search", l.dir, err)
	}
	recs := s.arr.Items()[:last(j)-s.first]
	i, found := slices.BinarySearchFunc(recs, 0, func(r T, _ int) int { return cmp(r) })
	return s.first + int64(i), found, nil
}
