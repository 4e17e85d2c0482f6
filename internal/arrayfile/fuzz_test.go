package arrayfile

import (
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
	})
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
