package mmap

import (
	"context"
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
// segments (FORMAT.md, "Logs: reading").

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
	if err != nil {
		return err
	}
	s.arr = a
	return nil
}

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

// Wait waits until the log holds index n−1 (End ≥ n), across the writer's
// rolls. It returns an error wrapping [ErrWriterClosed] if the writer
// closed the log first, [ErrWriterDied] if the writer's process ended
// without closing it (within 0.2 s), and ctx's error if ctx is done first.
// A waiting reader sleeps as on an [Array].
func (l *Log[T]) Wait(ctx context.Context, n int64) error {
	if err := l.usable(false); err != nil {
		return err
	}
	poll := minPoll
	for l.End() < n {
		newest := l.newest()
		var err error
		if newest != nil {
			err = newest.arr.Wait(ctx, int(min(n-newest.first, int64(maxInt))))
			l.mu.Lock()
			if err == nil && l.segs[len(l.segs)-1] == newest {
				l.end.Store(newest.first + int64(newest.arr.Len()))
			}
			l.mu.Unlock()
			l.releaseSegment(newest)
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err == nil:
				continue
			case !errors.Is(err, ErrWriterClosed) && !errors.Is(err, ErrWriterDied):
				return err
			}
		}
		// The newest segment's writer has gone: the log's writer rolled
		// past it, closed the log, or died.
		l.mu.Lock()
		err = l.look()
		rolled := l.newestLocked() != newest
		l.mu.Unlock()
		switch {
		case err != nil:
			return wrapErr("wait", l.dir, err)
		case rolled:
			poll = minPoll
			continue
		case l.End() >= n:
			return nil
		}
		if err := l.ended(); err != nil {
			return err
		}
		// A writer has the log: it is opening it, or making its first
		// segment.
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return ctx.Err()
		}
		poll = min(2*poll, maxPoll)
	}
	return nil
}

// newest returns the newest segment, held (refs) so that it stays open
// while it is waited on; nil if the log has none.
func (l *Log[T]) newest() *segment[T] {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.newestLocked()
	if s != nil {
		s.refs++
	}
	return s
}

// newestLocked returns the newest segment, under mu, if its array is open.
func (l *Log[T]) newestLocked() *segment[T] {
	if len(l.segs) == 0 || l.segs[len(l.segs)-1].arr == nil {
		return nil
	}
	return l.segs[len(l.segs)-1]
}

// ended returns why no more records will come, once the newest segment's
// writer has gone: the log's writer closed it or died. It returns nil if a
// writer has the log.
func (l *Log[T]) ended() error {
	l.mu.Lock()
	_, closed, ok := l.state()
	meta := l.meta
	l.mu.Unlock()
	if meta != nil {
		held, err := lockHeld(meta)
		if err != nil || held {
			return err
		}
	}
	if !ok || closed {
		return wrapErr("wait", l.dir, errorf(ErrWriterClosed, "the log's writer closed it at index %d; a writer that opens it again goes on (WaitWriter)", l.End()))
	}
	return wrapErr("wait", l.dir, errorf(ErrWriterDied, "the log's writer died at index %d; the records it published stay, and a writer that opens the log goes on after them (WaitWriter)", l.End()))
}

// lockHeld reports whether a log's writer holds its lock on f, log.meta
// (lockLog). A lock that cannot be asked about is taken, shared, and
// released at once.
func lockHeld(f *os.File) (bool, error) {
	var held bool
	err := withFD(f, func(fd uintptr) (err error) {
		held, err = inodeLocked(fd)
		return err
	})
	if !errors.Is(err, errors.ErrUnsupported) {
		return held, err
	}
	err = withFD(f, func(fd uintptr) error { return lockFile(fd, false) })
	switch {
	case errors.Is(err, ErrLocked):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, withFD(f, unlockFile)
}

// WaitWriter returns once a writer has the log open, or with ctx's error
// when ctx is done first. A reader whose Follow ended, or whose Wait
// returned [ErrWriterClosed] or [ErrWriterDied], calls it to go on with the
// next writer, then Follows again from End.
func (l *Log[T]) WaitWriter(ctx context.Context) error {
	if err := l.usable(false); err != nil {
		return err
	}
	for {
		l.mu.Lock()
		l.state()
		meta := l.meta
		l.mu.Unlock()
		if meta != nil {
			held, err := lockHeld(meta)
			if err != nil || held {
				return err
			}
		}
		select {
		case <-time.After(maxPoll):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Follow yields the records from index from on, across segments, waiting
// for each as [Log.Wait] does, until the writer closes the log (Follow
// ends after its last record), ctx is done (it yields ctx's error), the
// writer dies ([ErrWriterDied]), the reader is closed, or it asks for an
// index the log no longer holds: a reader that falls behind the writer's
// drops gets an [IndexError] naming First, never another record. A
// segment dropped under it is read to its end. Each record is a copy.
func (l *Log[T]) Follow(ctx context.Context, from int64) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var s *segment[T]
		defer func() { l.releaseSegment(s) }()
		for i := from; ; i++ {
			if s == nil || i-s.first >= int64(s.arr.Len()) {
				next, err := l.next(ctx, s, i)
				if err != nil {
					if !errors.Is(err, ErrWriterClosed) {
						var zero T
						yield(zero, err)
					}
					return
				}
				s = next
			}
			rec, err := s.arr.at(int(i - s.first))
			if err != nil {
				yield(rec, err)
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// next returns the segment that holds index i, once the log holds it,
// for Follow, which reads s: s itself if it holds i, or the next one, with
// s given back.
func (l *Log[T]) next(ctx context.Context, s *segment[T], i int64) (*segment[T], error) {
	if err := l.Wait(ctx, i+1); err != nil {
		return s, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s != nil && i >= s.first {
		if err := s.arr.Refresh(); err != nil {
			return s, err
		}
		if i-s.first < int64(s.arr.Len()) {
			return s, nil
		}
	}
	// Into the next segment, with First as it is now. The segments the
	// reader last listed hold i (Wait saw End pass it), and stand unless a
	// drop has moved First since (segments come only after the newest):
	// only then is the directory listed again.
	if dropTo, _, ok := l.state(); !ok || dropTo != l.first.Load() {
		if err := l.look(); err != nil {
			return s, wrapErr("follow", l.dir, err)
		}
	}
	n, err := l.segmentOf(i)
	if err != nil {
		return s, wrapErr("follow", l.dir, err)
	}
	n.refs++
	if s != nil {
		s.refs--
		l.closeIdle(s)
	}
	return n, nil
}
