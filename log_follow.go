package mmap

import (
	"context"
	"errors"
	"iter"
	"os"
	"time"
)

// How a log's readers follow its writer across segments, and learn that
// the stream has ended (FORMAT.md, "Logs", "Following").

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
		held, err := logHeld(meta)
		if err != nil || held {
			return err
		}
	}
	if !ok || closed {
		return wrapErr("wait", l.dir, errorf(ErrWriterClosed, "the log's writer closed it at index %d; a writer that opens it again goes on (WaitWriter)", l.End()))
	}
	return wrapErr("wait", l.dir, errorf(ErrWriterDied, "the log's writer died at index %d; the records it published stay, and a writer that opens the log goes on after them (WaitWriter)", l.End()))
}

// logHeld reports whether a log's writer holds its lock on f, log.meta
// (lockLog): the lock on the file itself, or where the OS has none, on
// the whole file.
func logHeld(f *os.File) (bool, error) {
	held, err := inodeHeld(f)
	if errors.Is(err, errors.ErrUnsupported) {
		return lockHeld(f, false)
	}
	return held, err
}

// WaitWriter returns once a writer has the log open, or has had it since
// WaitWriter was called (it left records, or closed the log), or with
// ctx's error when ctx is done first. A reader whose Follow ended, or whose
// Wait returned [ErrWriterClosed] or [ErrWriterDied], calls it to go on
// with the next writer, then Follows again from where it stopped.
func (l *Log[T]) WaitWriter(ctx context.Context) error {
	if err := l.usable(false); err != nil {
		return err
	}
	was := l.writerMark()
	for {
		l.mu.Lock()
		err := l.look()
		meta := l.meta
		l.mu.Unlock()
		if err != nil {
			return wrapErr("wait", l.dir, err)
		}
		if meta != nil {
			held, err := logHeld(meta)
			if err != nil || held {
				return err
			}
		}
		if l.writerMark() != was {
			return nil
		}
		select {
		case <-time.After(maxPoll):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writerMark is what a writer that has had the log changes: its End, or
// log.meta's state.
func (l *Log[T]) writerMark() [3]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	dropTo, closed, _ := l.state()
	c := int64(0)
	if closed {
		c = 1
	}
	return [3]int64{l.End(), dropTo, c}
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
