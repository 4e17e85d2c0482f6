package mmap

import (
	"os"

	"github.com/typedmmap/mmap/internal/npy"
)

// Slice is a typed view of mapped memory: a []T of a flat type T (see
// [CheckType]) whose elements are the bytes of the mapping, with no copy.
// Index it, range over it, sort it, pass it to anything that takes a []T; it
// runs at the speed of a []T on the heap. Writes go straight to the mapping.
//
// Elements are in the host's byte order.
type Slice[T any] []T

// MapSlice maps the whole of f as a Slice[T]. It is
// MapSliceRegion[T](f, -1, prot, flags, 0).
func MapSlice[T any](f *os.File, prot, flags int) (Slice[T], error) {
	return MapSliceRegion[T](f, -1, prot, flags, 0)
}

// MapSliceRegion maps n elements of type T from f, starting at byte offset,
// as a Slice[T]. A negative n maps from offset to the end of the file. prot
// and flags are as for [MapRegion]; with [ANON], n must be positive.
//
// It returns an error, and maps nothing, when T is not a flat type
// ([*TypeError]), offset is not a multiple of T's natural alignment, which
// is the same on every target ([*AlignmentError]; see [CheckType]), the
// region's byte length is not a whole number of elements ([*SizeError]:
// nothing is silently cut off), n elements overflow an int, or the region
// does not lie within the file ([*RangeError]). A file that starts with a
// .npy header is refused at offset 0 ([ErrInvalid]): its header is not
// records; [Open] maps its records.
func MapSliceRegion[T any](f *os.File, n int, prot, flags int, offset int64) (Slice[T], error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, err
	}
	// Negative offsets are mapRegion's to refuse.
	if err := l.checkOffset(max(offset, 0)); err != nil {
		return nil, err
	}
	length := -1
	if n >= 0 {
		if n > maxInt/l.size {
			return nil, errorf(ErrRange, "%d elements of %s (%d bytes each) overflow an int", n, l.name, l.size)
		}
		length = n * l.size
	}
	size, err := regionOf(f, length, prot, flags, offset, false)
	switch {
	case err != nil:
		return nil, err
	case size%l.size != 0:
		return nil, &SizeError{Type: l.name, Length: int64(size), ElemSize: l.size}
	case offset == 0 && flags&ANON == 0 && isNPY(f):
		return nil, wrapErr("map", f.Name(), errorf(ErrInvalid, "the file starts with a .npy header, which is not records of %s; Open[%s] maps its records", l.name, l.name))
	}
	m, err := mapLength(f, size, prot, flags, offset)
	if err != nil {
		return nil, err
	}
	s, err := view[T](m, offset)
	if err != nil {
		m.Unmap()
		return nil, err
	}
	return s, nil
}

// isNPY reports whether the file f starts with the magic of a .npy file.
func isNPY(f *os.File) bool {
	var b [len(npy.Magic)]byte
	n, _ := f.ReadAt(b[:], 0)
	return n == len(b) && string(b[:]) == npy.Magic
}

// View returns b seen as a Slice[T], sharing its memory. b may come from
// anywhere (a mapping, the heap, another library); the view does not own it,
// so [Slice.Unmap] of a view that is not a whole mapping fails. b's address
// must be aligned as Go aligns a T ([*AddressError]) and its length a whole
// number of elements ([*SizeError]); T must be flat ([*TypeError]). View
// does not look at what the bytes hold.
func View[T any](b []byte) (Slice[T], error) { return view[T](b, -1) }

// view returns b as a Slice[T] after the checks that make that safe, the
// one cast behind every typed view, [View]'s, [MapSliceRegion]'s and an
// [Array]'s records alike: T is flat, b's start is aligned for T, and b's
// length is a whole number of T. For bytes of a file, off is their offset
// in it, which must be a multiple of T's natural alignment (the same on
// every target); for bytes of no file, off is negative and b's address must
// be aligned as Go aligns T.
func view[T any](b []byte, off int64) (Slice[T], error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, err
	}
	if off >= 0 {
		if err := l.checkOffset(off); err != nil {
			return nil, err
		}
	}
	if a := addr(b); len(b) > 0 && a%uintptr(l.goAlign) != 0 {
		return nil, &AddressError{Type: l.name, Addr: a, Align: l.goAlign}
	}
	if len(b)%l.size != 0 {
		return nil, &SizeError{Type: l.name, Length: int64(len(b)), ElemSize: l.size}
	}
	return castSlice[T](b), nil
}

// checkOffset refuses a view of a file at an offset that is not a multiple
// of T's natural alignment. A mapping starts on a page boundary, so an
// aligned offset gives an aligned address, on every target.
func (l *layout) checkOffset(off int64) error {
	if off%int64(l.align) != 0 {
		return &AlignmentError{Type: l.name, Offset: off, Align: l.align}
	}
	return nil
}

// Bytes returns the memory of s as bytes: the same memory, not a copy. It
// returns nil if T is not a flat type.
func (s Slice[T]) Bytes() MMap {
	if CheckType[T]() != nil {
		return nil
	}
	return s.span()
}

// span returns the bytes s covers, for the methods that hand them to the
// registry of mappings. A Slice of a type that is not flat cannot have come
// from a mapping, so the registry refuses it.
func (s Slice[T]) span() MMap { return bytesOf(s) }

// Flush writes the changed pages that cover s back to the file and waits
// for the write, as [MMap.Flush] does.
func (s Slice[T]) Flush() error { return s.span().Flush() }

// Lock keeps the pages that cover s in RAM, as [MMap.Lock] does.
func (s Slice[T]) Lock() error { return s.span().Lock() }

// Unlock undoes [Slice.Lock], as [MMap.Unlock] does.
func (s Slice[T]) Unlock() error { return s.span().Unlock() }

// Unmap deletes the mapping and sets *s to nil. s must be the Slice that
// [MapSlice] or [MapSliceRegion] returned (or a view of a whole mapping), not
// a sub-slice of it: anything else is an error wrapping [ErrInvalid] and
// nothing is unmapped, as for [MMap.Unmap].
func (s *Slice[T]) Unmap() error {
	b := s.span()
	if err := b.Unmap(); err != nil {
		return err
	}
	*s = nil
	return nil
}
