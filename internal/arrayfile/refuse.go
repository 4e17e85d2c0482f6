package arrayfile

import (
	"fmt"
	"math"

	"github.com/typedmmap/mmap/internal/npy"
)

// What Open refuses, and why: each refusal has a Reason, which says which
// of the library's errors it is (Kind) and whether it is a fact of the file
// alone or of the Go type asked for, and a message that says what to do.

// Reason is why Open refuses a file.
type Reason int

// The reasons, in the order Open checks them.
const (
	NotNPY       Reason = iota + 1 // not a .npy file, or its header is damaged
	BadSlot                        // the sidecar's newest slot holds a header that does not count its records
	NoGoType                       // a field of a numpy type that no flat Go type maps (objects, strings, ...)
	OtherOrder                     // numbers in the other byte order
	OtherType                      // records of another type than the one asked for
	FortranOrder                   // a multi-dimensional array in Fortran order
	ZeroDim                        // a 0-dimensional array
	OtherRows                      // records of another shape than the one asked for
	Misaligned                     // records that start at an offset not aligned for them
	TooShort                       // a file shorter than its header and the records it counts
	endReasons
)

// Reasons returns every reason, in the order Open checks them.
func Reasons() []Reason {
	r := make([]Reason, 0, endReasons-1)
	for i := NotNPY; i < endReasons; i++ {
		r = append(r, i)
	}
	return r
}

var reasonNames = [...]string{
	NotNPY: "not .npy", BadSlot: "bad slot", NoGoType: "no Go type", OtherOrder: "other byte order",
	OtherType: "other type", FortranOrder: "Fortran order", ZeroDim: "0-dimensional", OtherRows: "other rows",
	Misaligned: "misaligned", TooShort: "too short",
}

func (r Reason) String() string { return reasonNames[r] }

// Kind is which of the library's errors a refusal is.
type Kind int

// The kinds, as the library's sentinels name them.
const (
	KindFormat    Kind = iota // ErrFormat: not a valid array file
	KindType                  // ErrType: records of another type, or of none
	KindByteOrder             // ErrByteOrder
	KindAlignment             // ErrAlignment
)

var kindNames = [...]string{
	KindFormat: "ErrFormat", KindType: "ErrType", KindByteOrder: "ErrByteOrder", KindAlignment: "ErrAlignment",
}

// String names the library's error for k: "ErrFormat".
func (k Kind) String() string { return kindNames[k] }

// Kind returns which of the library's errors a refusal for r is.
func (r Reason) Kind() Kind {
	switch r {
	case NotNPY, BadSlot, TooShort:
		return KindFormat
	case OtherOrder:
		return KindByteOrder
	case Misaligned:
		return KindAlignment
	}
	return KindType
}

// OfFile reports whether a refusal for r is a fact of the file alone,
// whatever Go type opens it: all reasons but OtherType and OtherRows, which
// say that the file's records are not those of the type asked for.
func (r Reason) OfFile() bool { return r != OtherType && r != OtherRows }

// Refusal is why Open refuses a file.
type Refusal struct {
	Reason Reason
	Msg    string // what is wrong, and how to fix it
}

func (r *Refusal) Error() string { return r.Msg }

func refuse(r Reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// Check returns why Open refuses records of t from a file whose header that
// holds is h, which counts count records, and which has size bytes: every
// refusal, in the order Open checks them; Open returns the first. With t
// nil, it checks the records as the Go type that holds them (GoTypeOf), as
// a tool that knows no Go type asks. A file whose records no Go type holds
// is refused as such (NoGoType), whatever t.
func Check(h *npy.Header, count, size int64, t *Type) []*Refusal {
	var refusals []*Refusal
	add := func(r *Refusal) {
		if r != nil {
			refusals = append(refusals, r)
		}
	}
	// A file of the type asked for has a Go type; only a file of another
	// one may have none, which is said first.
	mismatched := t == nil || checkType(h, t) != nil
	if mismatched {
		_, own, noType := GoTypeOf(h)
		switch {
		case noType != nil:
			add(noType)
			t = nil
		case t == nil:
			t = &own
		}
		if t != nil {
			add(checkType(h, t))
		}
	}
	add(checkShape(h))
	if t != nil {
		add(checkRows(h, t))
	}
	if t != nil && h.Len%t.Align != 0 {
		add(refuse(Misaligned, "the records start at offset %d, which is %d-byte aligned, and %s needs %d: the header is not padded as numpy pads it (to a multiple of 64 bytes); save the array again with numpy.save, or copy it into an Array made with Create", h.Len, h.Len&-h.Len, t.Name, t.Align))
	}
	if recSize, ok := RecordSize(h); ok && recSize > 0 && len(h.Shape) > 0 {
		add(checkSize(h, count, recSize, size))
	}
	return refusals
}

// CheckCopy is Check for a reader that copies records of t out of the
// file (ReadRecords) instead of mapping them: they may lie at other
// offsets in a record than t's fields (Plan), and the records at any
// offset in the file. It returns how to copy a record, or the first
// refusal.
func CheckCopy(h *npy.Header, count, size int64, t Type) ([]Run, *Refusal) {
	if r := checkShape(h); r != nil {
		return nil, r
	}
	runs, r := Plan(h.DType, t)
	if r == nil {
		r = checkRows(h, &t)
	}
	if r != nil {
		return nil, r
	}
	recSize, ok := RecordSize(h)
	if !ok {
		return nil, refuse(NoGoType, "holds records of %s, which no Go type holds: a record's size in bytes overflows", h.DType)
	}
	return runs, checkSize(h, count, recSize, size)
}

// checkShape refuses a shape that is no sequence of records with their
// values side by side.
func checkShape(h *npy.Header) *Refusal {
	switch {
	case len(h.Shape) == 0:
		return refuse(ZeroDim, "holds a 0-dimensional array (shape ()), a single value; an Array holds a sequence of records")
	case h.Fortran && len(h.Shape) > 1:
		return refuse(FortranOrder, "holds a %d-dimensional array in Fortran (column-major) order, so a record's values are not side by side; save it with numpy.ascontiguousarray", len(h.Shape))
	}
	return nil
}

// checkRows refuses records of another shape than t's.
func checkRows(h *npy.Header, t *Type) *Refusal {
	if len(h.Shape) > 0 && !sameDims(h.Shape[1:], t.Rows) {
		return refuse(OtherRows, "holds records of shape %v (the shape is %v); %s records have shape %v", h.Shape[1:], h.Shape, t.Name, t.Rows)
	}
	return nil
}

// checkType refuses records of another type than t.
func checkType(h *npy.Header, t *Type) *Refusal {
	d := mismatch(h.DType.Merged(), recordOf(h.DType, t.DType), "")
	if d.path == "" {
		return nil
	}
	want := t.DType.String()
	if t.Rows != nil {
		want += fmt.Sprintf(" in rows of %v", t.Rows)
	}
	reason := OtherType
	if d.otherOrder {
		reason = OtherOrder
		d.why += fmt.Sprintf("; the file is not in this host's byte order (%s)", npy.OrderName(npy.HostOrder))
	}
	return refuse(reason, "holds records of %s, not %s (%s): %s: %s", h.DType, t.Name, want, d.path, d.why)
}

// checkSize refuses a header that counts more records of recSize bytes
// than the size bytes of the file hold.
func checkSize(h *npy.Header, count, recSize, size int64) *Refusal {
	if room := (size - int64(h.Len)) / recSize; count > room {
		return refuse(TooShort, "the header counts %d records of %d bytes from offset %d, but the file has %d bytes", count, recSize, h.Len, size)
	}
	return nil
}

func sameDims(a []int64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != int64(b[i]) {
			return false
		}
	}
	return true
}

// RecordSize is the size in bytes of one record of the array h describes:
// an element of its type times the elements of a row; false if that
// overflows.
func RecordSize(h *npy.Header) (int64, bool) {
	n, ok := sizeOf(h.DType)
	if ok {
		n, ok = timesDims(n, h.Shape[min(1, len(h.Shape)):])
	}
	return n, ok
}

// sizeOf is the size of d in bytes, false if it overflows: then the sizes
// that d.Itemsize adds up are not those of d's fields.
func sizeOf(d npy.DType) (int64, bool) {
	if !d.Structured() {
		n := int64(d.Itemsize())
		return n, n >= 0
	}
	var total int64
	for _, f := range d.Fields {
		n, ok := sizeOf(f.Type)
		if ok {
			n, ok = timesDims(n, f.Shape)
		}
		if !ok || total > math.MaxInt64-n {
			return 0, false
		}
		total += n
	}
	return total, total == int64(d.Itemsize())
}

// timesDims returns n times each of dims, false if it overflows.
func timesDims[N int | int64](n int64, dims []N) (int64, bool) {
	for _, d := range dims {
		if d != 0 && n > math.MaxInt64/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}
