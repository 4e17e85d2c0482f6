package main

import (
	"fmt"
	"path/filepath"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// verdict is mmapinfo's judgement of a file: healthy, or what is wrong,
// and what mmap.Open does with it.
type verdict struct {
	Status     string   `json:"status"`               // healthy, damaged or unusable
	OpenError  string   `json:"open_error,omitempty"` // the error that Open's wraps, when it fails: ErrFormat, ErrType or ErrByteOrder
	Problems   []string `json:"problems,omitempty"`   // what is wrong
	Notes      []string `json:"notes,omitempty"`      // what is worth knowing
	OpenRDONLY string   `json:"open_rdonly"`          // what Open(path, RDONLY) does, of any Go type that matches
	OpenRDWR   string   `json:"open_rdwr"`            // what Open(path, RDWR) does
}

// The statuses, from best to worst.
const (
	healthy  = "healthy"  // nothing is wrong
	damaged  = "damaged"  // Open repairs the damage, or does without what is damaged
	unusable = "unusable" // Open fails
)

var rank = map[string]int{healthy: 0, damaged: 1, unusable: 2}

// problem notes something wrong that makes the file at least status.
func (v *verdict) problem(status, format string, args ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	if rank[status] > rank[v.Status] {
		v.Status = status
	}
}

func (v *verdict) note(format string, args ...any) {
	v.Notes = append(v.Notes, fmt.Sprintf(format, args...))
}

// fail notes why Open fails, with the error it wraps; the first failure is
// the one Open reports, as it checks in this order.
func (v *verdict) fail(sentinel, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if v.Status != unusable {
		v.OpenError = sentinel
		open := "fails with " + sentinel + ": " + msg
		v.OpenRDONLY = open
		if v.OpenRDWR == "" {
			v.OpenRDWR = open
		}
	}
	v.problem(unusable, "%s", msg)
}

// refuse notes a refusal of the rules that Open follows (arrayfile).
func (v *verdict) refuse(r *arrayfile.Refusal) { v.fail(r.Reason.Kind().String(), "%s", r.Msg) }

// judge decides the verdict on e, by the rules Open follows, in its order:
// the sidecar, the header that holds (arrayfile.Decide), then the records
// as the Go type that holds them (arrayfile.Check).
func judge(e *exam) verdict {
	v := verdict{Status: healthy}
	judgeSidecar(e, &v)
	if e.idErr != nil {
		v.fail("ErrUnsupported", "this platform cannot tell a file's identity (%v), which Open needs", e.idErr)
	}
	if e.state == nil {
		v.refuse(e.stateErr)
		return v
	}
	h, info := e.state.H, e.Header
	for _, r := range arrayfile.Check(h, e.state.Count, e.Size, nil) {
		v.refuse(r)
		if r.Reason == arrayfile.OtherOrder {
			v.note("%s", otherOrder(h.DType))
		}
	}
	judgeSpare(e, &v)
	if v.OpenRDONLY == "" {
		v.OpenRDONLY = opens(info.Count)
		if e.state.Torn {
			v.OpenRDONLY += fmt.Sprintf(", as %s counts, and leaves the file as it is", info.From)
		}
	}
	if v.OpenRDWR == "" {
		v.OpenRDWR = opens(info.Count)
		switch {
		case e.state.Torn:
			v.OpenRDWR = fmt.Sprintf("rewrites the header from %s, and %s", info.From, v.OpenRDWR)
		case e.state.Seq != 0: // slots count from 1: a live sidecar decided
			v.OpenRDWR += ", unless a writer still has it (ErrLocked)"
		}
	}
	if info.MaxCount >= 0 && info.MaxCount < 1<<63-1 {
		v.note("the header has room to count %d records: appends past that fail (numpy 1.24 and later leave room for more)", info.MaxCount)
	}
	return v
}

func opens(n int64) string { return "opens " + plural(n, "record") }

// judgeSidecar notes what the sidecar holds and what Open does with it.
func judgeSidecar(e *exam, v *verdict) {
	s := e.Sidecar
	if s == nil {
		return
	}
	name := filepath.Base(s.Path)
	if s.WriterRefuses != "" && s.ReaderRefuses == "" {
		v.problem(damaged, "the sidecar %s cannot be trusted by a writer of this user (%s): a writer refuses it", name, s.WriterRefuses)
		v.OpenRDWR = "fails with ErrPermission: it does not trust the sidecar (" + s.WriterRefuses + ")"
	}
	switch {
	case !s.Readable:
		v.problem(damaged, "the sidecar %s cannot be read (%s): a reader does without it", name, s.Error)
		v.OpenRDWR = "fails: it cannot open the sidecar for writing (" + s.Error + ")"
		return
	case s.Error != "":
		v.problem(damaged, "%s is not a sidecar, or its control page is damaged (%s): Open does without it, and the next writer replaces it", name, s.Error)
		return
	case s.ReaderRefuses != "":
		v.problem(damaged, "the sidecar %s cannot be trusted (%s): a reader does without it, and a writer refuses it", name, s.ReaderRefuses)
		v.OpenRDWR = "fails with ErrPermission: it does not trust the sidecar (" + s.ReaderRefuses + ")"
		return
	case e.idErr != nil:
		return // judge says why Open fails
	case !s.Belongs:
		v.problem(damaged, "the sidecar %s belongs to another file (device %d, inode %d; this file is device %d, inode %d), one this file replaced: Open does without it, and the next writer replaces it",
			name, s.Dev, s.Ino, s.FileDev, s.FileIno)
		return
	}
	good := 0
	for i, slot := range s.Slots {
		switch {
		case slot.Good:
			good++
		case !slot.Empty:
			v.problem(damaged, "slot %d of the sidecar is bad: %s", i, slot.Error)
		}
	}
	switch {
	case good == 0:
		v.problem(damaged, "no slot of the sidecar is valid: Open goes by the file's header alone, and the next writer writes a fresh sidecar")
	case e.state == nil && e.stateErr.Reason == arrayfile.BadSlot:
		// The newest slot decided, and is wrong: Open fails, as judge says.
	case e.state == nil || e.state.Seq == 0: // slots count from 1: no slot decided
		v.problem(damaged, "the sidecar's slots do not describe the file's header, which another program may have rewritten: Open goes by the header alone, and the next writer writes a fresh sidecar")
	case e.state.Torn:
		v.problem(damaged, "%s", tornHeader(e))
	default:
		v.note("a writer has the file open, or stopped without closing it, or closed it while readers had it open; the header is the newest slot's copy")
	}
}

// tornHeader says how the file's header differs from the newest slot's.
func tornHeader(e *exam) string {
	from := e.Header.From
	for i, slot := range e.Sidecar.Slots {
		if slot.Good && !slot.Newest && slot.Matches {
			return fmt.Sprintf("the file's header is slot %d's, which counts %d records; %s, the newest, counts %d: the writer stopped after it made %s durable and before it wrote the header",
				i, slot.Count, from, e.Header.Count, from)
		}
	}
	return fmt.Sprintf("the file's header is torn, a mix of the sidecar's two slots sector by sector, or damaged: the writer stopped while it wrote the header; %s counts %d records", from, e.Header.Count)
}

// judgeSpare notes the bytes after the last record.
func judgeSpare(e *exam, v *verdict) {
	info := e.Header
	if info.RecordSize <= 0 || len(e.state.H.Shape) == 0 || info.Count > info.Capacity {
		return
	}
	spare := e.Size - int64(info.DataOffset) - info.Count*info.RecordSize
	switch {
	case spare == 0 || e.rec == nil: // the data may not be records, as a pickle of objects is not
	case e.Sidecar != nil && e.Sidecar.Belongs:
		v.note("room for %s: a writer grows the file ahead of its appends, and its Close cuts it to the last record", plural(info.Capacity-info.Count, "more record"))
	default:
		v.note("%d bytes lie after the last record; readers ignore them", spare)
	}
}

// otherOrder explains what Open does with numbers of d in the other byte
// order, or in both, or in the native one.
func otherOrder(d npy.DType) string {
	orders := fileOrders(d)
	switch {
	case len(orders) > 1:
		return "the numbers mix byte orders: no host opens the file"
	case orders['=']:
		return "the numbers are in the writer's native byte order ('='), which the file does not name: no host opens the file"
	}
	other := npy.OrderName('<' + '>' - npy.HostOrder)
	return fmt.Sprintf("the numbers are %s, and this host is %s; a %s host opens the file", other, npy.OrderName(npy.HostOrder), other)
}
