package mmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/fileid"
)

// sidecar is an open sidecar file, mapped: read-write and locked for the
// array's writer, read-only for a reader.
type sidecar struct {
	path  string
	f     *os.File
	id    fileid.Info // the writer's: the sidecar's own identity, as it was locked
	m     MMap
	ctl   arrayfile.Control
	slots [2]arrayfile.Slot // the slots as read when it was opened
	valid [2]bool           // which of them parsed

	locked    bool // the writer's lock is held
	sleepable bool // a reader may count itself among the sleepers
	created   bool // the writer created the file, and removes it if its Open fails

	// The live area, in m (arrayfile.Live), and the identity of the file
	// that m describes now.
	sleepers *uint32
	word     *uint64
	wordLow  *uint32 // the live word's low 32 bits, which readers sleep on
	boot     *[2]uint64
	idWords  *[2]uint64

	// prev is the live area as parse read it, if the sidecar has one of
	// this version and belongs to the file.
	prev   arrayfile.Live
	prevOK bool

	// The writer's: the slot the next Sync writes, and the newest slot's
	// sequence number.
	next int
	seq  uint64
}

// sidecarPath names the sidecar of the array file at path, whose identity
// is file: path with ".meta" added, after the symbolic links that lead to
// the file (fileid.Resolve), so that a link and the name it points to reach
// one sidecar, next to the file itself.
func sidecarPath(path string, file fileid.Info) (string, error) {
	p, err := fileid.Resolve(path, file)
	if errors.Is(err, fileid.ErrMoved) {
		return "", errorf(ErrInvalid, "the symbolic link was changed while the file was opened")
	}
	return p + arrayfile.Suffix, err
}

// maxSidecarTries bounds how often lockSidecar starts again when the
// sidecar is removed or replaced under it.
const maxSidecarTries = 100

// lockSidecar opens, or creates, the sidecar sp of the array file whose
// identity is file, for its writer, and takes its lock. It never follows a
// symbolic link, and never writes a file that it could not trust
// (fileid.Trust): such a sidecar is refused, naming it and what is wrong.
// inodeLocked says that the writer holds the file's own lock (lockInode):
// a sidecar locked by another writer then belongs to another file, one
// that had this name before it was moved or replaced. A writer that closes
// removes its sidecar, so after locking, lockSidecar checks that sp still
// names the file it locked, and starts again if not, a bounded number of
// times.
func lockSidecar(sp string, file fileid.Info, inodeLocked bool) (*sidecar, error) {
	for range maxSidecarTries {
		created := true
		f, err := fileid.OpenNoFollow(sp, os.O_RDWR|os.O_CREATE|os.O_EXCL, file.Mode.Perm())
		if errors.Is(err, fs.ErrExist) {
			created = false
			f, err = fileid.OpenNoFollow(sp, os.O_RDWR, 0)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed between the two opens
		case err != nil:
			return nil, sidecarError(sp, err)
		}
		s, err := lockOpenSidecar(sp, f, file, inodeLocked)
		if s != nil {
			s.created = created
		}
		if err != nil || s != nil {
			return s, err
		}
		// Removed or replaced between the open and the lock.
	}
	return nil, wrapErr("lock", sp, errorf(ErrLocked, "the sidecar was removed or replaced each of the %d times it was opened", maxSidecarTries))
}

// lockOpenSidecar checks and locks f, the sidecar sp just opened (created,
// if created), and returns it; or, having closed f, an error, or nil and no
// error when sp no longer names f once it is locked.
func lockOpenSidecar(sp string, f *os.File, file fileid.Info, inodeLocked bool) (s *sidecar, err error) {
	defer func() {
		if s == nil {
			f.Close()
		}
	}()
	info, err := fileid.Stat(f)
	if err != nil {
		return nil, err
	}
	if err := fileid.Trust(info, file, os.Geteuid(), true); err != nil {
		return nil, sidecarError(sp, err)
	}
	if err := retryLocked(func() error { return withFD(f, func(fd uintptr) error { return lockFile(fd, true) }) }); err != nil {
		if !errors.Is(err, ErrLocked) {
			return nil, wrapErr("lock", sp, err)
		}
		if inodeLocked {
			return nil, wrapErr("lock", sp, errorf(ErrLocked, "the sidecar is held by the writer of another file%s, one that had this name and was moved or replaced while its writer ran; close that writer first", byProcess(info)))
		}
		return nil, wrapErr("lock", sp, errorf(ErrLocked, "another writer%s has the array open; an Array has one writer at a time", byProcess(info)))
	}
	if !fileid.Names(sp, info) {
		withFD(f, unlockFile)
		return nil, nil
	}
	return &sidecar{path: sp, f: f, id: info, locked: true}, nil
}

// byProcess names the processes that hold a lock on the file whose
// identity is id, where the OS tells (fileid.Holders): " (process 1234)".
func byProcess(id fileid.Info) string {
	pids := fileid.Holders(id)
	switch len(pids) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (process %d)", pids[0])
	}
	return fmt.Sprintf(" (one of the processes %v)", pids)
}

// sidecarError names the sidecar sp in err, an error of opening it, and
// says what to do about a sidecar that cannot be trusted.
func sidecarError(sp string, err error) error {
	switch {
	case errors.Is(err, fileid.ErrNotRegular):
		return wrapErr("open", sp, errorf(ErrInvalid, "refused as the sidecar: %v; a sidecar is never followed or written through. Remove it if no writer of the array is running", err))
	case errors.Is(err, fileid.ErrUntrusted):
		return wrapErr("open", sp, errorf(fs.ErrPermission, "refused as the sidecar: %v. Remove it if no writer of the array is running", err))
	}
	return wrapErr("open", sp, err)
}

// openSidecar opens the sidecar sp of the array file whose
// identity is file, for a reader. It returns nil if there is none, or none
// the reader can use: one that does not belong to the file (a stale one,
// which the next writer replaces), one that is not a regular file or is a
// symbolic link, one it could not trust (fileid.Trust), or one larger than
// any sidecar. The reader then does without: it reads the file's header.
// The reader writes nothing but the count of sleepers in the live area, and
// only where it may write the sidecar; where it may not, it polls.
func openSidecar(sp string, file fileid.Info) *sidecar {
	prot := RDWR
	f, err := fileid.OpenNoFollow(sp, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrPermission) {
		prot = RDONLY
		f, err = fileid.OpenNoFollow(sp, os.O_RDONLY, 0)
	}
	if err != nil {
		return nil
	}
	info, err := fileid.Stat(f)
	if err != nil || fileid.Trust(info, file, os.Geteuid(), false) != nil ||
		info.Size < arrayfile.ControlSize || info.Size > arrayfile.MaxSidecarSize {
		f.Close()
		return nil
	}
	s := &sidecar{path: sp, f: f, sleepable: prot == RDWR}
	// Only the size just checked: the file may grow meanwhile.
	if s.m, err = mapRegion(f, int(info.Size), prot, 0, 0, false); err != nil || !s.parse(s.m, file.Dev, file.Ino) || s.mapLive() != nil {
		s.close()
		return nil
	}
	return s
}

// parse reads the control page and slots of b, the sidecar's bytes, if it
// belongs to the file dev, ino.
func (s *sidecar) parse(b []byte, dev, ino uint64) bool {
	ctl, err := arrayfile.ParseControl(b)
	if err != nil || ctl.Dev != dev || ctl.Ino != ino {
		return false
	}
	s.ctl = ctl
	s.prevOK = ctl.Version == arrayfile.SidecarVersion
	if s.prevOK {
		s.prev = arrayfile.ParseLive(b, binary.NativeEndian)
	}
	for i := range 2 {
		at := ctl.SlotOffset(i)
		slot, err := arrayfile.ParseSlot(b[at : at+ctl.SlotSize])
		s.slots[i], s.valid[i] = slot, err == nil
	}
	return true
}

// read reads, for the writer that locked it, the slots of the sidecar, if
// it belongs to the file dev, ino; a sidecar of another file, or too short
// or too long to be one, has none. It is mapped only by init.
func (s *sidecar) read(dev, ino uint64) error {
	fi, err := s.f.Stat()
	if err != nil || fi.Size() < arrayfile.ControlSize || fi.Size() > arrayfile.MaxSidecarSize {
		return err
	}
	b := make([]byte, fi.Size())
	if _, err := s.f.ReadAt(b, 0); err != nil && err != io.EOF {
		return err
	}
	s.parse(b, dev, ino)
	return nil
}

// validSlots returns the slots that parsed; none if there is no sidecar.
func (s *sidecar) validSlots() []arrayfile.Slot {
	if s == nil {
		return nil
	}
	var v []arrayfile.Slot
	for i, ok := range s.valid {
		if ok {
			v = append(v, s.slots[i])
		}
	}
	return v
}

// init makes the sidecar the writer's for the file dev, ino, whose state
// st holds: kept as it is when its slots described st, written afresh
// otherwise, and mapped read-write.
func (s *sidecar) init(dev, ino uint64, st arrayfile.State) error {
	slotSize := arrayfile.SlotSize(len(st.Header))
	fresh := st.Seq == 0 || s.ctl.SlotSize != slotSize || s.ctl.Version != arrayfile.SidecarVersion
	if fresh {
		b := make([]byte, arrayfile.SidecarSize(slotSize))
		ctl := arrayfile.Control{Dev: dev, Ino: ino, SlotSize: slotSize}
		arrayfile.PutControl(b, ctl)
		arrayfile.PutSlot(b[ctl.SlotOffset(0):], arrayfile.Slot{Seq: st.Seq + 1, Count: st.Count, Header: st.Header})
		arrayfile.PutLive(b, arrayfile.Live{Count: st.Count}, binary.NativeEndian)
		// Written over the old content, never shorter: a reader may still
		// have a stale sidecar mapped, and must not lose its pages. The
		// identity first, with a write of its own: a reader of the file
		// the sidecar described before sees it change before any count of
		// this file (live).
		if _, err := s.f.WriteAt(b[:arrayfile.LiveSleepersOffset], 0); err != nil {
			return err
		}
		if _, err := s.f.WriteAt(b[arrayfile.LiveSleepersOffset:], arrayfile.LiveSleepersOffset); err != nil {
			return err
		}
		if err := s.f.Sync(); err != nil {
			return err
		}
	}
	m, err := mapRegion(s.f, arrayfile.SidecarSize(slotSize), RDWR, 0, 0, false)
	if err != nil {
		return err
	}
	s.m = m
	if !s.parse(m, dev, ino) {
		return wrapErr("", s.path, errorf(ErrFormat, "the sidecar it wrote does not parse"))
	}
	if err := s.mapLive(); err != nil {
		return err
	}
	// The next Sync writes over the older slot, or a damaged one.
	s.seq, s.next = 0, 0
	for i := range 2 {
		if s.valid[i] && s.slots[i].Seq >= s.seq {
			s.seq, s.next = s.slots[i].Seq, 1-i
		}
	}
	return nil
}

// writeSlot makes count and the header that counts it durable in the slot
// that is not the newest.
func (s *sidecar) writeSlot(count int64, header []byte) error {
	at := s.ctl.SlotOffset(s.next)
	slot := s.m[at : at+s.ctl.SlotSize]
	arrayfile.PutSlot(slot, arrayfile.Slot{Seq: s.seq + 1, Count: count, Header: header})
	if err := slot.Flush(); err != nil {
		return wrapErr("flush", s.path, err)
	}
	s.seq++
	s.next = 1 - s.next
	return nil
}

// close unmaps and closes the sidecar, and releases the writer's lock.
func (s *sidecar) close() error {
	if s == nil {
		return nil
	}
	err := s.m.Unmap()
	if s.locked {
		err = errors.Join(err, withFD(s.f, unlockFile))
	}
	return wrapErr("close", s.path, errors.Join(err, s.f.Close()))
}

// remove closes the sidecar and removes it: its writer does, when no
// reader has the array open, so that a closed array is a .npy alone. The
// writer still holds its lock while the file goes, so that no other writer
// can take a sidecar that is being removed (see lockSidecar). A name that
// no longer names this sidecar (another file's writer replaced it) is left
// alone. Windows refuses to remove a file that is open: there the sidecar
// goes after it is closed, or stays if another writer opened it meanwhile,
// which is harmless.
func (s *sidecar) remove() error {
	err := wrapErr("unmap", s.path, s.m.Unmap())
	s.m = nil
	mine := fileid.Names(s.path, s.id)
	removed := mine && os.Remove(s.path) == nil
	err = errors.Join(err, s.close())
	if mine && !removed {
		_ = os.Remove(s.path)
	}
	return err
}
