package arrayfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/typedmmap/mmap/internal/npy"
)

// Suffix names an array file's sidecar: data.npy has data.npy.meta, next to
// the file that symbolic links to data.npy lead to.
const Suffix = ".meta"

// A sidecar file lies next to an array's .npy file while a writer has it
// (FORMAT.md). It holds what makes the .npy crash-safe without anything in
// the .npy that its readers would trip on: two slots, each with a count of
// records and a copy of the header that counts them, written before the
// header itself, so that a header torn by a crash can be recognised and
// repaired. Its first page also holds the live count that readers in other
// processes watch (the live area).
//
//	offset 0             control page (ControlSize bytes)
//	offset ControlSize   slot 0 (SlotSize bytes)
//	offset ControlSize+SlotSize   slot 1
//
// All integers are little-endian, but for the live area's, which readers
// and the writer read and write in place with atomic operations: those are
// in the byte order of the host that wrote them (a sidecar from another
// host is from another boot, and its live area is ignored).
const (
	SidecarMagic = "\x89NPYMETA"
	// ControlSize is the size of the control page.
	ControlSize = 4096
	// IDOffset is where the identity of the .npy file lies in the control
	// page: its device number, then its inode number, 8 bytes each.
	IDOffset = 16
	// LiveSleepersOffset is where the live area starts: a 32-bit count of
	// the readers asleep on the live word, which the writer wakes when it
	// is not zero.
	LiveSleepersOffset = 64
	// LiveWordOffset is where the 64-bit live word lies: the published
	// count times two, plus one once the writer has closed (LiveWord).
	// Readers sleep on its low 32 bits.
	LiveWordOffset = 72
	// LiveBootOffset is where the identity of the boot during which the
	// live word was published lies, 16 bytes; zero when the writer's OS
	// has none, and then it publishes synced counts only.
	LiveBootOffset = 80
	// LiveEnd is where the live area ends.
	LiveEnd = 96
	// MaxSlotSize is the size of a slot for the longest header numpy
	// reads: no slot is larger.
	MaxSlotSize = (slotHead + npy.Prefix + 4 + ControlSize - 1) / ControlSize * ControlSize
	// MaxSidecarSize bounds what is read as a sidecar: a larger file is not
	// one.
	MaxSidecarSize = ControlSize + 2*MaxSlotSize

	// SidecarVersion is the version a writer writes. Version 1 had a
	// sequence number at offset 64 and a count of synced records at 72,
	// and no boot identity: its slots are read, and its live area is not.
	SidecarVersion = 2
	controlCRCAt   = 60 // CRC-32C of the control header, bytes 0 to 59
	slotHead       = 24 // seq, count, header length, reserved
	sector         = 512
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Control is the fixed part of a sidecar's control page.
type Control struct {
	Dev, Ino uint64 // the identity of the .npy file the sidecar belongs to
	SlotSize int    // the size of each slot, a multiple of 4096
	Version  int    // as read; PutControl writes the current one
}

// SlotSize returns the slot size for headers of hlen bytes.
func SlotSize(hlen int) int {
	return (slotHead + hlen + 4 + ControlSize - 1) / ControlSize * ControlSize
}

// SidecarSize is the size of a sidecar whose slots are slotSize bytes.
func SidecarSize(slotSize int) int { return ControlSize + 2*slotSize }

// PutControl writes the control header c into b[:64] and clears the live
// area.
func PutControl(b []byte, c Control) {
	clear(b[:ControlSize])
	le := binary.LittleEndian
	copy(b, SidecarMagic)
	le.PutUint32(b[8:], SidecarVersion)
	le.PutUint32(b[12:], uint32(c.SlotSize))
	le.PutUint64(b[IDOffset:], c.Dev)
	le.PutUint64(b[IDOffset+8:], c.Ino)
	le.PutUint32(b[controlCRCAt:], crc32.Checksum(b[:controlCRCAt], castagnoli))
}

// ParseControl reads the control header at the start of b.
func ParseControl(b []byte) (Control, error) {
	le := binary.LittleEndian
	switch {
	case len(b) < ControlSize:
		return Control{}, fmt.Errorf("sidecar of %d bytes, shorter than its control page", len(b))
	case string(b[:8]) != SidecarMagic:
		return Control{}, errors.New("not a sidecar file (bad magic)")
	case le.Uint32(b[controlCRCAt:]) != crc32.Checksum(b[:controlCRCAt], castagnoli):
		return Control{}, errors.New("sidecar control page checksum mismatch")
	case le.Uint32(b[8:]) != 1 && le.Uint32(b[8:]) != SidecarVersion:
		return Control{}, fmt.Errorf("sidecar version %d; versions 1 and %d are known", le.Uint32(b[8:]), SidecarVersion)
	}
	slotSize := le.Uint32(b[12:])
	switch {
	case slotSize < ControlSize || slotSize%ControlSize != 0 || slotSize > MaxSlotSize:
		return Control{}, fmt.Errorf("sidecar slot size %d: a slot is a multiple of %d bytes, at most %d", slotSize, ControlSize, MaxSlotSize)
	case uint64(slotSize) > uint64(len(b)-ControlSize)/2:
		return Control{}, fmt.Errorf("sidecar slot size %d does not fit its %d bytes", slotSize, len(b))
	}
	return Control{Dev: le.Uint64(b[IDOffset:]), Ino: le.Uint64(b[IDOffset+8:]), SlotSize: int(slotSize), Version: int(le.Uint32(b[8:]))}, nil
}

// Live is what a sidecar's live area says.
type Live struct {
	Count    int64     // the records the writer published last
	Ended    bool      // the writer has closed the array
	Boot     [2]uint64 // the boot during which it published them; zero: none
	Sleepers uint32    // readers asleep on the live word
}

// LiveWord is the live word that says count and ended.
func LiveWord(count int64, ended bool) uint64 {
	w := uint64(count) << 1
	if ended {
		w |= 1
	}
	return w
}

// ParseLive reads the live area of a version 2 sidecar, b, written by a
// host of byte order order.
func ParseLive(b []byte, order binary.ByteOrder) Live {
	w := order.Uint64(b[LiveWordOffset:])
	return Live{
		Count:    int64(w >> 1),
		Ended:    w&1 != 0,
		Boot:     [2]uint64{order.Uint64(b[LiveBootOffset:]), order.Uint64(b[LiveBootOffset+8:])},
		Sleepers: order.Uint32(b[LiveSleepersOffset:]),
	}
}

// PutLive writes l into the live area of b in the byte order order.
func PutLive(b []byte, l Live, order binary.ByteOrder) {
	order.PutUint32(b[LiveSleepersOffset:], l.Sleepers)
	order.PutUint32(b[LiveSleepersOffset+4:], 0)
	order.PutUint64(b[LiveWordOffset:], LiveWord(l.Count, l.Ended))
	order.PutUint64(b[LiveBootOffset:], l.Boot[0])
	order.PutUint64(b[LiveBootOffset+8:], l.Boot[1])
}

// SlotOffset is where slot i starts.
func (c Control) SlotOffset(i int) int { return ControlSize + i*c.SlotSize }

// Slot is one of a sidecar's two slots.
type Slot struct {
	Seq    uint64 // the valid slot with the larger Seq is the newer
	Count  int64  // records made durable
	Header []byte // the .npy header that counts them, byte for byte
}

// PutSlot writes s into b, a slot of the sidecar, checksum included. The
// header must fit: SlotSize(len(s.Header)) <= len(b).
func PutSlot(b []byte, s Slot) {
	le := binary.LittleEndian
	n := slotHead + len(s.Header)
	le.PutUint64(b[0:], s.Seq)
	le.PutUint64(b[8:], uint64(s.Count))
	le.PutUint32(b[16:], uint32(len(s.Header)))
	le.PutUint32(b[20:], 0)
	copy(b[slotHead:], s.Header)
	le.PutUint32(b[n:], crc32.Checksum(b[:n], castagnoli))
}

// ParseSlot reads a slot; an error means it is empty, torn or damaged.
func ParseSlot(b []byte) (Slot, error) {
	le := binary.LittleEndian
	if len(b) < slotHead+4 {
		return Slot{}, errors.New("slot too short")
	}
	hlen := le.Uint32(b[16:])
	switch {
	case hlen == 0 || hlen > npy.Prefix:
		return Slot{}, fmt.Errorf("slot holds a header of %d bytes; a header has 1 to %d", hlen, npy.Prefix)
	case uint64(hlen) > uint64(len(b)-slotHead-4):
		return Slot{}, fmt.Errorf("slot holds a header of %d bytes, which does not fit", hlen)
	}
	n := slotHead + int(hlen)
	if le.Uint32(b[n:]) != crc32.Checksum(b[:n], castagnoli) {
		return Slot{}, errors.New("slot checksum mismatch (torn or damaged)")
	}
	count := le.Uint64(b[8:])
	if count > 1<<63-1 {
		return Slot{}, fmt.Errorf("slot counts %d records", count)
	}
	return Slot{Seq: le.Uint64(b[0:]), Count: int64(count), Header: bytes.Clone(b[slotHead:n])}, nil
}
