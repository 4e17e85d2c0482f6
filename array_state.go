package mmap

import (
	"errors"
	"os"

	"github.com/typedmmap/mmap/internal/npy"
)

// What follows from an Array's file: its header, and its mappings and the
// room for records they give, each set in one place.

// setHeader makes hdr, parsed as h, the header that holds.
func (a *Array[T]) setHeader(hdr []byte, h *npy.Header) { a.hdr, a.h = hdr, h }

// mapFile makes the newest view cover the file, size bytes long, mapping a
// new one if it does not, and sets the size and the room for records, as
// the one checked cast (view) sees them. Nothing changes if the mapping
// fails. Views are never unmapped before Close, so slices from Items stay
// valid.
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
		a.w.resizedSinceSync = true
	}
	return a.mapFile(max(size, a.size))
}

// unmapAll unmaps every view of the file.
func (a *Array[T]) unmapAll() error {
	var err error
	for i := range a.views {
		err = errors.Join(err, a.views[i].Unmap())
	}
	a.views, a.rec, a.capacity, a.w.prefaultedTo = nil, nil, 0, 0
	a.room.Store(nil)
	return err
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
	m, err := mapRegion(f, int(length), prot, 0, 0, reserveBeyondEOF)
	if err != nil && length > size {
		// Short of address space: map what there is.
		m, err = mapRegion(f, int(size), prot, 0, 0, false)
	}
	return m, err
}

// minReserve is the least address space an array's mapping takes: 1 GiB on
// 64-bit targets, 64 MiB on 32-bit ones. It costs no memory.
var minReserve = int64(1) << (26 + 4*(^uint(0)>>63))
