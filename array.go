package mmap

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"math"
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
	ready    int // records from 0 that can be appended without the slow path
	writable bool
	grown    bool // the file's size changed since the last Sync
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

// hostOrder is this host's byte order, as a header records it.
var hostOrder = func() uint8 {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return littleEndian
	}
	return bigEndian
}()

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
		return nil, errorf(ErrInvalid, "%s: negative capacity %d", path, o.capacity)
	}
	a, err := openLocked[T](path, os.O_RDWR|os.O_CREATE, o.perm, l)
	if err != nil {
		return nil, err
	}
	if err := a.initialize(o.capacity); err != nil {
		a.release()
		return nil, err
	}
	return a, nil
}

// initialize writes a new, empty array into the locked file.
func (a *Array[T]) initialize(capacity int) error {
	if err := fitsHeader(a.path, a.l); err != nil {
		return err
	}
	desc := a.l.desc
	a.h = header{
		order:       hostOrder,
		elemSize:    uint32(a.l.size),
		elemAlign:   uint32(a.l.align),
		fingerprint: a.l.fingerprint,
		dataOffset:  uint64(dataOffsetFor(len(desc))),
		descLen:     uint32(len(desc)),
		descCRC:     crc32.Checksum([]byte(desc), crcTable),
	}
	a.slot = 1 // so that the first Sync writes slot 0
	if err := a.f.Truncate(0); err != nil {
		return err
	}
	if _, err := a.f.WriteAt([]byte(desc), descOffset); err != nil {
		return err
	}
	if err := a.setCapacity(max(capacity, minCapacityBytes/a.l.size, 1)); err != nil {
		return err
	}
	return a.Sync()
}

// fitsHeader refuses a layout that an array file's header cannot record.
func fitsHeader(path string, l *layout) error {
	if len(l.desc) > maxDescLen {
		return errorf(ErrType, "%s: the layout of %s takes %d bytes to describe; an array file holds at most %d", path, l.name, len(l.desc), maxDescLen)
	}
	// Narrowing to the header's uint32: records of 4 GiB or more are refused.
	if uint64(l.size) > math.MaxUint32 {
		return errorf(ErrType, "%s: %s is %d bytes; an array file holds records of less than 4 GiB", path, l.name, l.size)
	}
	return nil
}

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
		return nil, errorf(ErrInvalid, "%s: Open takes RDONLY or RDWR, got prot %#x", path, prot)
	}
	a, err := openLocked[T](path, flag, 0, l)
	if err != nil {
		return nil, err
	}
	if err := a.load(); err != nil {
		a.release()
		return nil, err
	}
	return a, nil
}

// openLocked opens the file and takes the lock that flag calls for.
func openLocked[T any](path string, flag int, perm fs.FileMode, l *layout) (*Array[T], error) {
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	writable := flag&os.O_RDWR != 0
	err = withFD(f, func(fd uintptr) error { return lockFile(fd, writable) })
	if errors.Is(err, ErrLocked) {
		f.Close()
		return nil, errorf(ErrLocked, "%s is open elsewhere (in this process or another); an Array has one writer or any number of readers", path)
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return &Array[T]{path: path, f: f, l: l, writable: writable}, nil
}

// load maps an existing file, then reads and checks its header. Everything
// is read through the mapping, fault-safe, and checked against its length,
// so that a file changed by another program cannot make a view past its end.
func (a *Array[T]) load() error {
	prot := RDONLY
	if a.writable {
		prot = RDWR
	}
	var err error
	if a.m, err = Map(a.f, prot, 0); err != nil {
		return err
	}
	size := int64(len(a.m))
	if size < descOffset {
		return errorf(ErrFormat, "%s: %d bytes is too short for an array file", a.path, size)
	}
	head := make([]byte, descOffset)
	if _, err := a.m.ReadAt(head, 0); err != nil {
		return err
	}
	h, slot, err := readHeader(head)
	if err != nil {
		return errorf(ErrFormat, "%s: %v", a.path, err)
	}
	if err := a.checkHeader(h, size); err != nil {
		return err
	}
	a.h, a.slot, a.count = h, slot, int(h.count)
	a.setItems()
	return nil
}

// checkHeader checks that h describes records of T in this host's byte
// order, stored within the size bytes of the file.
func (a *Array[T]) checkHeader(h header, size int64) error {
	if h.order != hostOrder {
		return errorf(ErrByteOrder, "%s holds %s records; this host is %s", a.path, orderName(h.order), orderName(hostOrder))
	}
	if h.descLen > maxDescLen || int64(h.descLen) > size-descOffset {
		return errorf(ErrFormat, "%s: layout description of %d bytes does not fit in the %d-byte file", a.path, h.descLen, size)
	}
	desc := make([]byte, h.descLen)
	if _, err := a.m.ReadAt(desc, descOffset); err != nil {
		return err
	}
	if crc32.Checksum(desc, crcTable) != h.descCRC {
		return errorf(ErrFormat, "%s: layout description checksum mismatch", a.path)
	}
	if h.elemSize != uint32(a.l.size) || h.elemAlign != uint32(a.l.align) || h.fingerprint != a.l.fingerprint || string(desc) != a.l.desc {
		return errorf(ErrType, "%s holds %d-byte records laid out as %s; %s is %d bytes laid out as %s",
			a.path, h.elemSize, desc, a.l.name, a.l.size, a.l.desc)
	}
	if h.dataOffset != uint64(dataOffsetFor(int(h.descLen))) || h.dataOffset > uint64(size) ||
		h.count > h.capacity || h.count > (uint64(size)-h.dataOffset)/uint64(a.l.size) {
		return errorf(ErrFormat, "%s: header counts %d records (capacity %d) of %d bytes from offset %d, but the file has %d bytes",
			a.path, h.count, h.capacity, a.l.size, h.dataOffset, size)
	}
	return nil
}

func orderName(o uint8) string {
	switch o {
	case littleEndian:
		return "little-endian"
	case bigEndian:
		return "big-endian"
	}
	return "unknown-byte-order"
}

// setItems points a.items at the room for records in the current mapping.
// Nothing of it is prefaulted yet.
func (a *Array[T]) setItems() {
	room := a.m[a.h.dataOffset:]
	room = room[:len(room)/a.l.size*a.l.size]
	a.items = castSlice[T](room, a.l)
	a.ready = min(a.count, len(a.items))
}

// setCapacity resizes the file to hold n records and maps all of it.
func (a *Array[T]) setCapacity(n int) error {
	if n > (maxInt-int(a.h.dataOffset))/a.l.size {
		return errorf(ErrRange, "%s: %d records of %d bytes do not fit in an int", a.path, n, a.l.size)
	}
	err := resizeFile(&a.m, a.f, int64(a.h.dataOffset)+int64(n)*int64(a.l.size), RDWR)
	a.grown = true
	a.items, a.ready = nil, 0
	if a.m != nil {
		a.setItems()
	}
	return err
}

// usable reports why the array cannot be used, if it cannot.
func (a *Array[T]) usable(write bool) error {
	switch {
	case a.f == nil:
		return &os.PathError{Op: "use", Path: a.path, Err: os.ErrClosed}
	case a.m == nil:
		return errorf(ErrInvalid, "%s: the file could not be mapped again after a resize; Close the array and Open it again", a.path)
	case write && !a.writable:
		return errorf(ErrInvalid, "%s is open read-only", a.path)
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
	if a.count+len(v) > a.ready {
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
	start, end := max(a.ready, a.count), min(len(a.items), a.count+n+prefaultBytes/a.l.size)
	a.items[start:end].Bytes().prefaultWrite()
	a.ready = end
	return nil
}

// Grow makes room for n more records, so that the next n appends do not
// grow the file. It invalidates slices from [Array.Items] if the file grows.
func (a *Array[T]) Grow(n int) error {
	if n < 0 {
		return errorf(ErrInvalid, "%s: Grow(%d): negative count", a.path, n)
	}
	return a.reserve(n)
}

// reserve makes room for n more records, doubling the capacity at least.
func (a *Array[T]) reserve(n int) error {
	if err := a.usable(true); err != nil {
		return err
	}
	if n > maxInt-a.count {
		return errorf(ErrRange, "%s: %d more records overflow an int", a.path, n)
	}
	need := a.count + n
	if need <= len(a.items) {
		return nil
	}
	return a.setCapacity(max(need, 2*len(a.items)))
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
		return errorf(ErrRange, "%s: Truncate(%d) of an array of %d records", a.path, n, a.count)
	}
	a.count = n
	if err := a.Sync(); err != nil {
		return err
	}
	if keep := max(n, minCapacityBytes/a.l.size, 1); len(a.items) > 2*keep {
		if err := a.setCapacity(keep); err != nil {
			return err
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
	if err := a.items[:a.count].Flush(); err != nil {
		return err
	}
	if a.grown {
		// The records are flushed; the file's new size must be too.
		if err := a.f.Sync(); err != nil {
			return err
		}
		a.grown = false
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
		return &os.PathError{Op: "close", Path: a.path, Err: os.ErrClosed}
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
	a.f, a.m, a.items, a.count, a.ready = nil, nil, nil, 0, 0
	return errors.Join(err, unlockErr, closeErr)
}
