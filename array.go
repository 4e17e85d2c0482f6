package mmap

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
)

// Array is a file of records of a flat type T that knows what it holds: a
// header records the records' layout, byte order and count, so that [Open]
// refuses a file of another type, written on a host of the other byte order,
// or damaged, instead of handing out garbage. FORMAT.md describes the file.
//
// Records are appended at memory speed ([Array.Append]) and read and changed
// in place through [Array.Items]. [Array.Sync] makes them durable; after a
// crash, Open sees every record of the last completed Sync (and possibly
// later ones), each fully written.
//
// One writer at a time: Create and Open with RDWR take an exclusive lock on
// the file, Open with RDONLY a shared one, until Close; a conflicting open, in
// this process or another, fails at once with [ErrLocked] (on AIX, whose
// locks belong to the process, only an open in another process). The lock
// is advisory: it keeps out other Arrays, not other programs.
//
// An Array is not safe for concurrent use by several goroutines, except that
// the records of one Items slice may be read concurrently.
type Array[T any] struct {
	path     string
	f        *os.File
	m        MMap     // the whole file
	items    Slice[T] // room for capacity records, from the data offset
	l        *layout
	h        header // the newest header slot, as last read or written
	slot     int    // where h is
	count    int
	writable bool

	prefaultedTo     int  // the pages of records [0, prefaultedTo) are present and writable
	resizedSinceSync bool // the file's size changed since the last Sync
}

// Option configures [Create].
type Option func(*options)

type options struct {
	capacity int
	perm     fs.FileMode
}

// WithCapacity makes room for n records at once, so that the first n
// appends never grow the file.
func WithCapacity(n int) Option { return func(o *options) { o.capacity = n } }

// WithPerm sets the permission bits of a new file (before the umask); the
// default is 0o666, as for [os.Create].
func WithPerm(perm fs.FileMode) Option { return func(o *options) { o.perm = perm } }

// minCapacityBytes is the least room an Array reserves for records.
const minCapacityBytes = 4096

// Create creates the named file as an empty Array of T, or truncates it if
// it exists, and opens it for reading and writing. The truncation happens
// only once the exclusive lock is held, so a file another Array has open is
// left alone ([ErrLocked]).
func Create[T any](path string, opts ...Option) (*Array[T], error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, err
	}
	o := options{perm: 0o666}
	for _, opt := range opts {
		opt(&o)
	}
	if o.capacity < 0 {
		return nil, fileErrorf(ErrInvalid, path, "negative capacity %d", o.capacity)
	}
	h, err := newHeader(l)
	if err != nil {
		return nil, inFile("create", path, err)
	}
	a, err := openLocked[T](path, os.O_RDWR|os.O_CREATE, o.perm, l)
	if err != nil {
		return nil, err
	}
	if err := a.initialize(h, o.capacity); err != nil {
		a.release()
		return nil, inFile("create", path, err)
	}
	return a, nil
}

// initialize writes a new, empty array with header h into the locked file.
func (a *Array[T]) initialize(h header, capacity int) error {
	a.h = h
	a.slot = 1 // so that the first Sync writes slot 0
	if err := a.f.Truncate(0); err != nil {
		return err
	}
	if _, err := a.f.WriteAt([]byte(a.l.desc), descOffset); err != nil {
		return err
	}
	if err := a.setCapacity(a.minCapacity(capacity)); err != nil {
		return err
	}
	return a.Sync()
}

// minCapacity is the capacity an array of n records keeps at least.
func (a *Array[T]) minCapacity(n int) int { return max(n, minCapacityBytes/a.l.size, 1) }

// Open opens the named Array file of T, read-only (RDONLY) or for reading
// and writing (RDWR). It refuses, with an error that says what it expected
// and what it found, a file of another layout of records ([ErrType]),
// written on a host of the other byte order ([ErrByteOrder]), or that is not
// a valid array file or counts more records than it holds ([ErrFormat]).
func Open[T any](path string, prot int) (*Array[T], error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, err
	}
	flag := os.O_RDONLY
	switch prot {
	case RDONLY:
	case RDWR:
		flag = os.O_RDWR
	default:
		return nil, fileErrorf(ErrInvalid, path, "Open takes RDONLY or RDWR, got prot %#x", prot)
	}
	a, err := openLocked[T](path, flag, 0, l)
	if err != nil {
		return nil, err
	}
	if err := a.load(); err != nil {
		a.release()
		return nil, inFile("open", path, err)
	}
	return a, nil
}

// openLocked opens the file and takes the lock that flag calls for.
func openLocked[T any](path string, flag int, perm fs.FileMode, l *layout) (*Array[T], error) {
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, pathError("open", path, err)
	}
	writable := flag&os.O_RDWR != 0
	err = withFD(f, func(fd uintptr) error { return lockFile(fd, writable) })
	if errors.Is(err, ErrLocked) {
		f.Close()
		return nil, fileErrorf(ErrLocked, path, "open elsewhere (in this process or another); an Array has one writer or any number of readers")
	}
	if err != nil {
		f.Close()
		return nil, pathError("lock", path, err)
	}
	return &Array[T]{path: path, f: f, l: l, writable: writable}, nil
}

// load maps an existing file, then reads and checks its header.
func (a *Array[T]) load() error {
	prot := RDONLY
	if a.writable {
		prot = RDWR
	}
	m, err := Map(a.f, prot, 0)
	if err != nil {
		return err
	}
	a.setMapping(m)
	if a.h, a.slot, err = readArrayHeader(a.m, a.l); err != nil {
		return err
	}
	a.count = int(a.h.count)
	a.setMapping(m)
	return nil
}

// setMapping makes m the array's mapping of its whole file and resets
// everything derived from it: the room for records, and how much of it is
// prefaulted. A nil m leaves the array with no mapping.
func (a *Array[T]) setMapping(m MMap) {
	a.m, a.items, a.prefaultedTo = m, nil, 0
	if len(m) < int(a.h.dataOffset) || a.h.dataOffset == 0 {
		return
	}
	room := m[a.h.dataOffset:]
	a.items = castSlice[T](room[:len(room)/a.l.size*a.l.size])
	a.prefaultedTo = min(a.count, len(a.items))
}

// setCapacity resizes the file to hold n records and maps all of it.
func (a *Array[T]) setCapacity(n int) error {
	if n > (maxInt-int(a.h.dataOffset))/a.l.size {
		return errorf(ErrRange, "%d records of %d bytes do not fit in an int", n, a.l.size)
	}
	m := a.m
	err := resizeFile(&m, a.f, int64(a.h.dataOffset)+int64(n)*int64(a.l.size))
	a.resizedSinceSync = true
	a.setMapping(m)
	return err
}

// resizeFile sets the size of f to size > 0 bytes, which the caller has
// checked fits in an int, and makes *m, a read-write mapping of the whole
// of f (or nil, for none yet), cover all of it. If it fails, *m still maps
// the whole file as it was, or is nil if the file could not be mapped again.
func resizeFile(m *MMap, f *os.File, size int64) error {
	grow := size > int64(len(*m))
	if grow {
		if err := f.Truncate(size); err != nil {
			return err
		}
	}
	if len(*m) == 0 {
		nm, err := Map(f, RDWR, 0)
		*m = nm
		return err
	}
	nm, err := mappings.remap(*m, int(size))
	switch {
	case err == nil:
		*m = nm
		if !grow {
			return f.Truncate(size)
		}
		return nil
	case !errors.Is(err, errors.ErrUnsupported):
		return err
	case grow:
		// Map the grown file before unmapping the old view, so that *m
		// stays valid if mapping fails.
		nm, err := Map(f, RDWR, 0)
		if err != nil {
			return err
		}
		old := *m
		*m = nm
		return old.Unmap()
	}
	// Windows cannot shrink a file while a view of it exists.
	if err := m.Unmap(); err != nil {
		return err
	}
	err = f.Truncate(size)
	nm, mapErr := Map(f, RDWR, 0)
	*m = nm
	return cmp.Or(err, mapErr)
}

// usable reports why the array cannot be used, if it cannot.
func (a *Array[T]) usable(write bool) error {
	switch {
	case a.f == nil:
		return pathError("use", a.path, os.ErrClosed)
	case a.m == nil:
		return fileErrorf(ErrInvalid, a.path, "the file could not be mapped again after a resize; Close the array and Open it again")
	case write && !a.writable:
		return fileErrorf(ErrInvalid, a.path, "opened read-only; Open it with RDWR to change it")
	}
	return nil
}

// Len returns the number of records.
func (a *Array[T]) Len() int { return a.count }

// Offset returns the byte offset of record 0 in the file, for reading the
// records with other tools (numpy.memmap, encoding/binary). The records are
// contiguous, Len of them, in the host's byte order.
func (a *Array[T]) Offset() int64 { return int64(a.h.dataOffset) }

// Items returns the records, as a Slice over the mapped file: reading and
// changing them reads and changes the file. Its capacity is its length.
//
// The Slice is valid until the next call that may move the mapping
// (Append, Grow or Truncate) or Close; using it after that reads unmapped
// memory and crashes the process. Call Items again instead of keeping it.
func (a *Array[T]) Items() Slice[T] {
	return a.items[:a.count:a.count]
}

// Append adds records at the end. It is amortised O(1) per record: when the
// file is full, its capacity doubles (the file grows, then is mapped again),
// which invalidates slices from [Array.Items]. The records are durable only
// after [Array.Sync].
func (a *Array[T]) Append(v ...T) error {
	if a.count+len(v) > a.prefaultedTo {
		if err := a.prepare(len(v)); err != nil {
			return err
		}
	}
	if len(v) == 1 {
		a.items[a.count] = v[0] // no call to memmove for the common case
		a.count++
		return nil
	}
	a.count += copy(a.items[a.count:], v)
	return nil
}

// prefaultBytes is how far ahead of the records Append prefaults pages.
const prefaultBytes = 2 << 20

// prepare makes room for n more records and prefaults the pages they and
// the next prefaultBytes will land on, so that Append does not take a page
// fault for each new page.
func (a *Array[T]) prepare(n int) error {
	if err := a.reserve(n); err != nil {
		return err
	}
	start, end := max(a.prefaultedTo, a.count), min(len(a.items), a.count+n+prefaultBytes/a.l.size)
	a.items[start:end].Bytes().prefaultWrite()
	a.prefaultedTo = end
	return nil
}

// Grow makes room for n more records, so that the next n appends do not
// grow the file. It invalidates slices from [Array.Items] if the file grows.
func (a *Array[T]) Grow(n int) error {
	if n < 0 {
		return fileErrorf(ErrInvalid, a.path, "Grow(%d): negative count", n)
	}
	return a.reserve(n)
}

// reserve makes room for n more records, doubling the capacity at least.
func (a *Array[T]) reserve(n int) error {
	if err := a.usable(true); err != nil {
		return err
	}
	if n > maxInt-a.count {
		return fileErrorf(ErrRange, a.path, "%d more records overflow an int", n)
	}
	need := a.count + n
	if need <= len(a.items) {
		return nil
	}
	return inFile("grow", a.path, a.setCapacity(max(need, 2*len(a.items))))
}

// Truncate keeps the first n records and drops the rest; n must be between
// 0 and Len. The new count is synced at once, so that records appended
// later can never be mistaken for the dropped ones after a crash. The file
// shrinks when it has room for more than twice the records; that
// invalidates slices from [Array.Items].
func (a *Array[T]) Truncate(n int) error {
	if err := a.usable(true); err != nil {
		return err
	}
	if n < 0 || n > a.count {
		return fileErrorf(ErrRange, a.path, "Truncate(%d) of an array of %d records", n, a.count)
	}
	a.count = n
	if err := a.Sync(); err != nil {
		return err
	}
	if keep := a.minCapacity(n); len(a.items) > 2*keep {
		if err := a.setCapacity(keep); err != nil {
			return inFile("shrink", a.path, err)
		}
		return a.Sync()
	}
	return nil
}

// Sync makes the records and their count durable: it writes the records to
// disk and waits, and only then writes the header that counts them, into the
// header slot not in use, so that a crash while writing it leaves the other.
// On a read-only array it does nothing.
func (a *Array[T]) Sync() error {
	if err := a.usable(false); err != nil || !a.writable {
		return err
	}
	return inFile("sync", a.path, a.sync())
}

func (a *Array[T]) sync() error {
	if err := a.items[:a.count].Flush(); err != nil {
		return err
	}
	if a.resizedSinceSync {
		// The records are flushed; the file's new size must be too.
		if err := a.f.Sync(); err != nil {
			return err
		}
		a.resizedSinceSync = false
	}
	next := a.h
	next.seq++
	next.count, next.capacity = uint64(a.count), uint64(len(a.items))
	slot := 1 - a.slot
	at := slotOffset(slot)
	next.marshal(a.m[at:])
	if err := a.m[at : at+slotSize].Flush(); err != nil {
		return err
	}
	a.h, a.slot = next, slot
	return nil
}

// Close syncs a writable array, unmaps it, releases its lock and closes the
// file. Items slices are invalid afterwards. A second Close returns an error
// wrapping [fs.ErrClosed].
func (a *Array[T]) Close() error {
	if a.f == nil {
		return pathError("close", a.path, os.ErrClosed)
	}
	var err error
	if a.m != nil {
		err = a.Sync()
	}
	return errors.Join(err, a.release())
}

// release unmaps the file, unlocks and closes it, and marks a closed.
func (a *Array[T]) release() error {
	err := a.m.Unmap()
	unlockErr := withFD(a.f, unlockFile)
	closeErr := a.f.Close()
	a.f, a.count = nil, 0
	a.setMapping(nil)
	return inFile("close", a.path, errors.Join(err, unlockErr, closeErr))
}
