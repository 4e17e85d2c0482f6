package mmap

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/typedmmap/mmap/internal/npy"
)

// sidecarSuffix names an array file's sidecar: data.npy has data.npy.meta.
// FORMAT.md describes what it holds and why.
const sidecarSuffix = ".meta"

// sidecar is an open sidecar file, mapped: read-write and locked for the
// array's writer, read-only for a reader.
type sidecar struct {
	path  string
	f     *os.File
	m     MMap
	ctl   npy.Control
	slots [2]npy.Slot // the slots as read when it was opened
	valid [2]bool     // which of them parsed

	locked  bool // the writer's lock is held
	created bool // the writer created the file, and removes it if its Open fails

	seqWord   *uint32 // the live area, in m: bumped by every publish
	countWord *uint64 // the published count

	// The writer's: the slot the next Sync writes, and the newest slot's
	// sequence number.
	next int
	seq  uint64
}

// lockSidecar opens (or creates) the sidecar of the array file at path for
// its writer, and takes the writer's lock on it: an error wrapping ErrLocked
// if another writer has it. A writer that closes removes the sidecar, so
// after locking, lockSidecar checks that the path still names the file it
// locked, and starts again if not.
func lockSidecar(path string, perm fs.FileMode) (*sidecar, error) {
	sp := path + sidecarSuffix
	for {
		created := true
		f, err := os.OpenFile(sp, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			created = false
			f, err = openRegular(sp, os.O_RDWR)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed between the two opens
		}
		if err != nil {
			return nil, err
		}
		if err := withFD(f, func(fd uintptr) error { return lockFile(fd, true) }); err != nil {
			f.Close()
			if errors.Is(err, ErrLocked) {
				return nil, fileErrorf(ErrLocked, path, "another writer has it open (in this process or another); an Array has one writer at a time")
			}
			return nil, pathError("lock", sp, err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if now, err := os.Stat(sp); err == nil && os.SameFile(fi, now) {
			return &sidecar{path: sp, f: f, locked: true, created: created}, nil
		}
		withFD(f, unlockFile)
		f.Close() // removed or replaced between the open and the lock
	}
}

// openSidecar opens, read-only, the sidecar of the array file at path,
// whose identity is dev and ino, for a reader. It returns nil if there is
// none, or if it does not belong to the file (a stale one that the next
// writer replaces): a reader does without.
func openSidecar(path string, dev, ino uint64) *sidecar {
	sp := path + sidecarSuffix
	f, err := openRegular(sp, os.O_RDONLY)
	if err != nil {
		return nil
	}
	s := &sidecar{path: sp, f: f}
	if s.m, err = Map(f, RDONLY, 0); err != nil || !s.parse(s.m, dev, ino) {
		s.close()
		return nil
	}
	s.mapLive()
	return s
}

// parse reads the control page and slots of b, the sidecar's bytes, if it
// belongs to the file dev, ino.
func (s *sidecar) parse(b []byte, dev, ino uint64) bool {
	ctl, err := npy.ParseControl(b)
	if err != nil || ctl.Dev != dev || ctl.Ino != ino {
		return false
	}
	s.ctl = ctl
	for i := range 2 {
		at := ctl.SlotOffset(i)
		slot, err := npy.ParseSlot(b[at : at+ctl.SlotSize])
		s.slots[i], s.valid[i] = slot, err == nil
	}
	return true
}

// mapLive points the live words at the live area of the mapped sidecar.
func (s *sidecar) mapLive() {
	s.seqWord = &castSlice[uint32](s.m[npy.LiveSeqOffset : npy.LiveSeqOffset+4])[0]
	s.countWord = &castSlice[uint64](s.m[npy.LiveCountOffset : npy.LiveCountOffset+8])[0]
}

// read reads, for the writer that locked it, the slots of the sidecar, if
// it belongs to the file dev, ino; a sidecar of another file, or too short
// or too long to be one, has none. It is mapped only by init.
func (s *sidecar) read(dev, ino uint64) error {
	fi, err := s.f.Stat()
	if err != nil || fi.Size() < npy.ControlSize || fi.Size() > npy.MaxSidecarSize {
		return err
	}
	b := make([]byte, fi.Size())
	if _, err := s.f.ReadAt(b, 0); err != nil && err != io.EOF {
		return err
	}
	s.parse(b, dev, ino)
	return nil
}

// validSlots returns the slots that parsed.
func (s *sidecar) validSlots() []npy.Slot {
	var v []npy.Slot
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
func (s *sidecar) init(dev, ino uint64, st npy.State) error {
	slotSize := npy.SlotSize(len(st.Header))
	fresh := st.Seq == 0 || s.ctl.SlotSize != slotSize
	if fresh {
		b := make([]byte, npy.SidecarSize(slotSize))
		ctl := npy.Control{Dev: dev, Ino: ino, SlotSize: slotSize}
		npy.PutControl(b, ctl)
		npy.PutSlot(b[ctl.SlotOffset(0):], npy.Slot{Seq: st.Seq + 1, Count: st.Count, Header: st.Header})
		binary.NativeEndian.PutUint64(b[npy.LiveCountOffset:], uint64(st.Count))
		// Written over the old content, never shorter: a reader may still
		// have a stale sidecar mapped, and must not lose its pages.
		if _, err := s.f.WriteAt(b, 0); err != nil {
			return err
		}
		if err := s.f.Sync(); err != nil {
			return err
		}
	}
	m, err := Map(s.f, RDWR, 0)
	if err != nil {
		return err
	}
	s.m = m
	if !s.parse(m, dev, ino) {
		return errorf(ErrFormat, "%s: the sidecar it wrote does not parse", s.path)
	}
	s.mapLive()
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
	npy.PutSlot(slot, npy.Slot{Seq: s.seq + 1, Count: count, Header: header})
	if err := slot.Flush(); err != nil {
		return err
	}
	s.seq++
	s.next = 1 - s.next
	return nil
}

// publish shows count to the readers in other processes and wakes those
// that wait.
func (s *sidecar) publish(count int) {
	atomic.StoreUint64(s.countWord, uint64(count))
	atomic.AddUint32(s.seqWord, 1)
	futexWake(s.seqWord)
}

// live returns the published count and the sequence number of its publish.
func (s *sidecar) live() (count uint64, seq uint32) {
	seq = atomic.LoadUint32(s.seqWord)
	return atomic.LoadUint64(s.countWord), seq
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
	return errors.Join(err, s.f.Close())
}

// remove closes the sidecar and removes it: its writer does, when no
// reader has the array open, so that a closed array is a .npy alone. The
// writer still holds its lock while the file goes, so that no other writer
// can take a sidecar that is being removed (see lockSidecar).
// Windows refuses to remove a file that is open: there the sidecar goes
// after it is closed, or stays if another writer opened it meanwhile, which
// is harmless.
func (s *sidecar) remove() error {
	err := s.m.Unmap()
	s.m = nil
	removed := os.Remove(s.path) == nil
	err = errors.Join(err, s.close())
	if !removed {
		_ = os.Remove(s.path)
	}
	return err
}
