package mmap

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// How readers follow a writer (FORMAT.md, "Live readers"): the writer
// publishes its count in the sidecar's live area, at each Publish and Sync,
// and wakes the readers asleep on it (a futex on Linux); elsewhere they
// poll. A reader tells a writer that closed (the live word says so) and one
// that died (its lock on the file is free) from one that is slow.

const (
	// A waiting reader that cannot sleep on the sidecar (not Linux, or no
	// sidecar yet) polls: every minPoll at first, backing off to maxPoll
	// while nothing comes, so that an idle reader costs next to nothing.
	minPoll = time.Millisecond
	maxPoll = 16 * time.Millisecond
	// maxSleep bounds one sleep of a waiting reader on Linux, and is how
	// often a waiting reader asks whether the writer is alive: a writer
	// that died is reported within twice that.
	maxSleep = 100 * time.Millisecond
)

// Refresh picks up the records that the writer has published since this
// reader last looked: afterwards Len and Items show them. It maps more of
// the file if the file has grown. On the writer it does nothing: the writer
// sees its own records at once.
func (a *Array[T]) Refresh() error {
	if err := a.usable(false); err != nil || a.writable {
		return err
	}
	_, err := a.look()
	return wrapErr("refresh", a.path, err)
}

// stream is what a reader's look found of the writer.
type stream struct {
	side  *sidecar // the sidecar whose live word holds for the file; nil if none does
	word  uint64   // that live word, as read
	ended bool     // the writer has closed the array
}

// look refreshes a reader's count, and returns what it found of the writer.
func (a *Array[T]) look() (stream, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.usable(false); err != nil {
		return stream{}, err
	}
	n, s, err := a.published()
	if err != nil || n <= a.pub.Load() {
		// A lower count is one published before the writer's last Sync
		// (the writer crashed in between): what Open read holds.
		return s, err
	}
	if n > int64(a.capacity) {
		if err := a.mapGrown(n); err != nil {
			return s, err
		}
	}
	a.pub.Store(n)
	return s, nil
}

// mapGrown maps the file as it is now, for a reader, once it holds n
// records. A file that is shorter at the map than at the stat is looked at
// again: Wine grows a file by writing a byte past its new end, then
// cutting it back.
func (a *Array[T]) mapGrown(n int64) error {
	for try := 1; ; try++ {
		fi, err := a.f.Stat()
		if err != nil {
			return err
		}
		if err := accept(arrayfile.State{H: a.h, Count: n}, fi.Size(), a.t); err != nil {
			return err
		}
		err = a.mapFile(fi.Size())
		if !errors.Is(err, ErrRange) || try == 3 {
			return err
		}
	}
}

// published returns the count the writer published last: the sidecar's
// live count, opening the sidecar if a writer has made one since Open, or,
// where the live area does not hold for the file, its header's count. A
// sidecar that has come to describe another file (a writer of a file that
// replaced this one at its name took it) is retired: this file's writer is
// gone, and its header holds. A live area of an earlier boot holds nothing
// until a writer starts (sidecar.live).
func (a *Array[T]) published() (int64, stream, error) {
	if a.side == nil && a.retired == nil {
		a.side = openSidecar(a.sidePath, a.id)
		a.holds = false
	}
	if a.side != nil {
		w, l := a.side.live(a.id.Dev, a.id.Ino)
		if l == liveOK && (a.holds || a.sidecarHolds()) {
			return int64(min(w>>1, 1<<62)), stream{side: a.side, word: w, ended: w&1 != 0}, nil
		}
		if l == liveOtherFile {
			a.retired, a.side = a.side, nil
		}
	}
	fi, err := a.f.Stat()
	if err != nil {
		return 0, stream{}, err
	}
	st, err := readState(a.f, fi.Size(), a.side.validSlots())
	if err != nil {
		return 0, stream{}, err
	}
	if err := accept(st, fi.Size(), a.t); err != nil {
		return 0, stream{}, err
	}
	return st.Count, stream{}, nil
}

// sidecarHolds reports whether the reader's sidecar describes the file's
// header now (its slots are the header's: arrayfile.Decide), and so its
// live word counts the file's records; and remembers it. A sidecar that
// did not (a stale one, next to a file that another program rewrote in
// place) does once a writer of the file has written it afresh.
func (a *Array[T]) sidecarHolds() bool {
	a.side.parse(a.side.m, a.id.Dev, a.id.Ino)
	fi, err := a.f.Stat()
	if err != nil {
		return false
	}
	st, err := readState(a.f, fi.Size(), a.side.validSlots())
	a.holds = err == nil && st.Seq != 0
	return a.holds
}

// Wait returns once Len is at least n, or with an error when no more
// records will come: ctx's error when ctx is done first; an error wrapping
// [ErrWriterClosed] when the writer has closed the array (or none has it
// open); one wrapping [ErrWriterDied] when the writer's process ended
// without closing it, within 0.2 s of its end. A reader refreshes as the
// writer publishes; meanwhile it spins for as long as [WithSpin] says,
// then sleeps: on Linux until the writer's next publish wakes it,
// elsewhere polling, every millisecond at first and every 16 ms once
// nothing has come for a while. On the writer, Wait returns as other
// goroutines' appends reach n.
func (a *Array[T]) Wait(ctx context.Context, n int) error {
	a.closing.RLock()
	defer a.closing.RUnlock()
	if err := a.usable(false); err != nil {
		return err
	}
	if a.writable {
		return a.waitAppend(ctx, n)
	}
	return a.waitPublish(ctx, n)
}

// waitAppend is Wait on the writer: Append and Close wake it.
func (a *Array[T]) waitAppend(ctx context.Context, n int) error {
	for {
		woken := a.wake.channel()
		if err := a.usable(false); err != nil {
			return err
		}
		if a.Len() >= n {
			return nil
		}
		select {
		case <-woken:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitPublish is Wait on a reader.
func (a *Array[T]) waitPublish(ctx context.Context, n int) error {
	poll, seen := minPoll, -1
	var spinUntil time.Time
	for {
		s, err := a.look()
		switch {
		case err != nil:
			return err
		case a.Len() >= n:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case s.ended:
			return a.ended(s)
		}
		if a.Len() > seen {
			poll, seen = minPoll, a.Len()
		}
		if err := a.askWriter(n, s); err != nil {
			return err
		}
		if a.spin > 0 {
			if spinUntil.IsZero() {
				spinUntil = time.Now().Add(a.spin)
			}
			if time.Now().Before(spinUntil) {
				continue
			}
		}
		a.sleep(ctx, s, maxSleep, poll)
		poll = min(2*poll, maxPoll)
	}
}

// sleep waits for the writer's next publish: on the live word of the look
// s for up to d, where the reader can sleep on it (sleepOnLive);
// elsewhere, for poll. Close and ctx end it early.
func (a *Array[T]) sleep(ctx context.Context, s stream, d, poll time.Duration) {
	if s.side != nil && sleepOnLive(ctx, s.side, s.word, sleepFor(ctx, d)) {
		return
	}
	woken := a.wake.channel() // closed by Close
	timer := time.NewTimer(poll)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-woken:
	case <-ctx.Done():
	}
}

// askWriter asks, at most once every maxSleep, whether the writer that the
// look s found is alive, and if it is not, returns why no more records
// will come (after one more look, which may find that it closed, or the
// records it published last, and then returns nil).
func (a *Array[T]) askWriter(n int, s stream) error {
	now := int64(time.Since(a.opened))
	if asked := a.askedAt.Load(); asked != 0 && now-asked < int64(maxSleep) {
		return nil
	}
	a.askedAt.Store(max(now, 1))
	held, err := a.writerHeld(s.side)
	if err != nil || held {
		return wrapErr("wait", a.path, err)
	}
	s, err = a.look()
	switch {
	case err != nil:
		return err
	case a.Len() >= n:
		return nil
	case s.side == nil || s.ended:
		return a.ended(s)
	}
	return wrapErr("wait", a.path, errorf(ErrWriterDied, "no more records will come; the %d published stay. A writer that opens it goes on after them (WaitWriter)", a.Len()))
}

// ended is the error of a Wait for records that will not come: the writer
// closed the array after the last of them, or no writer has it open.
func (a *Array[T]) ended(s stream) error {
	if s.ended {
		return wrapErr("wait", a.path, errorf(ErrWriterClosed, "after %d records; a writer that opens it again goes on (WaitWriter)", a.Len()))
	}
	return wrapErr("wait", a.path, errorf(ErrWriterClosed, "no writer has it open; it has %d records. A writer that opens it goes on (WaitWriter)", a.Len()))
}

// WaitWriter returns once a writer has the file open, or with ctx's error
// when ctx is done first. A reader whose Follow ended, or whose Wait
// returned an error wrapping [ErrWriterClosed] or [ErrWriterDied], calls it
// to go on with the next writer, then Follows again from where it stopped.
// On the writer it returns at once.
func (a *Array[T]) WaitWriter(ctx context.Context) error {
	a.closing.RLock()
	defer a.closing.RUnlock()
	if err := a.usable(false); err != nil || a.writable {
		return err
	}
	for {
		s, err := a.look()
		if err != nil {
			return err
		}
		if !s.ended {
			held, err := a.writerHeld(s.side)
			if err != nil || held {
				return wrapErr("wait", a.path, err)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		a.sleep(ctx, s, maxPoll, maxPoll)
	}
}

// sleepOnLive sleeps until the writer publishes a live word other than
// word in the sidecar s, ctx is done, or d passes, and reports that it
// could sleep so (Linux, with a sidecar it may write). It counts itself among the sleepers first, and
// then looks at the word once more, so that either it sees a publish or
// the publish sees it (sidecar.publish).
func sleepOnLive(ctx context.Context, s *sidecar, word uint64, d time.Duration) bool {
	if !canSleepOnWord || !s.sleepable {
		return false
	}
	atomic.AddUint32(s.sleepers, 1)
	defer atomic.AddUint32(s.sleepers, ^uint32(0))
	if atomic.LoadUint64(s.word) != word {
		return true
	}
	return sleepOnWord(ctx, s.wordLow, uint32(word), d)
}

// sleepFor is d, or less if ctx's deadline comes sooner.
func sleepFor(ctx context.Context, d time.Duration) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return max(min(d, time.Until(deadline)), 0)
	}
	return d
}

// Follow returns an iterator over the records from index from on, each as
// it arrives: it yields the records there are, then waits ([Array.Wait])
// for more. It ends after the last record when the writer closes the array
// (or none has it open), and when the loop breaks. It yields a zero record
// with an error, once, and ends, when ctx is done (ctx's error), the
// writer died (an error wrapping [ErrWriterDied]), the array is closed (an
// error wrapping [fs.ErrClosed]) or fails. Each record is a copy, read
// while Close cannot unmap it. To go on once a writer opens the array
// again, call [Array.WaitWriter], then Follow from the next index.
//
//	for rec, err := range arr.Follow(ctx, 0) {
//		if err != nil {
//			return err
//		}
//		...
//	}
func (a *Array[T]) Follow(ctx context.Context, from int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for i := max(from, 0); ; i++ {
			if i >= a.Len() {
				if err := a.Wait(ctx, i+1); err != nil {
					if !errors.Is(err, ErrWriterClosed) {
						var zero T
						yield(zero, err)
					}
					return
				}
			}
			rec, err := a.at(i)
			if err == nil && !yield(rec, nil) {
				return
			}
			if err != nil {
				yield(rec, err)
				return
			}
		}
	}
}

// at returns a copy of record i, which Len counts, unless the array is
// closed.
func (a *Array[T]) at(i int) (T, error) {
	a.closing.RLock()
	defer a.closing.RUnlock()
	if err := a.usable(false); err != nil {
		var zero T
		return zero, err
	}
	return a.Items()[i], nil
}

// notifier wakes the goroutines that wait for the writer's next append.
// The writer's check costs one atomic load when nobody waits.
type notifier struct {
	waiting atomic.Bool
	mu      sync.Mutex
	ch      chan struct{}
	closed  bool
}

// channel returns a channel that is closed by the next wake, or by close.
func (n *notifier) channel() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
		if n.closed {
			close(n.ch)
		}
	}
	n.waiting.Store(true)
	return n.ch
}

// close wakes the goroutines waiting now, and makes every later channel a
// closed one.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.wakeAll()
}

// wake wakes the goroutines waiting on the current channel. It is small
// enough to be inlined into Append.
func (n *notifier) wake() {
	if n.waiting.Load() {
		n.wakeAll()
	}
}

func (n *notifier) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.waiting.Store(false)
}

// stopWaiters wakes the goroutines in Wait and Follow, which then see that
// the array is closed, and takes closing once they have gone. A reader
// asleep on the sidecar's futex may have gone to sleep just after a wake,
// so the wake is repeated until they have all gone.
func (a *Array[T]) stopWaiters() {
	a.wake.close()
	for !a.closing.TryLock() {
		a.mu.Lock()
		for _, s := range []*sidecar{a.side, a.retired} {
			if s != nil && !a.writable {
				futexWake(s.wordLow)
			}
		}
		a.mu.Unlock()
		time.Sleep(50 * time.Microsecond)
	}
}
