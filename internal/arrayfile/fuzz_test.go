package arrayfile

import (
	"slices"
	"testing"

	"github.com/typedmmap/mmap/internal/npy"
)

// FuzzCheck decides what arbitrary bytes hold, as Open does, and checks
// them as records of their own type and of none. Whatever the bytes,
// Decide agrees with npy.Parse on whether they are a .npy file; a type
// compares equal to itself; every refusal has a reason, a message and the
// kind its reason says; and the records, as the Go type that holds them
// (Check with none, or with GoTypeOf's), are refused only for facts of the
// file, never a mismatch of type or rows.
func FuzzCheck(f *testing.F) {
	f.Add(header("{'descr': [('a', '<f8', (2, 3)), ('', '|V4'), ('b', [('c', '>i2')])], 'fortran_order': False, 'shape': (3, 4), }", 2), int64(1000))
	f.Add(header("{'shape': (7L,), 'fortran_order': True, \"descr\": u'<c16' # comment\n}", 1), int64(64))
	f.Add(header("{'descr': '|O', 'fortran_order': False, 'shape': ()}", 1), int64(0))
	f.Add(header("{'descr': [('', '|V1'), ('', '|V1'), ('a', '<i2'), ('p', [('x', '<i1'), ('y', '<f8')])], 'fortran_order': False, 'shape': (2,), }", 1), int64(300))
	f.Add(header("{'descr': [('time', '<M8[ns]'), ('ok', '|b1'), ('n', '<i8'), ('x', '<f8'), ('name', '<U4'), ('c', '|S3')], 'fortran_order': False, 'shape': (5,), }", 1), int64(400))
	f.Add(header("{'descr': [('t', '<m8[us]'), ('s', '|S5', (2,)), ('p', [('a', '<i2'), ('b', '<f4')], (3,))], 'fortran_order': False, 'shape': (2, 2), }", 1), int64(400))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		st, r := Decide(b, nil)
		if _, err := npy.Parse(b); (err == nil) != (r == nil) {
			t.Fatalf("Decide refuses %v, npy.Parse %v", r, err)
		}
		if r != nil {
			checkRefusals(t, []*Refusal{r})
			return
		}
		if d := mismatch(st.H.DType.Merged(), st.H.DType.Merged(), ""); d.path != "" {
			t.Fatalf("%s differs from itself at %s: %s", st.H.DType, d.path, d.why)
		}
		refusals := Check(st.H, st.Count, size, nil)
		checkRefusals(t, refusals)
		for _, r := range refusals {
			if !r.Reason.OfFile() {
				t.Fatalf("the file's own Go type is refused: %v", r)
			}
		}
		g, typ, noType := GoTypeOf(st.H)
		if noType != nil {
			if len(refusals) == 0 || refusals[0].Msg != noType.Msg {
				t.Fatalf("no Go type holds the records (%v), yet Check refuses first %v", noType, refusals)
			}
			return
		}
		if own := Check(st.H, st.Count, size, &typ); len(own) != len(refusals) {
			t.Fatalf("Check with the file's own type %s: %v; with none: %v", g, own, refusals)
		}
		// A copy refuses what Check does, but for where the records start.
		copyable := true
		for _, r := range refusals {
			copyable = copyable && r.Reason == Misaligned
		}
		runs, r := CheckCopy(st.H, st.Count, size, typ)
		if (r == nil) != copyable {
			t.Fatalf("CheckCopy with the file's own type %s: %v; Check: %v", g, r, refusals)
		}
		if r == nil {
			checkRuns(t, runs, st.H, typ)
		}
	})
}

// FuzzPlan plans the copy of records of a header's type into the Go type
// of its aligned layout (Aligned), which must always be possible when that
// Go type exists (in the file's byte order), with runs inside both records that copy every byte of
// the file's fields once.
func FuzzPlan(f *testing.F) {
	f.Add(header("{'descr': [('time', '<M8[ns]'), ('ok', '|b1'), ('n', '<i8'), ('x', '<f8'), ('name', '<U4')], 'fortran_order': False, 'shape': (5,), }", 1))
	f.Add(header("{'descr': [('a', '<i4'), ('p', [('x', '|i1'), ('y', '<f8')], (2,)), ('', '|V3'), ('z', '<c8')], 'fortran_order': False, 'shape': (2, 3), }", 1))
	f.Add(header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := npy.Parse(b)
		if err != nil {
			return
		}
		aligned := *h
		aligned.DType = Aligned(h.DType)
		g, typ, r := GoTypeOf(&aligned)
		if r != nil {
			return
		}
		runs, r := Plan(h.DType, typ)
		switch {
		case r != nil && r.Reason == OtherType && times(copies(h.DType), product(typ.Rows)) > maxRuns:
			return // a copy field by field would take too many runs
		case r != nil && r.Reason != OtherOrder:
			t.Fatalf("Plan of %s into its aligned Go type %s: %v", h.DType, g, r)
		case r != nil:
			return // the Go type is in this host's byte order, not the file's
		}
		checkRuns(t, runs, h, typ)
	})
}

// checkRuns checks that runs lie inside a record of the file h describes
// and inside one of typ, copy no byte twice nor to the same place twice,
// and copy at least the bytes of the file's fields: padding only where the
// two lay it out alike.
func checkRuns(t *testing.T, runs []Run, h *npy.Header, typ Type) {
	t.Helper()
	recSize, ok := RecordSize(h)
	if !ok {
		return
	}
	got := 0
	for _, r := range runs {
		if r.Size <= 0 || r.File < 0 || int64(r.File+r.Size) > recSize || r.Go < 0 || r.Go+r.Size > typ.Size {
			t.Fatalf("run %+v outside a record of %d bytes in the file or %d in Go", r, recSize, typ.Size)
		}
		got += r.Size
	}
	for _, at := range []func(Run) int{func(r Run) int { return r.File }, func(r Run) int { return r.Go }} {
		sorted := slices.SortedFunc(slices.Values(runs), func(a, b Run) int { return at(a) - at(b) })
		for i := 1; i < len(sorted); i++ {
			if at(sorted[i-1])+sorted[i-1].Size > at(sorted[i]) {
				t.Fatalf("runs %+v and %+v overlap", sorted[i-1], sorted[i])
			}
		}
	}
	if want := fieldBytes(h.DType) * product(typ.Rows); got < want {
		t.Fatalf("the runs copy %d bytes; the file's fields have %d", got, want)
	}
}

// fieldBytes is the size of numpy type d without its padding.
func fieldBytes(d npy.DType) int {
	if !d.Structured() {
		return d.Itemsize()
	}
	n := 0
	for _, f := range d.Fields {
		if !f.Padding() {
			n += fieldBytes(f.Type) * product(f.Shape)
		}
	}
	return n
}

// copies is how many stretches of bytes a copy of an element of numpy
// type d takes at most, one for each field (each of a subarray of
// structs), or more than maxRuns.
func copies(d npy.DType) int {
	if !d.Structured() {
		return 1
	}
	n := 0
	for _, f := range d.Fields {
		switch {
		case f.Padding():
		case f.Type.Structured():
			n += times(copies(f.Type), product(f.Shape))
		default:
			n++
		}
		n = min(n, maxRuns+1)
	}
	return n
}

// times is a times b, or more than maxRuns if that is.
func times(a, b int) int {
	if a > 0 && b > maxRuns/a {
		return maxRuns + 1
	}
	return a * b
}

// checkRefusals checks that each refusal is one of Reasons, with a message
// and a kind.
func checkRefusals(t *testing.T, refusals []*Refusal) {
	t.Helper()
	for _, r := range refusals {
		if r.Reason < NotNPY || r.Reason >= endReasons || r.Msg == "" || r.Reason.String() == "" || r.Reason.Kind() < KindFormat || r.Reason.Kind() > KindAlignment {
			t.Fatalf("refusal %+v: a reason of its own, or no message", r)
		}
	}
}
