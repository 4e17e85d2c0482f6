package mmap

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
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

// hostOrder is this host's byte order, as a header records it.
var hostOrder = func() uint8 {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return littleEndian
	}
	return bigEndian
}()

func orderName(o uint8) string {
	switch o {
	case littleEndian:
		return "little-endian"
	case bigEndian:
		return "big-endian"
	}
	return "unknown-byte-order"
}

// newHeader returns the header of an empty array of records of layout l, or
// an error wrapping ErrType if the header cannot record l.
func newHeader(l *layout) (header, error) {
	if len(l.desc) > maxDescLen {
		return header{}, errorf(ErrType, "the layout of %s takes %d bytes to describe; an array file holds at most %d", l.name, len(l.desc), maxDescLen)
	}
	// Narrowing to the header's uint32: records of 4 GiB or more are refused.
	if uint64(l.size) > math.MaxUint32 {
		return header{}, errorf(ErrType, "%s is %d bytes; an array file holds records of less than 4 GiB", l.name, l.size)
	}
	return header{
		order:       hostOrder,
		elemSize:    uint32(l.size),
		elemAlign:   uint32(l.align),
		fingerprint: l.fingerprint,
		dataOffset:  uint64(dataOffsetFor(len(l.desc))),
		descLen:     uint32(len(l.desc)),
		descCRC:     crc32.Checksum([]byte(l.desc), crcTable),
	}, nil
}

// readArrayHeader reads the header of the array file in m, size bytes long,
// and checks that it describes records of layout l in this host's byte
// order, stored within the file. Everything is read with m.ReadAt, which
// turns a fault (the file shrank under the mapping) into an error.
func readArrayHeader(m MMap, l *layout) (header, int, error) {
	size := int64(len(m))
	if size < descOffset {
		return header{}, 0, errorf(ErrFormat, "%d bytes is too short for an array file", size)
	}
	head := make([]byte, descOffset)
	if _, err := m.ReadAt(head, 0); err != nil {
		return header{}, 0, err
	}
	h, slot, err := readHeader(head)
	if err != nil {
		return header{}, 0, err
	}
	if h.order != hostOrder {
		return header{}, 0, errorf(ErrByteOrder, "holds %s records; this host is %s", orderName(h.order), orderName(hostOrder))
	}
	if h.descLen > maxDescLen || int64(h.descLen) > size-descOffset {
		return header{}, 0, errorf(ErrFormat, "layout description of %d bytes does not fit in the %d-byte file", h.descLen, size)
	}
	desc := make([]byte, h.descLen)
	if _, err := m.ReadAt(desc, descOffset); err != nil {
		return header{}, 0, err
	}
	if crc32.Checksum(desc, crcTable) != h.descCRC {
		return header{}, 0, errorf(ErrFormat, "layout description checksum mismatch")
	}
	if h.elemSize != uint32(l.size) || h.elemAlign != uint32(l.align) || h.fingerprint != l.fingerprint || string(desc) != l.desc {
		return header{}, 0, errorf(ErrType, "holds %d-byte records laid out as %s; %s is %d bytes laid out as %s",
			h.elemSize, desc, l.name, l.size, l.desc)
	}
	if h.dataOffset != uint64(dataOffsetFor(int(h.descLen))) || h.dataOffset > uint64(size) ||
		h.count > h.capacity || h.count > (uint64(size)-h.dataOffset)/uint64(l.size) {
		return header{}, 0, errorf(ErrFormat, "header counts %d records (capacity %d) of %d bytes from offset %d, but the file has %d bytes",
			h.count, h.capacity, l.size, h.dataOffset, size)
	}
	return h, slot, nil
}
