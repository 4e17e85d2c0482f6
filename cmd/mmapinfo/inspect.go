package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/boot"
	"github.com/typedmmap/mmap/internal/fileid"
	"github.com/typedmmap/mmap/internal/npy"
)

// exam is a file being examined: the report and what it is made from.
type exam struct {
	report
	f        *os.File
	prefix   []byte             // the file's first bytes, as many as arrayfile.Decide takes
	fileH    *npy.Header        // the file's own header, if it parses
	parseErr error              // why it does not
	state    *arrayfile.State   // what holds, if the header or the sidecar decides it
	stateErr *arrayfile.Refusal // why nothing holds
	rec      *arrayfile.GoType  // the Go type of a record, if there is one
	id       fileid.Info        // the file's identity, which a sidecar records, and its owner
	dev, ino uint64             // id's
	idErr    error              // why the file's identity is unknown
}

// examine reads the file at path and its sidecar, and decides what holds.
// The file stays open, for dump, until close.
func examine(path string) (*exam, error) {
	f, fi, err := openRegular(path)
	if _, ok := err.(*fs.PathError); err != nil && !ok {
		err = fmt.Errorf("%s: %w", path, err) // name the file, as a PathError does
	}
	if err != nil {
		return nil, err
	}
	e := &exam{f: f, report: report{File: path, Size: fi.Size()}}
	e.prefix = make([]byte, min(fi.Size(), npy.Prefix))
	if _, err := f.ReadAt(e.prefix, 0); err != nil && err != io.EOF {
		f.Close()
		return nil, err
	}
	e.fileH, e.parseErr = npy.Parse(e.prefix)
	id, err := fileid.Stat(f)
	e.id, e.dev, e.ino, e.idErr = id, id.Dev, id.Ino, err
	slots := e.readSidecar(sidecarPath(path, id, err))
	st, r := arrayfile.Decide(e.prefix, slots)
	if r != nil {
		e.stateErr = r
	} else {
		e.state = &st
		e.describeHeader()
	}
	e.classify()
	e.Verdict = judge(e)
	return e, nil
}

func (e *exam) close() error { return e.f.Close() }

// sidecarPath is where Open looks for the sidecar of the file at path,
// whose identity is id (unless idErr): next to the file that symbolic links
// lead to.
func sidecarPath(path string, id fileid.Info, idErr error) string {
	if idErr == nil {
		if p, err := fileid.Resolve(path, id); err == nil {
			path = p
		}
	}
	return path + arrayfile.Suffix
}

// openRegular opens the file at path, which must be a regular file
// (fileid.OpenRegular), and returns what it is.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := fileid.OpenRegular(path, os.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// classify sets the kind of file.
func (e *exam) classify() {
	switch {
	case e.Sidecar != nil && e.Sidecar.Readable && e.Sidecar.Error == "":
		e.Kind = kindArray
	case e.parseErr == nil:
		e.Kind = kindNPY
	default:
		e.Kind = kindNeither
		e.Why = e.parseErr.Error()
		if e.Size == 0 {
			e.Why = "the file is empty"
		}
	}
}

// readSidecar reads the sidecar at path, if there is one, and returns its
// valid slots if it belongs to the file: what Open goes by.
func (e *exam) readSidecar(path string) []arrayfile.Slot {
	b, info, err := readSmall(path, arrayfile.MaxSidecarSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	s := &sidecarInfo{Path: path}
	e.Sidecar = s
	s.Readable = err == nil || errors.Is(err, errTooLarge)
	if err != nil {
		s.Error = err.Error()
		return nil
	}
	// What Open asks of a sidecar, as this process's user runs it.
	if err := fileid.Trust(info, e.id, os.Geteuid(), true); err != nil {
		s.WriterRefuses = err.Error()
	}
	if err := fileid.Trust(info, e.id, os.Geteuid(), false); err != nil {
		s.ReaderRefuses = err.Error()
	}
	ctl, err := arrayfile.ParseControl(b)
	if err != nil {
		s.Error = err.Error()
		return nil
	}
	s.Dev, s.Ino, s.SlotSize = ctl.Dev, ctl.Ino, ctl.SlotSize
	s.FileDev, s.FileIno = e.dev, e.ino
	s.Belongs = e.idErr == nil && ctl.Dev == e.dev && ctl.Ino == e.ino
	var valid []arrayfile.Slot
	for i := range 2 {
		at := ctl.SlotOffset(i)
		si := slotInfoOf(b[at:at+ctl.SlotSize], e.prefix)
		s.Slots = append(s.Slots, si)
		if si.Good {
			valid = append(valid, si.slot)
		}
	}
	markNewest(s.Slots)
	if !s.Belongs || s.ReaderRefuses != "" {
		return nil
	}
	if ctl.Version == arrayfile.SidecarVersion {
		l := arrayfile.ParseLive(b, binary.NativeEndian)
		count := uint64(l.Count)
		s.LiveCount, s.LiveEnded = &count, l.Ended
		s.LiveThisBoot = l.Boot == boot.ID()
	}
	return valid
}

// readSmall reads the file at path, which must be a regular file, not
// reached through a symbolic link (as Open takes a sidecar), of at most
// limit bytes, and says what it is.
func readSmall(path string, limit int64) ([]byte, fileid.Info, error) {
	f, err := fileid.OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fileid.Info{}, err
	}
	defer f.Close()
	info, err := fileid.Stat(f)
	if err != nil {
		return nil, fileid.Info{}, err
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		return nil, info, fmt.Errorf("it has more than %d bytes, %w", limit, errTooLarge)
	}
	return b, info, err
}

// errTooLarge is readSmall's error for a file larger than the limit.
var errTooLarge = errors.New("more than a sidecar ever has")

// slotInfoOf describes slot b, given the first bytes of the file.
func slotInfoOf(b, file []byte) slotInfo {
	s, err := arrayfile.ParseSlot(b)
	if err != nil {
		return slotInfo{Error: err.Error(), Empty: len(bytes.Trim(b, "\x00")) == 0}
	}
	return slotInfo{Good: true, Seq: s.Seq, Count: s.Count, Matches: bytes.HasPrefix(file, s.Header), slot: s}
}

// markNewest marks the good slot with the larger sequence number.
func markNewest(slots []slotInfo) {
	newest := -1
	for i, s := range slots {
		if s.Good && (newest < 0 || s.Seq > slots[newest].Seq) {
			newest = i
		}
	}
	if newest >= 0 {
		slots[newest].Newest = true
	}
}

// describeHeader fills in the header that holds.
func (e *exam) describeHeader() {
	h := e.state.H
	info := &headerInfo{
		From:       "file",
		Version:    strconv.Itoa(h.Major) + "." + strconv.Itoa(h.Minor),
		Descr:      h.DType.String(),
		Fields:     fieldsOf(h.DType),
		Shape:      append([]int64{}, h.Shape...),
		Fortran:    h.Fortran,
		Count:      e.state.Count,
		ByteOrder:  byteOrder(h.DType),
		DataOffset: h.Len,
		MaxCount:   h.MaxCount(),
	}
	if e.state.Torn {
		for i, s := range e.Sidecar.Slots {
			if s.Newest {
				info.From = "slot " + strconv.Itoa(i)
			}
		}
		if e.fileH != nil && len(e.fileH.Shape) > 0 {
			info.FileCount = &e.fileH.Shape[0]
		}
	}
	info.RecordSize = -1
	if n, ok := arrayfile.RecordSize(h); ok {
		info.RecordSize = n
	}
	if info.RecordSize > 0 && len(h.Shape) > 0 {
		info.Capacity = (e.Size - int64(h.Len)) / info.RecordSize
	}
	e.rec, _, _ = arrayfile.GoTypeOf(h)
	if e.rec != nil {
		info.GoType = e.rec.String()
	}
	e.Header = info
}

// fieldsOf describes the fields of a structured type, with their offsets.
func fieldsOf(d npy.DType) []fieldInfo {
	var fields []fieldInfo
	off := 0
	for _, f := range d.Fields {
		size := f.Type.Itemsize() * product(f.Shape)
		fi := fieldInfo{Name: f.Name, Type: f.Type.Str, Shape: f.Shape, Offset: off, Size: size, Padding: f.Padding()}
		if f.Type.Structured() {
			fi.Type, fi.Fields = f.Type.String(), fieldsOf(f.Type)
		}
		fields = append(fields, fi)
		off += size
	}
	return fields
}

// byteOrder names the byte order of d's numbers, and says whether it is
// this host's.
func byteOrder(d npy.DType) string {
	orders := fileOrders(d)
	host := npy.OrderName(npy.HostOrder)
	switch {
	case len(orders) == 0:
		return "none (single bytes only)"
	case len(orders) > 1:
		return "mixed (not this host's, " + host + ")"
	case orders[npy.HostOrder]:
		return host + " (this host's)"
	case orders['=']:
		return "native (=)"
	}
	return npy.OrderName('<'+'>'-npy.HostOrder) + " (not this host's, " + host + ")"
}

// fileOrders returns the byte orders of d's numbers: '<', '>' or '='.
func fileOrders(d npy.DType) map[byte]bool {
	orders := map[byte]bool{}
	var collect func(d npy.DType)
	collect = func(d npy.DType) {
		for _, f := range d.Fields {
			collect(f.Type)
		}
		if order, _, _ := d.Parts(); !d.Structured() && order != '|' {
			orders[order] = true
		}
	}
	collect(d)
	return orders
}
