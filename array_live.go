package mmap

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// How readers follow a writer: the writer publishes its count in the
// sidecar's live area at every Sync and wakes the readers that wait (a
// futex on Linux); elsewhere they poll.

const (
	// A waiting reader that cannot sleep on the sidecar (not Linux, or no
	// sidecar yet) polls: every minPoll at first, backing off to maxPoll
	// while nothing comes, so that an idle reader costs next to nothing.
	minPoll = time.Millisecond
	maxPoll = 16 * time.Millisecond
	// maxSleep bounds one sleep of a waiting reader on Linux: a context
	// cancelled just as the reader goes to sleep is seen after it.
	maxSleep = 250 * time.Millisecond
)

// Refresh picks up the records that the writer has synced since this
// reader last looked: afterwards Len and Items show them. It maps more of
// the file if the file has grown. On the writer it does nothing: the writer
// sees its own records at once.
func (a *Array[T]) Refresh() error {
	if err := a.usable(false); err != nil || a.writable {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return wrapErr("refresh", a.path, a.refresh())
}

func (a *Array[T]) refresh() error {
	n, err := a.published()
	if err != nil || n <= a.pub.Load() {
		// A lower count is one published before the writer's last Sync
		// (the writer crashed in between): what Open read holds.
		return err
	}
	if n > int64(a.capacity) {
		fi, err := a.f.Stat()
		if err != nil {
			return err
		}
		if err := accept(arrayfile.State{H: a.h, Count: n}, fi.Size(), a.t); err != nil {
			return err
		}
		if err := a.mapFile(fi.Size()); err != nil {
			return err
		}
	}
	a.pub.Store(n)
	return nil
}

// published returns the count the writer published last: the sidecar's
// live count, opening the sidecar if a writer has made one since Open, or,
// with none, the header's count. A sidecar that has come to describe
// another file (a writer of a file that replaced this one at its name took
// it) is dropped: this file's writer is gone, and its header holds.
func (a *Array[T]) published() (int64, error) {
	if a.side == nil {
		a.side = openSidecar(a.sidePath, a.id)
	}
	if a.side != nil {
		if n, _, ok := a.side.live(a.id.Dev, a.id.Ino); ok {
			return int64(min(n, 1<<62)), nil
		}
		a.side.close()
		a.side = nil
	}
	fi, err := a.f.Stat()
	if err != nil {
		return 0, err
	}
	st, err := readState(a.f, fi.Size(), nil)
	if err != nil {
		return 0, err
	}
	if err := accept(st, fi.Size(), a.t); err != nil {
		return 0, err
	}
	return st.Count, nil
}

// Wait returns once Len is at least n, or with ctx's error when ctx is done
// first. A reader refreshes as the writer syncs; it sleeps meanwhile, without
// spinning: on Linux until the writer's Sync wakes it, elsewhere polling,
// every millisecond at first and every 16 ms once nothing has come for a
// while. On the writer, Wait returns as other goroutines' appends reach n.
func (a *Array[T]) Wait(ctx context.Context, n int) error {
	a.closing.RLock()
	defer a.closing.RUnlock()
	poll, seen := minPoll, -1
	for {
		if err := a.usable(false); err != nil {
			return err
		}
		// Closed by the writer's next Append, and by Close.
		woken := a.wake.channel()
		side, seq := a.watch()
		if !a.writable {
			if err := a.Refresh(); err != nil {
				return err
			}
		}
		have := a.Len()
		if have >= n {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if have > seen {
			poll, seen = minPoll, have
		}
		switch {
		case a.writable:
			select {
			case <-woken:
			case <-ctx.Done():
			}
		case side != nil && sleepOnWord(ctx, side.seqWord, seq, sleepFor(ctx, maxSleep)):
		default:
			timer := time.NewTimer(poll)
			select {
			case <-timer.C:
			case <-woken:
			case <-ctx.Done():
			}
			timer.Stop()
			poll = min(2*poll, maxPoll)
		}
	}
}

// watch returns a reader's sidecar and the sequence number of the last
// publish in it, read before the reader looks at the count, so that a
// publish after that look wakes it.
func (a *Array[T]) watch() (*sidecar, uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.writable || a.side == nil {
		return nil, 0
	}
	_, seq, _ := a.side.live(a.id.Dev, a.id.Ino)
	return a.side, seq
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
// for more. It ends when the loop breaks, or yields a zero record with an
// error, once, when ctx is done (ctx's error), the array is closed (an
// error wrapping [fs.ErrClosed]) or fails. Each record is a copy, read
// while Close cannot unmap it.
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
					var zero T
					yield(zero, err)
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
		if a.side != nil && !a.writable {
			futexWake(a.side.seqWord)
		}
		a.mu.Unlock()
		time.Sleep(50 * time.Microsecond)
	}
}
