package main

import (
	"encoding/json"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// report is what mmapinfo tells about a file; -json prints it as it is.
type report struct {
	File    string            `json:"file"`
	Size    int64             `json:"size"`
	Kind    string            `json:"kind"`          // "array", "npy" or "neither"
	Why     string            `json:"why,omitempty"` // for "neither": why the file is not a .npy file
	Header  *headerInfo       `json:"header,omitempty"`
	Sidecar *sidecarInfo      `json:"sidecar,omitempty"`
	Verdict verdict           `json:"verdict"`
	Records []json.RawMessage `json:"records,omitempty"` // with -dump
}

// The kinds of file.
const (
	kindArray   = "array"   // a .npy file with a sidecar: an Array file of format 2
	kindNPY     = "npy"     // a .npy file alone
	kindNeither = "neither" // not a .npy file that parses
)

// headerInfo describes the header that holds: the file's own, or the copy
// in the sidecar's newest slot that Open goes by.
type headerInfo struct {
	From       string      `json:"from"`                 // "file", or "slot 0" or "slot 1" of the sidecar when the file's is torn
	FileCount  *int64      `json:"file_count,omitempty"` // when from a slot: the count of the file's own header, if it parses
	Version    string      `json:"version"`              // of the .npy format: "1.0"
	Descr      string      `json:"descr"`                // the numpy type, as the header writes it
	Fields     []fieldInfo `json:"fields,omitempty"`
	GoType     string      `json:"go_type,omitempty"` // a Go type whose Array holds the records, if there is one
	Shape      []int64     `json:"shape"`
	Fortran    bool        `json:"fortran_order"`
	Count      int64       `json:"count"`
	RecordSize int64       `json:"record_size"` // bytes; -1 if it overflows
	Capacity   int64       `json:"capacity"`    // the records the file has room for
	ByteOrder  string      `json:"byte_order"`
	DataOffset int         `json:"data_offset"`
	MaxCount   int64       `json:"max_count"` // the most records the header has room to count; -1 if its count cannot change
}

// fieldInfo describes a field of a structured type.
type fieldInfo struct {
	Name    string      `json:"name"`
	Type    string      `json:"type"` // a plain type string, or the nested type's descr
	Shape   []int       `json:"shape,omitempty"`
	Offset  int         `json:"offset"`
	Size    int         `json:"size"`
	Padding bool        `json:"padding,omitempty"`
	Fields  []fieldInfo `json:"fields,omitempty"`
}

// sidecarInfo describes the sidecar next to the file, if there is one.
type sidecarInfo struct {
	Path     string `json:"path"`
	Error    string `json:"error,omitempty"` // why it cannot be read, or is not a sidecar
	Readable bool   `json:"readable"`
	// Why Open, run by the user who runs mmapinfo, would not trust it
	// (fileid.Trust): a writer refuses it, a reader does without it.
	WriterRefuses string     `json:"writer_refuses,omitempty"`
	ReaderRefuses string     `json:"reader_refuses,omitempty"`
	Belongs       bool       `json:"belongs"` // it records this file's identity
	Dev           uint64     `json:"dev"`     // the identity it records
	Ino           uint64     `json:"ino"`
	FileDev       uint64     `json:"file_dev"` // the file's identity
	FileIno       uint64     `json:"file_ino"`
	SlotSize      int        `json:"slot_size,omitempty"`
	LiveCount     *uint64    `json:"live_count,omitempty"`     // the count published to readers, as this host reads it
	LiveEnded     bool       `json:"live_ended,omitempty"`     // the writer closed the array
	LiveThisBoot  bool       `json:"live_this_boot,omitempty"` // published during this boot: it holds
	Slots         []slotInfo `json:"slots,omitempty"`
}

// slotInfo describes one slot of a sidecar.
type slotInfo struct {
	Good    bool   `json:"good"`            // its checksum is right
	Empty   bool   `json:"empty"`           // never written
	Error   string `json:"error,omitempty"` // why it is bad
	Seq     uint64 `json:"seq"`
	Count   int64  `json:"count"`
	Newest  bool   `json:"newest"`
	Matches bool   `json:"header_matches"` // the file's header is this slot's copy, byte for byte

	slot arrayfile.Slot
}
