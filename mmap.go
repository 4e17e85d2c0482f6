// Package mmap maps files into memory, as bytes and as arrays of fixed-size
// records.
//
// The package has three layers. [MMap] is a mapped region of a file (or of
// anonymous memory) seen as a []byte; [Map], [MapRegion], [MMap.Flush],
// [MMap.Lock], [MMap.Unlock] and [MMap.Unmap] keep the names, signatures and
// constant values of github.com/edsrzf/mmap-go, so a program switches by
// changing its import line. [Slice] is the same memory seen as a []T of a flat
// type T, after the type, the alignment and the size have been checked. [Array]
// is a self-describing file of records that can be created, reopened with a
// type check, grown and synced.
//
// Every operation behaves the same on every supported OS: an empty file maps
// to an empty, non-nil MMap; any offset is accepted (the package aligns the
// mapping to the page size, or on Windows to the 64 KiB allocation
// granularity, and returns the slice that starts at the requested byte); a
// region that would reach past the end of the file is refused with an error
// wrapping [ErrRange] instead of being mapped.
//
// # Concurrency
//
// Map, MapRegion and the methods of MMap may be called from any goroutine.
// The bytes of a mapping are plain memory: concurrent reads are safe, and
// concurrent writes, or a write concurrent with a read, need the caller's own
// synchronization, as with any []byte. Unmap must not run concurrently with
// any other use of the same mapping.
//
// # Caveats
//
// An MMap must not be used after Unmap: the memory is gone, and touching it
// crashes the process. Sub-slices and typed views share that lifetime.
//
// If the file is truncated, by this process or another, while it is mapped,
// reading or writing the lost pages raises SIGBUS on Unix and crashes the
// process. [MMap.ReadAt] and [MMap.WriteAt] catch that fault and return an
// error wrapping [ErrFault]; direct indexing cannot. Windows refuses to
// truncate a file that is mapped.
//
// Typed views use the host's byte order; [Array] files record it and refuse
// to open on a host of the other order.
//
// On 32-bit platforms a region must fit in the address space; a region whose
// length does not fit in an int is refused with [ErrRange].
package mmap

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
)

// Protection bits for the prot argument of [Map] and [MapRegion]. The values
// are those of mmap-go.
const (
	// RDONLY maps the memory read-only. Writing to it crashes the process.
	RDONLY = 0
	// RDWR maps the memory read-write; writes reach the file.
	RDWR = 1 << iota
	// COPY maps the memory copy-on-write; writes stay private to the process
	// and never reach the file. COPY wins over RDWR.
	COPY
	// EXEC maps the memory executable. On Windows a file must be opened
	// with execute access for that, which os.Open and os.OpenFile do not
	// ask for; anonymous memory (ANON) can always be executable.
	EXEC
)

// Flags for the flags argument of [Map] and [MapRegion].
const (
	// ANON maps anonymous, zeroed memory that no file backs.
	ANON = 1 << iota
	// POPULATE reads the whole region in while mapping it (MAP_POPULATE on
	// Linux; elsewhere the same as Advise(WillNeed) right after mapping).
	POPULATE
)

const (
	knownProt  = RDWR | COPY | EXEC
	knownFlags = ANON | POPULATE
)

// Errors returned by the package. Detailed errors wrap one of these; test
// with [errors.Is].
var (
	// ErrInvalid reports an argument that can never be valid: unknown prot
	// or flags bits, a nil file, or a slice the package did not map.
	ErrInvalid = errors.New("mmap: invalid argument")
	// ErrRange reports an offset or length outside the file or the mapping,
	// or too large for an int. See [RangeError].
	ErrRange = errors.New("mmap: out of range")
	// ErrFault reports a memory fault caught by [MMap.ReadAt] or
	// [MMap.WriteAt]: the file shrank under the mapping, or the memory is
	// read-only.
	ErrFault = errors.New("mmap: memory fault")
	// ErrAlignment reports a typed view whose start is not aligned for its
	// element type. See [AlignmentError].
	ErrAlignment = errors.New("mmap: misaligned view")
	// ErrSize reports a typed view whose byte length is not a whole number
	// of elements. See [SizeError].
	ErrSize = errors.New("mmap: length not a multiple of the element size")
	// ErrType reports a type that is not flat and so cannot be mapped (see
	// [TypeError]), or an [Array] file that holds records of another layout.
	ErrType = errors.New("mmap: type cannot be mapped")
	// ErrFormat reports a file that is not a valid [Array] file: bad magic,
	// version or checksum, or a header that counts more than the file holds.
	ErrFormat = errors.New("mmap: not a valid array file")
	// ErrByteOrder reports an [Array] file written on a host of the other
	// byte order.
	ErrByteOrder = errors.New("mmap: array file has the other byte order")
	// ErrLocked reports an [Array] file that another writer (or, for a
	// writer, another reader) has open, in this process or another.
	ErrLocked = errors.New("mmap: array file is locked")
)

// RangeError reports a region that does not lie within a file or a mapping.
// It wraps [ErrRange].
type RangeError struct {
	Offset int64 // start of the region, in bytes
	Length int64 // length of the region, in bytes
	Size   int64 // size of the file or mapping, in bytes
}

func (e *RangeError) Error() string {
	what := "does not fit in an int on this platform"
	switch {
	case e.Offset < 0:
		what = "has a negative offset"
	case e.Offset > e.Size:
		what = "starts past the end"
	case e.Length > e.Size-e.Offset:
		what = "runs past the end"
	}
	return fmt.Sprintf("mmap: region at offset %d, length %d %s (size %d)", e.Offset, e.Length, what, e.Size)
}

func (e *RangeError) Unwrap() error { return ErrRange }

// FaultError reports a memory fault at Addr, caught during [MMap.ReadAt] or
// [MMap.WriteAt]. It wraps [ErrFault].
type FaultError struct {
	Addr uintptr // the faulting address, or 0 where the OS does not say
	Op   string  // "read" or "write"
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("mmap: fault on %s at address %#x (file truncated under the mapping, or memory not writable)", e.Op, e.Addr)
}

func (e *FaultError) Unwrap() error { return ErrFault }

// AlignmentError reports a typed view that would start at an address not
// aligned for its element type. It wraps [ErrAlignment].
type AlignmentError struct {
	Type   string  // the element type
	Offset int64   // the view's offset in its file; meaningful when Addr is 0
	Addr   uintptr // the view's address, when it has no file
	Align  int     // the alignment Type needs
}

func (e *AlignmentError) Error() string {
	if e.Addr != 0 {
		return fmt.Sprintf("mmap: address %#x is %d-byte aligned; %s needs %d", e.Addr, e.Addr&-e.Addr, e.Type, e.Align)
	}
	return fmt.Sprintf("mmap: offset %d is %d-byte aligned; %s needs %d", e.Offset, e.Offset&-e.Offset, e.Type, e.Align)
}

func (e *AlignmentError) Unwrap() error { return ErrAlignment }

// SizeError reports a typed view whose byte length is not a whole number of
// elements. It wraps [ErrSize].
type SizeError struct {
	Type     string // the element type
	Length   int64  // the byte length of the region
	ElemSize int    // the size of Type
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("mmap: %d bytes are not a whole number of %s (%d bytes each): %d bytes left over",
		e.Length, e.Type, e.ElemSize, e.Length%int64(e.ElemSize))
}

func (e *SizeError) Unwrap() error { return ErrSize }

// TypeError reports a type that is not flat. It wraps [ErrType].
type TypeError struct {
	Type    string // the type, as Go prints it
	Field   string // path of the field at fault ("Pos.X", "Tags[i]"), or "" for the type itself
	Problem string // what is wrong, and the fix
}

func (e *TypeError) Error() string { return "mmap: cannot map " + e.Type + ": " + e.Problem }

func (e *TypeError) Unwrap() error { return ErrType }

// detailError is an error of one of the sentinel kinds with its own message.
type detailError struct {
	kind error
	msg  string
}

func (e *detailError) Error() string { return "mmap: " + e.msg }
func (e *detailError) Unwrap() error { return e.kind }

// errorf returns an error wrapping kind, with a formatted message.
func errorf(kind error, format string, args ...any) error {
	return &detailError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

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
// gives an empty, non-nil MMap. A region that does not lie within the file is
// an error of type [*RangeError]; the file is never extended.
//
// With ANON, f is ignored and may be nil, length must be positive and offset
// must be 0; the memory is zeroed.
//
// The file may be closed as soon as MapRegion returns; the mapping stays valid
// until [MMap.Unmap].
func MapRegion(f *os.File, length int, prot, flags int, offset int64) (MMap, error) {
	return mapRegion(f, length, prot, flags, offset, func(int) error { return nil })
}

// mapRegion is MapRegion with check called on the region's length in bytes
// before anything is mapped; its error is returned as is.
func mapRegion(f *os.File, length int, prot, flags int, offset int64, check func(n int) error) (MMap, error) {
	if prot&^knownProt != 0 {
		return nil, errorf(ErrInvalid, "unknown prot bits %#x (use RDONLY, RDWR, COPY, EXEC)", prot&^knownProt)
	}
	if flags&^knownFlags != 0 {
		return nil, errorf(ErrInvalid, "unknown flags bits %#x (use ANON, POPULATE)", flags&^knownFlags)
	}
	if flags&ANON != 0 {
		if length <= 0 || offset != 0 {
			return nil, errorf(ErrInvalid, "ANON needs a positive length and offset 0, got length %d, offset %d", length, offset)
		}
		if err := check(length); err != nil {
			return nil, err
		}
		return mapAligned(nil, 0, 0, length, prot, flags)
	}
	if f == nil {
		return nil, errorf(ErrInvalid, "nil file")
	}
	var m MMap
	err := withFD(f, func(fd uintptr) error {
		size, err := fileSize(fd)
		if err != nil {
			return &os.PathError{Op: "stat", Path: f.Name(), Err: err}
		}
		n, err := region(size, offset, int64(length))
		if err == nil {
			err = check(n)
		}
		if err != nil || n == 0 {
			m = MMap{}
			return err
		}
		m, err = mapAligned(f, fd, offset, n, prot, flags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// withFD runs fn with f's descriptor (a handle on Windows), which stays open
// until fn returns even if another goroutine closes f. A closed f is
// fs.ErrClosed on every OS.
func withFD(f *os.File, fn func(fd uintptr) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(fd) }); err != nil {
		return &os.PathError{Op: "mmap", Path: f.Name(), Err: os.ErrClosed}
	}
	return fnErr
}

// region checks that length bytes at offset lie within size bytes and returns
// the length as an int; a negative length means "to the end". The mapping also
// covers up to one allocation granule before offset, so that must fit in an
// int too.
func region(size, offset, length int64) (int, error) {
	if length < 0 {
		length = size - offset
	}
	if offset < 0 || offset > size || length > size-offset {
		return 0, &RangeError{Offset: offset, Length: length, Size: size}
	}
	// Narrowing to int: the whole mapping, including the part before offset
	// that alignment adds, must be addressable.
	if length > int64(maxInt-granularity()) {
		return 0, &RangeError{Offset: offset, Length: length, Size: size}
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
			return nil, os.NewSyscallError("mmap", err)
		}
		return nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
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
	return syscallErr("flush", flush(pages, mp.h))
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
	return syscallErr(op, fn(pages))
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

// Advice is a hint to the OS about how a mapping will be used; see
// [MMap.Advise].
type Advice int

// Advice values. Each maps to the OS's own constant (madvise on Unix). On
// Windows only WillNeed has an effect (PrefetchVirtualMemory); the others are
// accepted and do nothing.
const (
	Normal     Advice = iota // no special treatment
	Sequential               // read ahead aggressively, drop pages soon after use
	Random                   // do not read ahead
	WillNeed                 // read the pages in now
	DontNeed                 // the pages may be dropped from RAM; their content is kept
)

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
	return syscallErr("advise", advise(pages, a))
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
		return 0, &RangeError{Offset: off, Length: int64(len(p)), Size: int64(len(m))}
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
		return 0, &RangeError{Offset: off, Length: int64(len(p)), Size: int64(len(m))}
	}
	n, err = faultSafeCopy(m[off:], p, m[off:], "write")
	if err == nil && n < len(p) {
		err = &RangeError{Offset: off, Length: int64(len(p)), Size: int64(len(m))}
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

// syscallErr wraps an OS error once, naming the operation.
func syscallErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(op, err)
}

// A mapping is one region mapped by the OS, with the part of it handed out.
type mapping struct {
	mem   []byte // the whole OS mapping, from the aligned-down offset
	off   int    // where the caller's bytes start in mem
	n     int    // how many bytes the caller got
	prot  int
	flags int
	h     sysHandle
}

// user returns the slice handed to the caller, with its capacity capped so
// that append cannot reach the alignment slack.
func (mp *mapping) user() []byte { return mp.mem[mp.off : mp.off+mp.n : mp.off+mp.n] }

// fileWritable reports whether writes to the mapping reach a file.
func (mp *mapping) fileWritable() bool {
	return mp.flags&ANON == 0 && mp.prot&COPY == 0 && mp.prot&RDWR != 0
}

// private reports whether the mapping's changes are private to the process.
func (mp *mapping) private() bool { return mp.prot&COPY != 0 }

// registry holds every live mapping, ordered by address, so that a slice can
// be traced back to the mapping that contains it.
type registry struct {
	mu   sync.Mutex
	live []*mapping // sorted by address of mem
}

var mappings registry

// find returns the index of the mapping that contains the address a, or -1.
// The caller holds r.mu.
func (r *registry) find(a uintptr) int {
	i, found := slices.BinarySearchFunc(r.live, a, func(mp *mapping, a uintptr) int {
		switch start := addr(mp.mem); {
		case a < start:
			return 1
		case a-start >= uintptr(len(mp.mem)):
			return -1
		}
		return 0
	})
	if !found {
		return -1
	}
	return i
}

func (r *registry) add(mp *mapping) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.insert(mp)
}

// insert puts mp in address order. The caller holds r.mu.
func (r *registry) insert(mp *mapping) {
	a := addr(mp.mem)
	i, _ := slices.BinarySearchFunc(r.live, a, func(x *mapping, a uintptr) int {
		return cmp.Compare(addr(x.mem), a)
	})
	r.live = slices.Insert(r.live, i, mp)
}

// pages returns the mapping that contains b and the page-aligned part of its
// memory that covers b. An empty b gives a nil mapping and no error. A b that
// no mapping contains is an error wrapping ErrInvalid.
func (r *registry) pages(b []byte) (*mapping, []byte, error) {
	if len(b) == 0 {
		return nil, nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(addr(b))
	if i < 0 {
		return nil, nil, errorf(ErrInvalid, "%d bytes at %#x, not mapped by this package (or already unmapped)", len(b), addr(b))
	}
	mp := r.live[i]
	start := int(addr(b) - addr(mp.mem))
	if len(b) > len(mp.mem)-start {
		return nil, nil, errorf(ErrInvalid, "%d bytes at %#x run past the end of their mapping", len(b), addr(b))
	}
	page := os.Getpagesize()
	lo := start - start%page
	hi := min((start+len(b)+page-1)/page*page, len(mp.mem))
	return mp, mp.mem[lo:hi], nil
}

// exact returns the index of the mapping whose caller's slice is exactly m.
// An m that no mapping contains is -1 with no error. The caller holds r.mu.
func (r *registry) exact(m []byte, op string) (int, error) {
	i := r.find(addr(m))
	if i < 0 {
		if len(m) == 0 {
			return -1, nil // nil, or an empty region that was never mapped
		}
		return -1, errorf(ErrInvalid, "%s of %d bytes at %#x, not mapped by this package (or already unmapped)", op, len(m), addr(m))
	}
	mp := r.live[i]
	if addr(m) != addr(mp.user()) || len(m) != mp.n {
		return -1, errorf(ErrInvalid, "%s of a sub-slice (%d bytes at offset %d of a %d-byte mapping); call it on the MMap that Map returned", op, len(m), int(addr(m)-addr(mp.user())), mp.n)
	}
	return i, nil
}

// unmap unmaps the mapping whose caller's slice is exactly m.
func (r *registry) unmap(m []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, err := r.exact(m, "Unmap")
	if i < 0 {
		return err
	}
	mp := r.live[i]
	// Held under r.mu: once the OS frees the range it may hand it out again,
	// and the registry must not hold an overlapping entry at that moment.
	if err := unmap(mp.mem, mp.h); err != nil {
		return syscallErr("unmap", err)
	}
	r.live = slices.Delete(r.live, i, i+1)
	return nil
}

// remap resizes *m, a non-empty whole mapping made from offset 0, to n bytes
// in place (mremap). Where the OS cannot, the error wraps
// errors.ErrUnsupported and nothing changes.
func (r *registry) remap(m *MMap, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, err := r.exact(*m, "remap")
	if i < 0 {
		return err
	}
	mp := r.live[i]
	mem, err := mremap(mp.mem, n)
	if err != nil {
		return syscallErr("mremap", err)
	}
	r.live = slices.Delete(r.live, i, i+1)
	mp.mem, mp.n = mem, n
	r.insert(mp)
	*m = mp.user()
	return nil
}

// resizeFile sets the size of f to size bytes and makes *m, a mapping of
// the whole of f made with prot (or nil, for none yet), cover all of it. If
// it fails, *m still maps the whole file as it was, or is nil if the file
// could not be mapped again.
func resizeFile(m *MMap, f *os.File, size int64, prot int) error {
	if _, err := region(size, 0, -1); err != nil || size <= 0 {
		return &RangeError{Offset: 0, Length: size, Size: size}
	}
	grow := size > int64(len(*m))
	if grow {
		if err := f.Truncate(size); err != nil {
			return err
		}
	}
	if len(*m) == 0 {
		nm, err := Map(f, prot, 0)
		*m = nm
		return err
	}
	switch err := mappings.remap(m, int(size)); {
	case err == nil:
		if !grow {
			return f.Truncate(size)
		}
		return nil
	case !errors.Is(err, errors.ErrUnsupported):
		return err
	case grow:
		// Map the grown file before unmapping the old view, so that *m
		// stays valid if mapping fails.
		nm, err := Map(f, prot, 0)
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
	err := f.Truncate(size)
	nm, mapErr := Map(f, prot, 0)
	*m = nm
	return cmp.Or(err, mapErr)
}
