package mmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedmmap/mmap/internal/fileid"
	"github.com/typedmmap/mmap/internal/npy"
)

// Array is a file of records of a flat type T that knows what it holds. The
// file is a .npy file, which numpy and the other .npy readers open as it is:
// its header names T's fields, its shape counts the records. [Open] refuses
// a file of another type, written on a host of the other byte order, or
// damaged, instead of handing out garbage; it opens .npy files that numpy
// wrote as well. FORMAT.md describes the file.
//
// Records are appended at memory speed ([Array.Append]) and read and changed
// in place through [Array.Items]. [Array.Sync] makes them durable; after a
// crash, Open sees every record of the last completed Sync (and possibly
// later ones), each fully written.
//
// One writer, many readers. Create and Open with RDWR make the writer; a
// second writer, in this process or another, gets [ErrLocked]. Open with
// RDONLY makes a reader, which may open while the writer works: it sees
// what the writer synced, with [Array.Refresh] or [Array.Wait], and never a
// torn record. While readers have the file open, what would change records
// under them is refused with ErrLocked: Create over the file, and Truncate.
// While a writer has the file, a sidecar file (the name with ".meta"
// added) lies next to it; the writer's Close removes it when no reader is
// left. The locks are advisory: they keep out other Arrays, not other
// programs. On AIX, whose locks belong to the process, readers in the
// writer's own process are not seen.
//
// The writer's methods must be called from one goroutine at a time; Len,
// Items and Wait may be called from any goroutine meanwhile, and see the
// records appended so far, each whole. A reader's methods may be called
// from any goroutine.
type Array[T any] struct {
	path     string
	f        *os.File
	side     *sidecar // nil for a reader of a file that has none
	l        *layout
	t        npyType
	writable bool
	shared   bool   // a reader that holds the shared lock on the file
	created  bool   // Create made the file, and removes it if it fails
	dev, ino uint64 // the file's identity, which its sidecar records

	hdr      []byte      // the header as last written or read
	h        *npy.Header // hdr, parsed
	maxCount int64       // the largest count hdr has room for
	synced   int         // the count that hdr and the sidecar hold

	mu       sync.Mutex // serializes changes to the mappings
	views    []MMap     // every mapping of the file, newest last, kept until Close
	size     int64      // the file's size
	capacity int        // records the file has room for
	rec      Slice[T]   // the writer's: room for capacity records, in the newest view
	room     atomic.Pointer[Slice[T]]
	count    int          // the writer's: records appended
	pub      atomic.Int64 // the records that Len and Items show
	wake     notifier     // goroutines waiting in Wait on the writer

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
// appends never grow the file. A full disk makes Create fail.
func WithCapacity(n int) Option { return func(o *options) { o.capacity = n } }

// WithPerm sets the permission bits of a new file (before the umask); the
// default is 0o666, as for [os.Create].
func WithPerm(perm fs.FileMode) Option { return func(o *options) { o.perm = perm } }

// minCapacityBytes is the least room an Array reserves for records.
const minCapacityBytes = 4096

// Create creates the named file as an empty Array of T, or truncates it if
// it exists, and opens it as its writer. It fails with [ErrLocked], and
// changes nothing, when another writer or any reader has the file open.
func Create[T any](path string, opts ...Option) (*Array[T], error) {
	o := options{perm: 0o666}
	for _, opt := range opts {
		opt(&o)
	}
	if o.capacity < 0 {
		return nil, fileErrorf(ErrInvalid, path, "negative capacity %d", o.capacity)
	}
	a, err := newArray[T](path)
	if err != nil {
		return nil, err
	}
	hdr, h, err := newHeader(a.t, 0)
	if err != nil {
		return nil, inFile("create", path, err)
	}
	a.f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, o.perm)
	a.created = err == nil
	if errors.Is(err, fs.ErrExist) {
		a.f, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, pathError("create", path, err)
	}
	a.writable = true
	if err := a.initialize(hdr, h, o); err != nil {
		return nil, a.fail("create", err)
	}
	return a, nil
}

// newArray checks T and starts an Array of it.
func newArray[T any](path string) (*Array[T], error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, err
	}
	t, err := numpyType(l)
	if err != nil {
		return nil, err
	}
	return &Array[T]{path: path, l: l, t: t}, nil
}

// initialize writes a new, empty array into the file, as its writer.
func (a *Array[T]) initialize(hdr []byte, h *npy.Header, o options) error {
	var err error
	if a.side, err = lockSidecar(a.path, o.perm); err != nil {
		return err
	}
	unlock, err := a.lockOutReaders("Create would truncate it under them")
	if err != nil {
		return err
	}
	defer unlock()
	if err := a.identify(); err != nil {
		return err
	}
	if err := a.f.Truncate(0); err != nil {
		return err
	}
	if _, err := a.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	a.hdr, a.h, a.maxCount, a.size = hdr, h, h.MaxCount(), int64(len(hdr))
	if err := a.side.init(a.dev, a.ino, npy.State{Header: hdr, H: h}); err != nil {
		return err
	}
	if err := a.setCapacity(a.minCapacity(o.capacity)); err != nil {
		return err
	}
	if err := a.f.Sync(); err != nil {
		return err
	}
	a.resizedSinceSync = false
	a.side.publish(0)
	return syncDir(filepath.Dir(a.path))
}

// minCapacity is the capacity an array of n records keeps at least.
func (a *Array[T]) minCapacity(n int) int { return max(n, minCapacityBytes/a.l.size, 1) }

// Open opens the named array file of T: an Array file, or a .npy file that
// numpy or another program wrote. With RDONLY it opens as a reader, with
// RDWR as the writer. It refuses, with an error that shows the file's
// numpy type and T's, a file that holds another type ([ErrType]; field
// names count, and so do an array type's dimensions) or the other byte order
// ([ErrByteOrder]), and one that is not a valid .npy file or counts more
// records than it holds ([ErrFormat]).
//
// The writer of a file that another program wrote changes records in place;
// it can append as long as the header has room to count them, as numpy 1.24
// and later leave. Past that, Append fails and says so.
func Open[T any](path string, prot int) (*Array[T], error) {
	a, err := newArray[T](path)
	if err != nil {
		return nil, err
	}
	switch prot {
	case RDONLY:
		a.f, err = os.Open(path)
	case RDWR:
		a.f, err = os.OpenFile(path, os.O_RDWR, 0)
		a.writable = true
	default:
		return nil, fileErrorf(ErrInvalid, path, "Open takes RDONLY or RDWR, got prot %#x", prot)
	}
	if err != nil {
		return nil, pathError("open", path, err)
	}
	if a.writable {
		err = a.openWriter()
	} else {
		err = a.openReader()
	}
	if err != nil {
		return nil, a.fail("open", err)
	}
	return a, nil
}

// openWriter takes the writer's lock, recovers the file's state from its
// header and sidecar, repairs a torn header, and maps the file.
func (a *Array[T]) openWriter() error {
	fi, err := a.f.Stat()
	if err != nil {
		return err
	}
	if a.side, err = lockSidecar(a.path, fi.Mode().Perm()); err != nil {
		return err
	}
	if err := a.identify(); err != nil {
		return err
	}
	if err := a.side.read(a.dev, a.ino); err != nil {
		return err
	}
	st, err := a.load(a.side)
	if err != nil {
		return err
	}
	if st.Torn {
		// A crash tore the header, or came before it was written: the
		// sidecar's newest slot holds the one that counts what is durable.
		if err := a.writeHeader(st.Header); err != nil {
			return err
		}
	}
	if err := a.side.init(a.dev, a.ino, st); err != nil {
		return err
	}
	a.side.publish(a.count)
	return nil
}

// openReader takes a reader's lock, reads the file's state, and maps it.
func (a *Array[T]) openReader() error {
	if err := a.lock(false); err != nil {
		return err
	}
	a.shared = true
	if err := a.identify(); err != nil {
		return err
	}
	a.side = openSidecar(a.path, a.dev, a.ino)
	_, err := a.load(a.side)
	return err
}

// lockWait is how long a reader's Open waits for a writer that holds every
// reader out for a moment (Create, Truncate, Close).
const lockWait = time.Second

// lock takes the lock on the file itself: shared for a reader, waiting up
// to lockWait; exclusive, without waiting, to keep readers out.
func (a *Array[T]) lock(exclusive bool) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := withFD(a.f, func(fd uintptr) error { return lockFile(fd, exclusive) })
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, ErrLocked):
			return pathError("lock", a.path, err)
		case exclusive:
			return ErrLocked
		case time.Now().After(deadline):
			return fileErrorf(ErrLocked, a.path, "a writer has held every reader out for %v", lockWait)
		}
		time.Sleep(time.Millisecond)
	}
}

// lockOutReaders takes the exclusive lock on the file, which no reader can
// hold with it, and returns how to release it; an error wrapping ErrLocked
// says that readers have the file open, and why that stops the caller.
func (a *Array[T]) lockOutReaders(why string) (func(), error) {
	if err := a.lock(true); err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, fileErrorf(ErrLocked, a.path, "readers have it open; %s", why)
		}
		return nil, err
	}
	return func() { withFD(a.f, unlockFile) }, nil
}

// identify reads the file's identity.
func (a *Array[T]) identify() (err error) {
	a.dev, a.ino, err = fileid.Of(a.f)
	return err
}

// load reads the file's state (with the sidecar side, if any), checks it
// against T and the file's size, and maps the file.
func (a *Array[T]) load(side *sidecar) (npy.State, error) {
	fi, err := a.f.Stat()
	if err != nil {
		return npy.State{}, err
	}
	st, err := readState(a.f, fi.Size(), side)
	if err != nil {
		return npy.State{}, err
	}
	if err := checkType(st.H, a.t, a.l.name); err != nil {
		return npy.State{}, err
	}
	if err := checkSize(st.H, st.Count, a.l.size, fi.Size()); err != nil {
		return npy.State{}, err
	}
	a.hdr, a.h, a.maxCount = st.Header, st.H, st.H.MaxCount()
	a.count, a.synced = int(st.Count), int(st.Count)
	a.pub.Store(st.Count)
	a.size = fi.Size()
	return st, a.mapFile()
}

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

// mapFile makes the newest view cover the whole file, mapping a new one if
// it does not, and sets the room for records. Views are never unmapped
// before Close, so slices from Items stay valid.
func (a *Array[T]) mapFile() error {
	if n := len(a.views); n == 0 || int64(len(a.views[n-1])) < a.size {
		prot := RDONLY
		if a.writable {
			prot = RDWR
		}
		m, err := mapReserve(a.f, a.size, prot)
		if err != nil {
			return err
		}
		a.views = append(a.views, m)
	}
	a.capacity = int((a.size - int64(a.h.Len)) / int64(a.l.size))
	view := a.views[len(a.views)-1]
	rec := Slice[T](castSlice[T](view[a.h.Len : int64(a.h.Len)+int64(a.capacity)*int64(a.l.size)]))
	a.rec = rec
	a.room.Store(&rec)
	return nil
}

// setCapacity grows the file to hold n records, with its blocks allocated,
// so that a full disk is an error here and never a fault later. The file
// never shrinks while it is open.
func (a *Array[T]) setCapacity(n int) error {
	if n <= a.capacity {
		return nil
	}
	if n > (maxInt-a.h.Len)/a.l.size {
		return errorf(ErrRange, "%d records of %d bytes do not fit in an int", n, a.l.size)
	}
	size := int64(a.h.Len) + int64(n)*int64(a.l.size)
	if err := allocate(a.f, a.size, size); err != nil {
		return pathError("allocate", a.path, err)
	}
	a.size, a.resizedSinceSync = size, true
	return a.mapFile()
}

// usable reports why the array cannot be used, if it cannot.
func (a *Array[T]) usable(write bool) error {
	switch {
	case a.f == nil:
		return pathError("use", a.path, os.ErrClosed)
	case write && !a.writable:
		return fileErrorf(ErrInvalid, a.path, "opened read-only; Open it with RDWR to change it")
	}
	return nil
}

// Len returns the number of records: for the writer, those appended; for a
// reader, those that the writer had synced at the last Refresh.
func (a *Array[T]) Len() int { return int(a.pub.Load()) }

// Offset returns the byte offset of record 0 in the file: the length of the
// .npy header. The records are contiguous, Len of them, in the host's byte
// order.
func (a *Array[T]) Offset() int64 {
	if a.h == nil {
		return 0
	}
	return int64(a.h.Len)
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
// syscall.ENOSPC), and the array stays as it was. The records are durable,
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
// fault for each new page.
func (a *Array[T]) prepare(n int) error {
	if err := a.reserve(n); err != nil {
		return err
	}
	start, end := max(a.prefaultedTo, a.count), min(a.capacity, a.count+n+prefaultBytes/a.l.size)
	a.rec[start:end].Bytes().prefaultWrite()
	a.prefaultedTo = end
	return nil
}

// Grow makes room for n more records, so that the next n appends do not
// grow the file; as for Append, a full disk is an error.
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
	if int64(need) > a.maxCount {
		return fileErrorf(ErrRange, a.path, "the header has room to count %d records, not %d; numpy 1.24 and later leave room for more (or rewrite the file with Create)", a.maxCount, need)
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
	return inFile("grow", a.path, err)
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
		return fileErrorf(ErrRange, a.path, "Truncate(%d) of an array of %d records", n, a.count)
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
	return inFile("sync", a.path, a.sync())
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

// Close syncs a writer, unmaps the file, releases the locks and closes it.
// A writer with no reader left also cuts the file to its last record, as
// the .npy readers expect, and removes the sidecar; otherwise the next
// writer's Close does. Items slices are invalid afterwards. A second Close
// returns an error wrapping [fs.ErrClosed].
func (a *Array[T]) Close() error {
	if a.f == nil {
		return pathError("close", a.path, os.ErrClosed)
	}
	var err error
	if a.writable {
		if err = a.Sync(); err == nil {
			err = a.trim()
		}
	}
	return errors.Join(inFile("close", a.path, err), a.release())
}

// trim cuts the file to its last record and removes the sidecar, if no
// reader has the file open.
func (a *Array[T]) trim() error {
	unlock, err := a.lockOutReaders("")
	if err != nil {
		return nil // readers have it: the next writer's Close trims
	}
	defer unlock()
	if err := a.unmapAll(); err != nil {
		return err
	}
	if end := int64(a.h.Len) + int64(a.count)*int64(a.l.size); end < a.size {
		if err := a.f.Truncate(end); err != nil {
			return err
		}
	}
	err = a.side.remove()
	a.side = nil
	return err
}

// unmapAll unmaps every view of the file.
func (a *Array[T]) unmapAll() error {
	var err error
	for i := range a.views {
		err = errors.Join(err, a.views[i].Unmap())
	}
	a.views, a.rec, a.capacity, a.prefaultedTo = nil, nil, 0, 0
	a.room.Store(nil)
	return err
}

// fail undoes a Create or Open that failed with err: it removes the files
// that it created, and releases the rest.
func (a *Array[T]) fail(op string, err error) error {
	if a.side != nil && a.side.created {
		a.side.remove()
		a.side = nil
	}
	a.release()
	if a.created {
		os.Remove(a.path)
	}
	return inFile(op, a.path, err)
}

// release unmaps the file and the sidecar, unlocks and closes them, and
// marks a closed.
func (a *Array[T]) release() error {
	err := a.unmapAll()
	err = errors.Join(err, a.side.close())
	if a.shared {
		// At once: Windows may take a while to release the locks of a
		// closed handle.
		err = errors.Join(err, withFD(a.f, unlockFile))
	}
	err = errors.Join(err, a.f.Close())
	a.f, a.side, a.count = nil, nil, 0
	a.pub.Store(0)
	return inFile("close", a.path, err)
}
