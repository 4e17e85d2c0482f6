package arrayfile

import (
	"bytes"

	"github.com/typedmmap/mmap/internal/npy"
)

// Recover decides which slot, if any, describes the header that file, the
// start of a .npy file, begins with, given the slots that parsed. A writer
// writes a slot, makes it durable, and only then writes the header, so the
// header is either the newest slot's, the other slot's (the crash came
// before the header was written), or, after a crash during that write, a
// mix of the two, sector by sector. In each case the newest slot's count
// holds, and it is returned. Any other header does not belong to these
// slots: the sidecar is stale, and ok is false.
func Recover(file []byte, slots []Slot) (newest Slot, ok bool) {
	if len(slots) == 0 {
		return Slot{}, false
	}
	newest, other := slots[0], slots[0]
	if len(slots) > 1 {
		other = slots[1]
		if other.Seq > newest.Seq {
			newest, other = other, newest
		}
	}
	n := len(newest.Header)
	if len(file) < n {
		return Slot{}, false
	}
	if len(other.Header) != n {
		other = newest
	}
	for at := 0; at < n; at += sector {
		end := min(at+sector, n)
		chunk := file[at:end]
		if !bytes.Equal(chunk, newest.Header[at:end]) && !bytes.Equal(chunk, other.Header[at:end]) {
			return Slot{}, false
		}
	}
	return newest, true
}

// State is what an array file holds, decided from its header and the slots
// of its sidecar.
type State struct {
	Header []byte      // the header that holds: the file's, or the newest slot's copy
	H      *npy.Header // Header, parsed
	Count  int64       // the records that hold
	Seq    uint64      // the newest slot's sequence number, when the sidecar decided
	Torn   bool        // the file's header is not Header: a crash tore it, or came before it was written
}

// Decide returns what holds for a file that starts with the bytes file (as
// many as its header and the slots' headers take, npy.Prefix at most, or
// the whole file if it is shorter), and whose sidecar has the valid slots
// slots: the newest slot when Recover accepts the file's header, otherwise
// the file's header alone. It refuses a file whose header does not parse
// (NotNPY), and a newest slot whose header does not count its records
// (BadSlot).
func Decide(file []byte, slots []Slot) (State, *Refusal) {
	if s, ok := Recover(file, slots); ok {
		sh, err := npy.Parse(s.Header)
		if err != nil || len(sh.Shape) == 0 || sh.Shape[0] != s.Count {
			return State{}, refuse(BadSlot, "the sidecar's newest slot records a header that does not count its %d records", s.Count)
		}
		torn := !bytes.Equal(file[:len(s.Header)], s.Header)
		return State{Header: s.Header, H: sh, Count: s.Count, Seq: s.Seq, Torn: torn}, nil
	}
	h, err := npy.Parse(file)
	if err != nil {
		return State{}, refuse(NotNPY, "%v", err)
	}
	st := State{Header: file[:h.Len], H: h}
	if len(h.Shape) > 0 {
		st.Count = h.Shape[0]
	}
	return st, nil
}
