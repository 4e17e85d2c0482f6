package mmap

import (
	"os"

	"github.com/typedmmap/mmap/internal/npy"
)

// What happens to an Array's records: appending them, growing the file to
// hold them, mapping it, and syncing them.

// writeHeader writes hdr over the file's header and makes it durable. One
// write, within a page for any header under 4 KiB: a process killed during
// it leaves the old header or the new.
func (a *Array[T]) writeHeader(hdr []byte) error {
	if _, err := a.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	if len(a.views) > 0 {
		if err := a.views[len(a.views)-1][:len(hdr)].Flush(); err != nil {
			return err
		}
	} else if err := a.f.Sync(); err != nil {
		return err
	}
	h, err := npy.Parse(hdr)
	if err != nil {
		return err
	}
	a.hdr, a.h = hdr, h
	return nil
}

// mapFile makes the newest view cover the file, size bytes long, mapping a
// new one if it does not, and sets the room for records. Nothing changes
// if the mapping fails. Views are never unmapped before Close, so slices
// from Items stay valid.
func (a *Array[T]) mapFile(size int64) error {
	if n := len(a.views); n == 0 || int64(len(a.views[n-1])) < size {
		prot := RDONLY
		if a.writable {
			prot = RDWR
		}
		m, err := mapReserve(a.f, size, prot)
		if err != nil {
			return err
		}
		a.views = append(a.views, m)
	}
	capacity := int((size - int64(a.h.Len)) / int64(a.l.size))
	newest := a.views[len(a.views)-1]
	rec, err := view[T](newest[a.h.Len:int64(a.h.Len)+int64(capacity)*int64(a.l.size)], int64(a.h.Len))
	if err != nil {
		return err
	}
	a.size, a.capacity, a.rec = size, capacity, rec
	a.room.Store(&rec)
	return nil
}

// setCapacity grows the file to hold n records, with its blocks allocated,
// so that a full disk is an error here and never a fault later, and maps
// it. If either fails, the array stays as it was (the file may have grown)
// and a later call tries again. The file never shrinks while it is open.
func (a *Array[T]) setCapacity(n int) error {
	if n <= a.capacity {
		return nil
	}
	if n > (maxInt-a.h.Len)/a.l.size {
		return errorf(ErrRange, "%d records of %d bytes do not fit in an int", n, a.l.size)
	}
	size := int64(a.h.Len) + int64(n)*int64(a.l.size)
	if size > a.size {
		if err := allocate(a.f, a.size, size); err != nil {
			return wrapErr("allocate", a.path, err)
		}
		a.resizedSinceSync = true
	}
	return a.mapFile(max(size, a.size))
}

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
// later call tries again. The records are durable,
// and visible to readers in other processes, after [Array.Sync]; goroutines
// of this process see them at once.
func (a *Array[T]) Append(v ...T) error {
	if a.count+len(v) > a.prefaultedTo {
		if err := a.prepare(len(v)); err != nil {
			return err
		}
	}
	if len(v) == 1 {
		a.rec[a.count] = v[0] // no call to memmove for the common case
		a.count++
	} else {
		a.count += copy(a.rec[a.count:], v)
	}
	a.pub.Store(int64(a.count))
	a.wake.wake()
	return nil
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
	ahead := int64(min(a.capacity, a.count+n+prefaultBytes/a.l.size))
	start, end := max(a.prefaultedTo, a.count), int(min(ahead, a.h.MaxCount()))
	a.rec[start:end].Bytes().prefaultWrite()
	a.prefaultedTo = end
	return nil
}

// Grow makes room for n more records, so that the next n appends do not
// grow the file; as for Append, a full disk is an error.
func (a *Array[T]) Grow(n int) error {
	if n < 0 {
		return wrapErr("", a.path, errorf(ErrInvalid, "Grow(%d): negative count", n))
	}
	return a.reserve(n)
}

// reserve makes room for n more records, doubling the capacity at least.
func (a *Array[T]) reserve(n int) error {
	if err := a.usable(true); err != nil {
		return err
	}
	if n > maxInt-a.count {
		return wrapErr("", a.path, errorf(ErrRange, "%d more records overflow an int", n))
	}
	need := a.count + n
	if room := a.h.MaxCount(); int64(need) > room {
		return wrapErr("", a.path, errorf(ErrRange, "the header has room to count %d records, not %d; numpy 1.24 and later leave room for more (or rewrite the file with Create)", room, need))
	}
	if need <= a.capacity {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.setCapacity(max(need, 2*a.capacity))
	if err != nil && need > a.capacity {
		// Doubling is not possible (a nearly full disk, say): take what
		// is needed.
		err = a.setCapacity(need)
	}
	return wrapErr("grow", a.path, err)
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
	if n < 0 || n > a.count {
		return wrapErr("", a.path, errorf(ErrRange, "Truncate(%d) of an array of %d records", n, a.count))
	}
	unlock, err := a.lockOutReaders("records they may be reading would change")
	if err != nil {
		return err
	}
	defer unlock()
	a.count = n
	a.pub.Store(int64(n))
	return a.Sync()
}

// Sync makes the records and their count durable, and shows them to
// readers in other processes. It writes the records to disk and waits;
// then the count, into the sidecar, and waits; then the .npy header that
// counts them, and waits. A crash at any point leaves the last count whose
// records are all durable (FORMAT.md). On a reader it does nothing.
func (a *Array[T]) Sync() error {
	if err := a.usable(false); err != nil || !a.writable {
		return err
	}
	return wrapErr("sync", a.path, a.sync())
}

func (a *Array[T]) sync() error {
	if a.count > 0 {
		if err := a.rec[:a.count].Flush(); err != nil {
			return err
		}
	}
	if a.resizedSinceSync {
		// The records are flushed; the file's new size must be too.
		if err := a.f.Sync(); err != nil {
			return err
		}
		a.resizedSinceSync = false
	}
	if a.count != a.synced {
		hdr, err := a.h.Rewrite(a.hdr, int64(a.count))
		if err != nil {
			return err
		}
		if err := a.side.writeSlot(int64(a.count), hdr); err != nil {
			return err
		}
		if err := a.writeHeader(hdr); err != nil {
			return err
		}
		a.synced = a.count
	}
	a.side.publish(a.count)
	return nil
}

// mapReserve maps the file f, size bytes long, for an array: where a
// mapping may reach past the end of its file (Unix), with room to grow in
// place, since its pages there become usable as the file grows; elsewhere
// (Windows), exactly size bytes.
func mapReserve(f *os.File, size int64, prot int) (MMap, error) {
	if size > int64(maxInt-granularity()) {
		return nil, &RangeError{Offset: 0, Length: size, Size: size, Problem: notAnInt}
	}
	length := size
	if reserveBeyondEOF {
		length = min(max(2*size, minReserve), int64(maxInt-granularity()))
	}
	var m MMap
	err := withFD(f, func(fd uintptr) error {
		var err error
		if m, err = mapAligned(f, fd, 0, int(length), prot, 0); err != nil && length > size {
			// Short of address space: map what there is.
			m, err = mapAligned(f, fd, 0, int(size), prot, 0)
		}
		return err
	})
	return m, err
}

// minReserve is the least address space an array's mapping takes: 1 GiB on
// 64-bit targets, 64 MiB on 32-bit ones. It costs no memory.
var minReserve = int64(1) << (26 + 4*(^uint(0)>>63))
