package mmap

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The layout of an Array file; FORMAT.md describes it for other languages.
// All header integers are little-endian, whatever the records' byte order,
// so that any host can read the header and report a mismatch.
const (
	slotSize      = 128  // one header slot
	slot1Offset   = 512  // slot 0 is at 0; each slot has a 512-byte sector of its own
	descOffset    = 1024 // the layout description starts here
	dataAlign     = 64   // the records start at a multiple of this
	maxDescLen    = 1 << 20
	formatVersion = 1
)

// magic starts every header slot. Like PNG's, it catches files mangled by
// text-mode transfers.
var magic = [8]byte{0x89, 'T', 'M', 'A', '\r', '\n', 0x1a, '\n'}

// Byte orders, as recorded in a header.
const (
	littleEndian = 1
	bigEndian    = 2
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// header is the content of one header slot.
type header struct {
	order       uint8  // littleEndian or bigEndian: the records' byte order
	elemSize    uint32 // record size in bytes
	elemAlign   uint32 // the record type's natural alignment
	fingerprint uint64 // FNV-1a of the layout description
	seq         uint64 // which slot is newer: the valid one with the larger seq
	count       uint64 // records in the array
	capacity    uint64 // records the file had room for when the slot was written
	dataOffset  uint64 // where record 0 starts
	descLen     uint32 // length of the layout description at descOffset
	descCRC     uint32 // CRC-32C of the layout description
}

// marshal writes h into b[:slotSize], checksum included.
func (h *header) marshal(b []byte) {
	b = b[:slotSize]
	clear(b)
	le := binary.LittleEndian
	copy(b, magic[:])
	le.PutUint16(b[8:], formatVersion)
	b[10] = h.order
	le.PutUint32(b[12:], h.elemSize)
	le.PutUint32(b[16:], h.elemAlign)
	le.PutUint64(b[24:], h.fingerprint)
	le.PutUint64(b[32:], h.seq)
	le.PutUint64(b[40:], h.count)
	le.PutUint64(b[48:], h.capacity)
	le.PutUint64(b[56:], h.dataOffset)
	le.PutUint32(b[64:], h.descLen)
	le.PutUint32(b[68:], h.descCRC)
	le.PutUint32(b[slotSize-4:], crc32.Checksum(b[:slotSize-4], crcTable))
}

// parseSlot reads one header slot, checking what a slot alone can show:
// magic, version and checksum.
func parseSlot(b []byte) (header, error) {
	le := binary.LittleEndian
	switch {
	case [8]byte(b[:8]) != magic:
		return header{}, fmt.Errorf("no header (bad magic % x)", b[:8])
	case le.Uint32(b[slotSize-4:]) != crc32.Checksum(b[:slotSize-4], crcTable):
		return header{}, fmt.Errorf("header checksum mismatch (torn or corrupt)")
	case le.Uint16(b[8:]) != formatVersion:
		return header{}, fmt.Errorf("format version %d; this package reads version %d", le.Uint16(b[8:]), formatVersion)
	}
	return header{
		order:       b[10],
		elemSize:    le.Uint32(b[12:]),
		elemAlign:   le.Uint32(b[16:]),
		fingerprint: le.Uint64(b[24:]),
		seq:         le.Uint64(b[32:]),
		count:       le.Uint64(b[40:]),
		capacity:    le.Uint64(b[48:]),
		dataOffset:  le.Uint64(b[56:]),
		descLen:     le.Uint32(b[64:]),
		descCRC:     le.Uint32(b[68:]),
	}, nil
}

// readHeader picks the newer valid slot of the first descOffset bytes of a
// file. It returns which slot that is.
func readHeader(b []byte) (header, int, error) {
	h0, err0 := parseSlot(b[:slotSize])
	h1, err1 := parseSlot(b[slot1Offset : slot1Offset+slotSize])
	switch {
	case err0 != nil && err1 != nil:
		return header{}, 0, errorf(ErrFormat, "not an array file, or both header slots are damaged: slot 0: %v; slot 1: %v", err0, err1)
	case err1 != nil || err0 == nil && h0.seq > h1.seq:
		return h0, 0, nil
	}
	return h1, 1, nil
}

// slotOffset is where slot i starts.
func slotOffset(i int) int { return i * slot1Offset }

// dataOffsetFor is where the records start after a description of descLen
// bytes: the next multiple of dataAlign.
func dataOffsetFor(descLen int) int64 {
	return int64(roundUp(uintptr(descOffset+descLen), dataAlign))
}
