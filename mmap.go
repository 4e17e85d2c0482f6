package mmap

import (
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
)

// MMap is a memory-mapped region of a file or of anonymous memory. It is a
// []byte: index it, slice it, pass it to anything that takes bytes. Its
// capacity equals its length.
type MMap []byte

// Map maps an entire file into memory. It is MapRegion(f, -1, prot, flags, 0).
func Map(f *os.File, prot, flags int) (MMap, error) {
	return MapRegion(f, -1, prot, flags, 0)
}

// MapRegion maps length bytes of f starting at byte offset into memory.
//
// prot is [RDONLY] or a combination of [RDWR], [COPY] and [EXEC]; flags is 0
// or a combination of [ANON] and [POPULATE]. Unknown bits are an error
// wrapping [ErrInvalid].
//
// A negative length maps from offset to the end of the file. The offset need
// not be aligned to anything. An empty region (an empty file, or length 0)
// gives an empty, non-nil MMap. An offset before the start or past the end of
// the file is an error of type [*RangeError]; the file is never extended.
//
// A region that starts within the file and runs past its end is mapped on
// Unix, as mmap-go maps it, for programs that map fixed-size windows over a
// shorter last part of a file: the bytes up to the end of the file's last
// page read as zeros, and touching a page wholly past the end raises SIGBUS
// ([MMap.ReadAt] and [MMap.WriteAt] return an error wrapping [ErrFault]
// instead) until the file grows to cover it. On Windows, where a view can
// reach past the end of its file only by growing the file, such a region is
// a [*RangeError]. The typed views ([MapSliceRegion]) and [Array] always
// refuse it.
//
// With ANON, f is ignored and may be nil, length must be positive and offset
// must be 0; the memory is zeroed.
//
// The file may be closed as soon as MapRegion returns; the mapping stays valid
// until [MMap.Unmap].
func MapRegion(f *os.File, length int, prot, flags int, offset int64) (MMap, error) {
	return mapRegion(f, length, prot, flags, offset, reserveBeyondEOF)
}

// mapRegion is MapRegion; pastEOF says whether a region may run past the
// end of the file.
func mapRegion(f *os.File, length int, prot, flags int, offset int64, pastEOF bool) (MMap, error) {
	n, err := regionOf(f, length, prot, flags, offset, pastEOF)
	if err != nil {
		return nil, err
	}
	return mapLength(f, n, prot, flags, offset)
}

// regionOf checks the arguments of a mapping and returns how many bytes it
// maps: length for ANON; for a file, what region allows of its size.
func regionOf(f *os.File, length int, prot, flags int, offset int64, pastEOF bool) (int, error) {
	if prot&^knownProt != 0 {
		return 0, errorf(ErrInvalid, "unknown prot bits %#x (use RDONLY, RDWR, COPY, EXEC)", prot&^knownProt)
	}
	if flags&^knownFlags != 0 {
		return 0, errorf(ErrInvalid, "unknown flags bits %#x (use ANON, POPULATE)", flags&^knownFlags)
	}
	if flags&ANON != 0 {
		if length <= 0 || offset != 0 {
			return 0, errorf(ErrInvalid, "ANON needs a positive length and offset 0, got length %d, offset %d", length, offset)
		}
		return length, nil
	}
	if f == nil {
		return 0, errorf(ErrInvalid, "nil file")
	}
	var n int
	err := withFD(f, func(fd uintptr) error {
		size, err := fileSize(fd)
		if err != nil {
			return wrapErr("stat", f.Name(), err)
		}
		n, err = region(size, offset, int64(length), pastEOF)
		return err
	})
	return n, err
}

// mapLength maps the n bytes at offset of f (or anonymous memory) that
// regionOf allowed; none is an empty MMap.
func mapLength(f *os.File, n int, prot, flags int, offset int64) (MMap, error) {
	if n == 0 {
		return MMap{}, nil
	}
	if flags&ANON != 0 {
		return mapAligned(nil, 0, 0, n, prot, flags)
	}
	var m MMap
	err := withFD(f, func(fd uintptr) error {
		var err error
		m, err = mapAligned(f, fd, offset, n, prot, flags)
		return err
	})
	return m, err
}

// region checks that length bytes at offset lie within size bytes, or, if
// pastEOF, start within them, and returns the length as an int; a negative
// length means "to the end". The mapping also covers up to one allocation
// granule before offset, so that must fit in an int too.
func region(size, offset, length int64, pastEOF bool) (int, error) {
	if length < 0 {
		length = size - offset
	}
	within := size
	if pastEOF && offset >= 0 && offset <= size && length >= 0 && length <= math.MaxInt64-offset {
		within = max(size, offset+length)
	}
	if err := rangeError(offset, length, within); err != nil {
		return 0, err
	}
	// Narrowing to int: the whole mapping, including the part before offset
	// that alignment adds, must be addressable.
	if length > int64(maxInt-granularity()) {
		return 0, &RangeError{Offset: offset, Length: length, Size: size, Problem: notAnInt}
	}
	return int(length), nil
}

const maxInt = int(^uint(0) >> 1)

// mapAligned maps n > 0 bytes of the file f (with descriptor fd) at offset,
// starting the OS mapping at the aligned-down offset, and registers it. With
// ANON, f is nil and fd unused.
func mapAligned(f *os.File, fd uintptr, offset int64, n int, prot, flags int) (MMap, error) {
	delta := int(offset % int64(granularity()))
	mem, h, err := mmap(fd, offset-int64(delta), delta+n, prot, flags)
	if err != nil {
		if f == nil {
			return nil, syscallError("mmap", err)
		}
		return nil, wrapErr("map", f.Name(), err)
	}
	mp := &mapping{mem: mem, off: delta, n: n, prot: prot, flags: flags, h: h}
	mappings.add(mp)
	return MMap(mp.user()), nil
}

// Flush writes the pages of m that were changed back to the file and waits
// until the OS reports them written (msync with MS_SYNC on Unix;
// FlushViewOfFile and FlushFileBuffers on Windows). m may be any sub-slice of
// a mapping; the pages that cover it are flushed. For COPY, ANON and read-only
// mappings there is nothing to write and Flush returns nil.
func (m MMap) Flush() error {
	mp, pages, err := mappings.pages(m)
	if err != nil || mp == nil || !mp.fileWritable() {
		return err
	}
	return syscallError("flush", flush(pages, mp.h))
}

// Lock keeps the pages that cover m in RAM (mlock; VirtualLock on Windows).
// m may be any sub-slice of a mapping.
func (m MMap) Lock() error { return m.onPages("lock", lock) }

// Unlock undoes [MMap.Lock] on the pages that cover m.
func (m MMap) Unlock() error { return m.onPages("unlock", unlock) }

// onPages runs the OS primitive fn on the pages that cover m.
func (m MMap) onPages(op string, fn func(pages []byte) error) error {
	_, pages, err := mappings.pages(m)
	if err != nil || pages == nil {
		return err
	}
	return syscallError(op, fn(pages))
}

// Unmap deletes the mapping and sets *m to nil. m must be the MMap that [Map]
// or [MapRegion] returned, not a sub-slice of it: anything else is an error
// wrapping [ErrInvalid] and nothing is unmapped. Unmap of a nil or empty MMap
// returns nil. If the OS refuses, *m is left unchanged so the call can be
// retried.
func (m *MMap) Unmap() error {
	if err := mappings.unmap(*m); err != nil {
		return err
	}
	*m = nil
	return nil
}

// Advise tells the OS how the pages that cover m will be used. m may be any
// sub-slice of a mapping. DontNeed never loses data: on COPY and private
// anonymous mappings, where the OS would throw away the private changes, it
// does nothing.
func (m MMap) Advise(a Advice) error {
	if a < Normal || a > DontNeed {
		return errorf(ErrInvalid, "unknown advice %d", a)
	}
	mp, pages, err := mappings.pages(m)
	if err != nil || pages == nil {
		return err
	}
	if a == DontNeed && mp.private() {
		return nil
	}
	return syscallError("advise", advise(pages, a))
}

// prefaultWrite asks the OS to make the pages that cover m present and
// writable now, rather than fault them in one by one as they are written.
// It is a hint; nothing is reported.
func (m MMap) prefaultWrite() {
	if _, pages, err := mappings.pages(m); err == nil && pages != nil {
		prefault(pages)
	}
}

// ReadAt copies len(p) bytes from m at offset off into p, as [io.ReaderAt]
// describes: when fewer bytes are read, err says why (io.EOF at the end of m).
// A memory fault, such as a file truncated under the mapping, is returned as
// a [*FaultError] instead of crashing the process; n then counts the bytes
// copied before it.
func (m MMap) ReadAt(p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, rangeError(off, int64(len(p)), int64(len(m)))
	}
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n, err = faultSafeCopy(p, m[off:], m[off:], "read")
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// WriteAt copies p into m at offset off, as [io.WriterAt] describes. m does
// not grow: bytes that would land past its end are not written and the error
// is a [*RangeError]. A memory fault (a read-only mapping, or a file
// truncated under it) is returned as a [*FaultError].
func (m MMap) WriteAt(p []byte, off int64) (n int, err error) {
	if off < 0 || off > int64(len(m)) {
		return 0, rangeError(off, int64(len(p)), int64(len(m)))
	}
	n, err = faultSafeCopy(m[off:], p, m[off:], "write")
	if err == nil && n < len(p) {
		err = rangeError(off, int64(len(p)), int64(len(m)))
	}
	return n, err
}

// faultSafeCopy copies src into dst like copy, but turns a memory fault into
// a *FaultError. It copies a page of mapped (one of dst and src) at a time,
// so that n counts exactly the bytes copied before the faulting page.
func faultSafeCopy(dst, src, mapped []byte, op string) (n int, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		switch fault := r.(type) {
		case interface{ Addr() uintptr }:
			err = &FaultError{Addr: fault.Addr(), Op: op}
		case runtime.Error:
			// Copying between valid slices raises no other runtime error
			// than a fault. Where the OS (or an emulator: qemu-arm) does not
			// report the faulting address, the runtime raises its
			// nil-dereference error, which has no Addr.
			err = &FaultError{Op: op}
		default:
			panic(r)
		}
	}()
	total := min(len(dst), len(src))
	page := os.Getpagesize()
	for n < total {
		end := min(n+page-int((addr(mapped)+uintptr(n))%uintptr(page)), total)
		copy(dst[n:end], src[n:end])
		n = end
	}
	return n, nil
}
