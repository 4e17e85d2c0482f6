package mmap

// What the writer does to an Array's records, and what everyone sees of
// them: Items, Append, Grow, Truncate.

// Items returns the records, as a Slice over the mapped file: reading and
// changing them reads and changes the file. Its capacity is its length.
//
// The Slice stays valid, the same records, until Close, whatever happens
// before: appends that grow the file, Truncate. After Close, using it
// crashes the process.
func (a *Array[T]) Items() Slice[T] {
	n := a.pub.Load()
	room := a.room.Load()
	if room == nil {
		return nil
	}
	return (*room)[:n:n]
}

// Append adds records at the end. It is amortised O(1) per record: when the
// file is full, its capacity doubles. The new capacity is allocated on
// disk, so a full disk is an error here (wrapping the OS's, such as
// syscall.ENOSPC), and so is a lack of address space for the larger
// mapping (syscall.ENOMEM); either way the array stays as it was, and a
// later call tries again. Goroutines of this process see the records at
// once; readers in other processes after [Array.Publish] (or at once, with
// [WithAutoPublish]); they are durable after [Array.Sync].
func (a *Array[T]) Append(v ...T) error {
	w := &a.w
	if w.count+len(v) > w.prefaultedTo {
		if err := a.prepare(len(v)); err != nil {
			return wrapErr("append", a.path, err)
		}
	}
	n := w.count
	if len(v) == 1 {
		a.rec[n] = v[0] // no call to memmove for the common case
		n++
	} else {
		n += copy(a.rec[n:], v)
	}
	a.setCount(n)
	if a.w.autoPublish {
		a.side.publish(n, false)
	}
	a.wake.wake()
	return nil
}

// setCount sets the writer's count of records, which Len and Items show.
func (a *Array[T]) setCount(n int) {
	a.w.count = n
	a.pub.Store(int64(n))
}

// prefaultBytes is how far ahead of the records Append prefaults pages.
const prefaultBytes = 2 << 20

// prepare makes room for n more records and prefaults the pages they and
// the next prefaultBytes will land on, so that Append does not take a page
// fault for each new page. Append checks nothing below prefaultedTo, so it
// never passes the count that the header has room for.
func (a *Array[T]) prepare(n int) error {
	if err := a.reserve(n); err != nil {
		return err
	}
	w := &a.w
	ahead := int64(min(a.capacity, w.count+n+prefaultBytes/a.l.size))
	start, end := max(w.prefaultedTo, w.count), int(min(ahead, a.h.MaxCount()))
	a.rec[start:end].Bytes().prefaultWrite()
	w.prefaultedTo = end
	return nil
}

// Grow makes room for n more records, so that the next n appends do not
// grow the file; as for Append, a full disk is an error.
func (a *Array[T]) Grow(n int) error {
	if n < 0 {
		return wrapErr("grow", a.path, errorf(ErrInvalid, "Grow(%d): negative count", n))
	}
	return wrapErr("grow", a.path, a.reserve(n))
}

// reserve makes room for n more records, doubling the capacity at least.
func (a *Array[T]) reserve(n int) error {
	if err := a.usable(true); err != nil {
		return err
	}
	if n > maxInt-a.w.count {
		return errorf(ErrRange, "%d more records overflow an int", n)
	}
	need := a.w.count + n
	if room := a.h.MaxCount(); int64(need) > room {
		return errorf(ErrRange, "the header has room to count %d records, not %d; numpy 1.24 and later leave room for more (or rewrite the file with Create)", room, need)
	}
	if need <= a.capacity {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.setCapacity(max(need, 2*a.capacity))
	if err != nil {
		// Doubling is not possible (a nearly full disk, say): take what
		// is needed.
		err = a.setCapacity(need)
	}
	return err
}

// Truncate keeps the first n records and drops the rest; n must be between
// 0 and Len. The new count is synced at once, so that records appended
// later can never be mistaken for the dropped ones after a crash. The file
// keeps its size until Close, so slices from Items stay valid, but
// goroutines still reading dropped records race with later appends. While
// readers have the file open, Truncate fails with [ErrLocked]: records they
// may be reading would change.
func (a *Array[T]) Truncate(n int) error {
	if err := a.usable(true); err != nil {
		return err
	}
	if n < 0 || n > a.w.count {
		return wrapErr("truncate", a.path, errorf(ErrRange, "Truncate(%d) of an array of %d records", n, a.w.count))
	}
	unlock, err := a.lockOutReaders("records they may be reading would change")
	if err != nil {
		return wrapErr("truncate", a.path, err)
	}
	defer unlock()
	a.setCount(n)
	// The lower count first: a writer that opens after a crash in the Sync
	// must not take the higher one, published before, as records it has
	// to keep (sidecar.unsynced).
	a.side.publish(n, false)
	return a.Sync()
}
