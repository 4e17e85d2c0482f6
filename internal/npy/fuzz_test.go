package npy

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzParse parses arbitrary bytes as a .npy header. Whatever it accepts
// must hold together: the header fits in the input, the header Build writes
// for the same type and shape parses back to them, and where the count can
// change, Rewrite changes it and nothing else.
func FuzzParse(f *testing.F) {
	for _, c := range golden {
		f.Add([]byte(c.want))
	}
	f.Add(header("{'descr': [('a', '<f8', (2, 3)), ('', '|V4'), ('b', [('c', '>i2')])], 'fortran_order': False, 'shape': (3, 4), }", 2))
	f.Add(header("{'shape': (7L,), 'fortran_order': True, \"descr\": u'<c16' # comment\n}", 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Parse(b)
		if err != nil {
			return
		}
		if h.Len > len(b) || h.Len < 10 {
			t.Fatalf("header length %d in %d bytes", h.Len, len(b))
		}
		if len(h.Shape) > 0 && h.Shape[0] <= 1<<62 {
			rows := make([]int, len(h.Shape)-1)
			for i, d := range h.Shape[1:] {
				rows[i] = int(d)
			}
			if built, err := Build(h.DType, rows, h.Shape[0]); err == nil {
				h2, err := Parse(built)
				if err != nil || h2.DType.String() != h.DType.String() || !slices.Equal(h2.Shape, h.Shape) || len(built)%64 != 0 {
					t.Fatalf("Build(%s, %v) = %q: parses as %v, %v", h.DType, h.Shape, built, h2, err)
				}
			}
		}
		if h.MaxCount() < 0 {
			return
		}
		for _, n := range []int64{0, h.MaxCount()} {
			rb, err := h.Rewrite(b[:h.Len], n)
			if err != nil {
				t.Fatalf("Rewrite(%d) with MaxCount %d: %v", n, h.MaxCount(), err)
			}
			h2, err := Parse(rb)
			if err != nil || h2.Shape[0] != n || h2.Len != h.Len || h2.DType.String() != h.DType.String() ||
				!slices.Equal(h2.Shape[1:], h.Shape[1:]) || !bytes.Equal(rb[:h.countAt], b[:h.countAt]) {
				t.Fatalf("Rewrite(%d) = %q: parses as %+v, %v", n, rb, h2, err)
			}
		}
	})
}
