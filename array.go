package mmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/boot"
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
// in place through [Array.Items]. [Array.Publish] shows them to readers in
// other processes without waiting for the disk; [Array.Sync] makes them
// durable. After a crash of the writer's process, Open sees every record it
// published; after a power cut, every record of the last completed Sync
// (and possibly of a Sync under way), each fully written.
//
// One writer, many readers. Create and Open with RDWR make the writer; a
// second writer, in this process or another, by this name or another (a
// symbolic or hard link), gets [ErrLocked]. Open with
// RDONLY makes a reader, which may open while the writer works: it sees
// what the writer published, with [Array.Refresh], [Array.Wait] or
// [Array.Follow], and never a torn record; Wait tells it when the writer
// has closed ([ErrWriterClosed]) or died ([ErrWriterDied]). While readers have the file open, what would change records
// under them is refused with ErrLocked: Create over the file, and Truncate.
// While a writer has the file, a sidecar file (the name with ".meta"
// added, next to the file that symbolic links lead to) lies next to it; the
// writer's Close removes it when no reader is left. A writer refuses a
// sidecar that someone else could have planted (a link, a file of another
// user, one open to others); a reader does without one it cannot trust, and
// then reads the count from the file's header (SECURITY.md). The locks are
// advisory: they keep out other Arrays, not other programs. Where the OS
type Array[T any] struct {
	path     string // as the caller named it
	f        *os.File
	l        *layout
	t        arrayfile.Type
	id       fileid.Info // the file's identity as opened, which its sidecar records
	sidePath string      // where the sidecar is, or would be
	side     *sidecar    // nil for a reader of a file that has none
	// A reader's sidecar that came to describe another file (the file was
	// replaced at its name): kept mapped until Close, since a waiter may be
	// asleep on it, and never looked for again.
	retired *sidecar
	// A reader's sidecar describes the file's header (sidecarHolds), so
	// that its live word counts the file's records.
	holds    bool
	spin     time.Duration // how long a reader's Wait spins before it sleeps
	writable bool          // the writer; its own state is w
	w        writer
	shared   bool // a reader that holds the shared lock on the file

	// The header that holds, as last written or read: set by setHeader.
	hdr []byte
	h   *npy.Header

	// The mappings of the file, and what follows from its size: set by
	// mapFile, under mu, which serializes changes to them.
	mu       sync.Mutex
	views    []MMap   // every mapping of the file, newest last, kept until Close
	size     int64    // the file's size
	capacity int      // records the file has room for
	rec      Slice[T] // room for capacity records, in the newest view
	room     atomic.Pointer[Slice[T]]

	pub  atomic.Int64 // the records that Len and Items show
	wake notifier     // goroutines waiting in Wait on the writer, and Close
	// When a reader's Wait last asked whether the writer is alive, in
	// nanoseconds since the Array was opened.
	askedAt atomic.Int64
	opened  time.Time

	// closed is set when Close begins. Wait, and Follow as it reads a
	// record, hold closing shared; Close takes it exclusively, having woken
	// them, so that it never unmaps what they read.
	closed  atomic.Bool
	closing sync.RWMutex
}

// writer is what only an Array's writer has.
type writer struct {
	created          bool // Create made the file, and removes it if it fails
	inode            bool // it holds the lock on the file itself (lockInode)
	count            int  // records appended
	synced           int  // the count that the header and the sidecar hold
	prefaultedTo     int  // the pages of records [0, prefaultedTo) are present and writable
	resizedSinceSync bool // the file's size changed since the last Sync
	headerPending    bool // the header was written since it was last made durable
	publishes        bool // Publish publishes without syncing (bootID)
	autoPublish      bool // every Append publishes (WithAutoPublish)
}

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
	o, err := optionsFor("Create", opts)
	if err != nil {
		return nil, wrapErr("create", path, err)
	}
	a, err := newArray[T](path, true, o)
	if err != nil {
		return nil, err
	}
	hdr, h, err := newHeader(a.t, 0)
	if err != nil {
		return nil, wrapErr("create", path, err)
	}
	a.f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, o.perm)
	a.w.created = err == nil
	if errors.Is(err, fs.ErrExist) {
		a.f, err = openRegular(path, os.O_RDWR)
	}
	if err != nil {
		return nil, wrapErr("create", path, err)
	}
	if err := a.initialize(hdr, h, o.capacity); err != nil {
		return nil, a.fail("create", err)
	}
	return a, nil
}

// newArray checks T and starts an Array of it, the writer if writable.
func newArray[T any](path string, writable bool, o options) (*Array[T], error) {
	l, t, err := arrayType[T]()
	if err != nil {
		return nil, err
	}
	a := &Array[T]{path: path, l: l, t: t, writable: writable, spin: o.spin, opened: time.Now()}
	a.w.publishes = boot.ID() != [2]uint64{}
	a.w.autoPublish = o.autoPublish
	return a, nil
}

// initialize writes a new, empty array into the file, as its writer, with
// room for capacity records at least. Nothing of the file is lost until
// its new header is written: the room for records is allocated and mapped,
// and the sidecar written, first, so that a Create that fails (a full
// disk, no address space) leaves the array that was there as it was. Its
// records become spare room, which the new header does not count.
func (a *Array[T]) initialize(hdr []byte, h *npy.Header, capacity int) error {
	if err := a.openSidecarForWriter(); err != nil {
		return err
	}
	unlock, err := a.lockOutReaders("Create would truncate it under them")
	if err != nil {
		return err
	}
	defer unlock()
	a.setHeader(hdr, h)
	a.size = a.id.Size
	if err := a.setCapacity(a.minCapacity(capacity)); err != nil {
		return err
	}
	if err := a.side.init(a.id.Dev, a.id.Ino, arrayfile.State{Header: hdr, H: h}); err != nil {
		return err
	}
	if _, err := a.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	if err := a.f.Sync(); err != nil {
		return err
	}
	a.w.resizedSinceSync = false
	a.side.start(0)
	return syncDir(filepath.Dir(a.path))
}

// minCapacity is the capacity an array of n records keeps at least.
func (a *Array[T]) minCapacity(n int) int { return max(n, minCapacityBytes/a.l.size, 1) }

// Open opens the named array file of T: an Array file, or a .npy file that
// numpy or another program wrote. With RDONLY it opens as a reader, with
// RDWR as the writer. It refuses, with an error that shows the file's
// numpy type and T's, a file that holds another type ([ErrType]; field
// names count, and so do an array type's dimensions) or the other byte order
// ([ErrByteOrder]), one whose records would start at an offset not aligned
// for T ([ErrAlignment]), and one that is not a valid .npy file or counts
// more records than it holds ([ErrFormat]). A plain file of numpy's
// datetime64, timedelta64, bool or fixed strings, as numpy saves a column's
// values, holds records of a struct of one field whose tag asks for that
// type, whatever the field's name: struct{ T int64 `npy:",M8[ns]"` }.
//
// The writer of a file that another program wrote changes records in place;
// it can append as long as the header has room to count them, as numpy 1.24
// and later leave. Past that, Append fails and says so.
//
// A writer takes [WithAutoPublish], a reader [WithSpin].
func Open[T any](path string, prot int, opts ...Option) (*Array[T], error) {
	if prot != RDONLY && prot != RDWR {
		return nil, wrapErr("open", path, errorf(ErrInvalid, "Open takes RDONLY or RDWR, got prot %#x", prot))
	}
	who := "a reader"
	if prot == RDWR {
		who = "a writer"
	}
	o, err := optionsFor(who, opts)
	if err != nil {
		return nil, wrapErr("open", path, err)
	}
	a, err := newArray[T](path, prot == RDWR, o)
	if err != nil {
		return nil, err
	}
	flag := os.O_RDONLY
	if a.writable {
		flag = os.O_RDWR
	}
	if a.f, err = openRegular(path, flag); err != nil {
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
	st, err := a.load()
	if err != nil {
		return err
	}
	if st.Torn {
		// A crash tore the header, or came before it was written: the
		// sidecar's newest slot holds the one that counts what is durable.
		if err := a.writeHeader(st.Header, true); err != nil {
			return err
		}
	}
	if err := a.side.init(a.id.Dev, a.id.Ino, st); err != nil {
		return err
	}
	if n, ok := a.side.unsynced(st.Count, a.capacity); ok {
		// The last writer published records that it did not sync, and
		// died; the machine kept running, so they are in its page cache,
		// and readers may have seen them. They stay, made durable now:
		// what a reader has seen never changes.
		a.setCount(n)
		if err := a.sync(); err != nil {
			return err
		}
	}
	if unlock, err := a.lockOutReaders(""); err == nil {
		// No reader has the file: the sleepers counted are readers that
		// were killed asleep, which would make every publish wake no one.
		a.side.clearSleepers()
		unlock()
	}
	a.side.start(a.w.count)
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
	a.side, err = lockSidecar(a.sidePath, a.id, a.w.inode)
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
	st, err := a.load()
	if err != nil {
		return err
	}
	a.holds = a.side != nil && st.Seq != 0
	// What the writer has published since its last Sync, too.
	_, err = a.look()
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

// load reads the file's state (with its sidecar's slots, if it has one),
// checks it against T and the file's size (accept), and maps the file.
func (a *Array[T]) load() (arrayfile.State, error) {
	fi, err := a.f.Stat()
	if err != nil {
		return arrayfile.State{}, err
	}
	st, err := readState(a.f, fi.Size(), a.side.validSlots())
	if err != nil {
		return arrayfile.State{}, err
	}
	if err := accept(st, fi.Size(), a.t); err != nil {
		return arrayfile.State{}, err
	}
	a.setHeader(st.Header, st.H)
	if a.writable {
		a.setCount(int(st.Count))
		a.w.synced = a.w.count
	} else {
		a.pub.Store(st.Count)
	}
	return st, a.mapFile(fi.Size())
}

// usable reports why the array cannot be used, if it cannot.
func (a *Array[T]) usable(write bool) error {
	switch {
	case a.closed.Load() || a.f == nil:
		return wrapErr("use", a.path, os.ErrClosed)
	case write && !a.writable:
		return wrapErr("use", a.path, errorf(ErrInvalid, "opened read-only; Open it with RDWR to change it"))
	}
	return nil
}

// Len returns the number of records: for the writer, those appended; for a
// reader, those that the writer had published when the reader opened the
// file, or at its last Refresh (or Wait).
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
