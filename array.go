package mmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

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
// second writer, in this process or another, by this name or another (a
// symbolic or hard link), gets [ErrLocked]. Open with
// RDONLY makes a reader, which may open while the writer works: it sees
// what the writer synced, with [Array.Refresh] or [Array.Wait], and never a
// torn record. While readers have the file open, what would change records
// under them is refused with ErrLocked: Create over the file, and Truncate.
// While a writer has the file, a sidecar file (the name with ".meta"
// added, next to the file that symbolic links lead to) lies next to it; the
// writer's Close removes it when no reader is left. A writer refuses a
// sidecar that someone else could have planted (a link, a file of another
// user, one open to others); a reader does without one it cannot trust, and
// then reads the count from the file's header (SECURITY.md). The locks are
// advisory: they keep out other Arrays, not other programs. Where the OS
// cannot lock a file by what it is rather than by its name (Linux before
// 3.15, macOS, the BSDs, Solaris, AIX), a file with more than one hard link
// is refused for writing. On AIX, whose locks belong to the process,
// readers in the writer's own process are not seen.
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
	shared   bool        // a reader that holds the shared lock on the file
	inode    bool        // the writer holds the lock on the file itself (lockInode)
	created  bool        // Create made the file, and removes it if it fails
	id       fileid.Info // the file's identity, which its sidecar records, as opened
	sidePath string      // where the sidecar is, or would be

	hdr    []byte      // the header as last written or read
	h      *npy.Header // hdr, parsed
	synced int         // the count that hdr and the sidecar hold

	mu       sync.Mutex // serializes changes to the mappings
	views    []MMap     // every mapping of the file, newest last, kept until Close
	size     int64      // the file's size
	capacity int        // records the file has room for
	rec      Slice[T]   // the writer's: room for capacity records, in the newest view
	room     atomic.Pointer[Slice[T]]
	count    int          // the writer's: records appended
	pub      atomic.Int64 // the records that Len and Items show
	wake     notifier     // goroutines waiting in Wait on the writer, and Close

	// closed is set when Close begins. Wait, and Follow as it reads a
	// record, hold closing shared; Close takes it exclusively, having woken
	// them, so that it never unmaps what they read.
	closed  atomic.Bool
	closing sync.RWMutex

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

// Create creates the named file as an empty Array of T, or empties it if
// it exists, and opens it as its writer. It fails with [ErrLocked], and
// changes nothing, when another writer or any reader has the file open. It
// changes nothing either when it fails for want of disk space or address
// space: the room for records is allocated and mapped before the new
// header is written. The old file's bytes past the new header are spare
// room, which Close cuts off.
func Create[T any](path string, opts ...Option) (*Array[T], error) {
	o := options{perm: 0o666}
	for _, opt := range opts {
		opt(&o)
	}
	if o.capacity < 0 {
		return nil, wrapErr("", path, errorf(ErrInvalid, "negative capacity %d", o.capacity))
	}
	a, err := newArray[T](path)
	if err != nil {
		return nil, err
	}
	hdr, h, err := newHeader(a.t, 0)
	if err != nil {
		return nil, wrapErr("create", path, err)
	}
	a.f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, o.perm)
	a.created = err == nil
	if errors.Is(err, fs.ErrExist) {
		a.f, err = openRegular(path, os.O_RDWR)
	}
	if err != nil {
		return nil, wrapErr("create", path, err)
	}
	a.writable = true
	if err := a.initialize(hdr, h, o); err != nil {
		return nil, a.fail("create", err)
	}
	return a, nil
}

// newArray checks T and starts an Array of it.
func newArray[T any](path string) (*Array[T], error) {
	l, t, err := arrayType[T]()
	if err != nil {
		return nil, err
	}
	return &Array[T]{path: path, l: l, t: t}, nil
}

// initialize writes a new, empty array into the file, as its writer.
// Nothing of the file is lost until its new header is written: the room
// for records is allocated and mapped, and the sidecar written, first, so
// that a Create that fails (a full disk, no address space) leaves the
// array that was there as it was. Its records become spare room, which
// the new header does not count.
func (a *Array[T]) initialize(hdr []byte, h *npy.Header, o options) error {
	if err := a.openSidecarForWriter(); err != nil {
		return err
	}
	unlock, err := a.lockOutReaders("Create would truncate it under them")
	if err != nil {
		return err
	}
	defer unlock()
	a.hdr, a.h, a.size = hdr, h, a.id.Size
	if err := a.setCapacity(a.minCapacity(o.capacity)); err != nil {
		return err
	}
	if err := a.side.init(a.id.Dev, a.id.Ino, npy.State{Header: hdr, H: h}); err != nil {
		return err
	}
	if _, err := a.f.WriteAt(hdr, 0); err != nil {
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
		a.f, err = openRegular(path, os.O_RDONLY)
	case RDWR:
		a.f, err = openRegular(path, os.O_RDWR)
		a.writable = true
	default:
		return nil, wrapErr("", path, errorf(ErrInvalid, "Open takes RDONLY or RDWR, got prot %#x", prot))
	}
	if err != nil {
		return nil, wrapErr("open", path, err)
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
	if err := a.openSidecarForWriter(); err != nil {
		return err
	}
	if err := a.side.read(a.id.Dev, a.id.Ino); err != nil {
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
	if err := a.side.init(a.id.Dev, a.id.Ino, st); err != nil {
		return err
	}
	a.side.publish(a.count)
	return nil
}

// openSidecarForWriter identifies the file, takes the writer's lock on it,
// and opens and locks its sidecar.
func (a *Array[T]) openSidecarForWriter() error {
	if err := a.identify(); err != nil {
		return err
	}
	if err := a.lockWriter(); err != nil {
		return err
	}
	var err error
	a.side, err = lockSidecar(a.sidePath, a.id, a.inode)
	return err
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
	a.side = openSidecar(a.sidePath, a.id)
	_, err := a.load(a.side)
	return err
}

// identify reads the file's identity, and finds where its sidecar is.
func (a *Array[T]) identify() (err error) {
	if a.id, err = fileid.Stat(a.f); err != nil {
		return err
	}
	a.sidePath, err = sidecarPath(a.path, a.id)
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
	if err := checkAlign(st.H, a.l.name, a.l.align); err != nil {
		return npy.State{}, err
	}
	if err := checkSize(st.H, st.Count, a.l.size, fi.Size()); err != nil {
		return npy.State{}, err
	}
	a.hdr, a.h = st.Header, st.H
	a.count, a.synced = int(st.Count), int(st.Count)
	a.pub.Store(st.Count)
	return st, a.mapFile(fi.Size())
}

// usable reports why the array cannot be used, if it cannot.
func (a *Array[T]) usable(write bool) error {
	switch {
	case a.closed.Load() || a.f == nil:
		return wrapErr("use", a.path, os.ErrClosed)
	case write && !a.writable:
		return wrapErr("", a.path, errorf(ErrInvalid, "opened read-only; Open it with RDWR to change it"))
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

// Close syncs a writer, unmaps the file, releases the locks and closes it.
// A writer with no reader left also cuts the file to its last record, as
// the .npy readers expect, and removes the sidecar; otherwise the next
// writer's Close does. Items slices are invalid afterwards. Goroutines in
// Wait or Follow return an error wrapping [fs.ErrClosed]; Close waits for
// them to go. A second Close returns an error wrapping fs.ErrClosed.
func (a *Array[T]) Close() error {
	if a.f == nil || a.closed.Swap(true) {
		return wrapErr("close", a.path, os.ErrClosed)
	}
	a.stopWaiters()
	defer a.closing.Unlock()
	var err error
	if a.writable {
		if err = a.sync(); err == nil {
			err = a.trim()
		}
	}
	return errors.Join(wrapErr("close", a.path, err), a.release())
}

// trim cuts the file to its last record and removes the sidecar, if no
// reader has the file open.
func (a *Array[T]) trim() error {
	unlock, err := a.lockOutReaders("Close would cut the file under them")
	if errors.Is(err, ErrLocked) {
		return nil // the next writer's Close trims
	}
	if err != nil {
		return err
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
	return wrapErr(op, a.path, err)
}

// release unmaps the file and the sidecar, unlocks and closes them, and
// marks a closed.
func (a *Array[T]) release() error {
	err := a.unmapAll()
	err = errors.Join(err, a.side.close())
	// At once: Windows may take a while to release the locks of a closed
	// handle.
	if a.shared {
		err = errors.Join(err, withFD(a.f, unlockFile))
	}
	if a.inode {
		err = errors.Join(err, withFD(a.f, unlockInode))
	}
	err = errors.Join(err, a.f.Close())
	a.f, a.side, a.count, a.shared, a.inode = nil, nil, 0, false, false
	a.pub.Store(0)
	return wrapErr("close", a.path, err)
}
