package mmap

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/boot"
)

// The sidecar's live area (FORMAT.md, "Publishing"): where the writer
// publishes its count, and readers read it and sleep on it.

// mapLive points the live words, and those of the file's identity, at the
// mapped sidecar.
func (s *sidecar) mapLive() error {
	sleepers, err := view[uint32](s.m[arrayfile.LiveSleepersOffset:arrayfile.LiveSleepersOffset+4], arrayfile.LiveSleepersOffset)
	if err != nil {
		return err
	}
	word, err := view[uint64](s.m[arrayfile.LiveWordOffset:arrayfile.LiveWordOffset+8], arrayfile.LiveWordOffset)
	if err != nil {
		return err
	}
	low := arrayfile.LiveWordOffset + lowHalf
	wordLow, err := view[uint32](s.m[low:low+4], int64(low))
	if err != nil {
		return err
	}
	when, err := view[[2]uint64](s.m[arrayfile.LiveBootOffset:arrayfile.LiveBootOffset+16], arrayfile.LiveBootOffset)
	if err != nil {
		return err
	}
	id, err := view[[2]uint64](s.m[arrayfile.IDOffset:arrayfile.IDOffset+16], arrayfile.IDOffset)
	if err != nil {
		return err
	}
	s.sleepers, s.word, s.wordLow, s.boot, s.idWords = &sleepers[0], &word[0], &wordLow[0], &when[0], &id[0]
	return nil
}

// lowHalf is where the low 32 bits of a uint64 lie in it, in the host's
// byte order.
var lowHalf = 4 * int(binary.NativeEndian.Uint16([]byte{0, 1})&1)

// start makes the live area the running writer's: count published, in
// this boot (bootID). The boot is cleared first and written last, so that
// a reader that finds this boot's identity finds this count or a later one,
// never a count from an earlier boot (live).
func (s *sidecar) start(count int) {
	atomic.StoreUint64(&s.boot[0], 0)
	atomic.StoreUint64(&s.boot[1], 0)
	atomic.StoreUint64(s.word, arrayfile.LiveWord(int64(count), false))
	id := boot.ID()
	atomic.StoreUint64(&s.boot[0], id[0])
	atomic.StoreUint64(&s.boot[1], id[1])
	futexWake(s.wordLow)
}

// clearSleepers forgets the readers counted asleep.
func (s *sidecar) clearSleepers() { atomic.StoreUint32(s.sleepers, 0) }

// publish shows count, and whether the writer has closed, to the readers
// in other processes, and wakes those asleep on the live word. With none
// asleep it is one atomic store and one load. A reader counts itself
// among the sleepers before it reads the word for the last time and goes
// to sleep (sleepOnLive), so either it reads this word or publish sees it.
func (s *sidecar) publish(count int, ended bool) {
	atomic.StoreUint64(s.word, arrayfile.LiveWord(int64(count), ended))
	if atomic.LoadUint32(s.sleepers) != 0 {
		futexWake(s.wordLow)
	}
}

// unsynced returns the count that the file's last writer published past
// synced, the count that its header and slots hold, if it published it in
// this boot and the file has room for it: records that are in the page
// cache, and that readers may have seen.
func (s *sidecar) unsynced(synced int64, capacity int) (int, bool) {
	p := s.prev
	if !s.prevOK || p.Boot == [2]uint64{} || p.Boot != boot.ID() || p.Count <= synced || p.Count > int64(capacity) {
		return 0, false
	}
	return int(p.Count), true
}

// liveness says what a reader may take from the live area.
type liveness int

const (
	liveOK        liveness = iota // the word is the file's, published in this boot
	liveOtherBoot                 // the word is the file's, from an earlier boot (or version)
	liveOtherFile                 // the sidecar describes another file now
)

// live returns the live word, and what a reader may take from it. The
// sidecar may describe another file: a writer of a file that replaced this
// one at its name writes its own identity over the sidecar's, then its
// counts, each with its own write (init), so a word read between two equal
// readings of the identity is the file's. It may be from an earlier boot:
// a count that was published and not synced before the machine stopped,
// which does not hold (start), or of version 1, which it does not hold
// either until a writer writes the sidecar afresh (current).
func (s *sidecar) live(dev, ino uint64) (word uint64, l liveness) {
	before := s.identity()
	when := [2]uint64{atomic.LoadUint64(&s.boot[0]), atomic.LoadUint64(&s.boot[1])}
	word = atomic.LoadUint64(s.word)
	after := s.identity()
	switch {
	case before != after || before != [2]uint64{dev, ino}:
		return 0, liveOtherFile
	case when != boot.ID() || !s.current(when):
		return 0, liveOtherBoot
	}
	return word, liveOK
}

// current reports whether the sidecar is of the version that this package
// writes. A reader may have mapped one of version 1, which the next writer
// writes afresh as version 2 (init): once the live area names a boot,
// which a writer of version 2 writes last (start), its control page is
// read again.
func (s *sidecar) current(when [2]uint64) bool {
	if s.ctl.Version != arrayfile.SidecarVersion && when != ([2]uint64{}) {
		if ctl, err := arrayfile.ParseControl(s.m); err == nil {
			s.ctl = ctl
		}
	}
	return s.ctl.Version == arrayfile.SidecarVersion
}

// identity reads the identity that the sidecar's control page records, as
// the byte order of the sidecar (little-endian) says.
func (s *sidecar) identity() [2]uint64 {
	return [2]uint64{
		littleEndian(atomic.LoadUint64(&s.idWords[0])),
		littleEndian(atomic.LoadUint64(&s.idWords[1])),
	}
}

// littleEndian converts v, read from memory as a number in the host's byte
// order, to the little-endian number its bytes hold.
func littleEndian(v uint64) uint64 {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], v)
	return binary.LittleEndian.Uint64(b[:])
}
