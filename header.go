package mmap

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/typedmmap/mmap/internal/npy"
)

// An Array file is a .npy file (FORMAT.md): numpy's header, which names
// T's fields and shape, then the records. This file connects T to that
// header: it writes T as a numpy type, checks a file's header against T,
// and reads a header together with its sidecar, which makes the count
// crash-safe.

// npyType is a flat type as numpy sees it.
type npyType struct {
	dtype npy.DType
	rows  []int // the shape of one record: nil, or an array type's dimensions
}

// numpyType returns l's numpy type in this host's byte order, or an error
// wrapping ErrType if numpy cannot name its fields apart.
func numpyType(l *layout) (npyType, error) {
	d, rows, err := npy.FromLayout(l.flat, npy.HostOrder)
	if err != nil {
		return npyType{}, errorf(ErrType, "%s: %v", l.name, err)
	}
	return npyType{dtype: d, rows: rows}, nil
}

// Descr returns T's numpy descr, the text an Array file's header gives as
// 'descr': Python's repr of the type, such as '<f8' or
// [('Time', '<i8'), ('Value', '<f4'), (”, '|V4')]. Field names are the Go
// names, or those that `npy:"name"` struct tags give; blank fields are
// padding. For an array type T, such as [768]float32, the descr is that of
// the element ('<f4'), and each record adds its dimensions to the array's
// shape: (count, 768). Use it to build a numpy.memmap by hand:
//
//	np.memmap(path, dtype=np.dtype(ast.literal_eval(descr)), offset=...)
func Descr[T any]() (string, error) {
	_, t, err := arrayType[T]()
	if err != nil {
		return "", err
	}
	return t.dtype.String(), nil
}

// arrayType checks that T can be an Array's record, and returns its layout
// and numpy type.
func arrayType[T any]() (*layout, npyType, error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, npyType{}, err
	}
	t, err := numpyType(l)
	return l, t, err
}

// newHeader returns the header of an array of count records of t.
func newHeader(t npyType, count int) ([]byte, *npy.Header, error) {
	b, err := npy.Build(t.dtype, t.rows, int64(count))
	if err != nil {
		return nil, nil, errorf(ErrType, "%v", err)
	}
	h, err := npy.Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: a header it wrote does not parse: %w", err)
	}
	return b, h, nil
}

// checkType checks that header h describes records of type t (named name)
// in this host's byte order, one after another.
func checkType(h *npy.Header, t npyType, name string) error {
	if path, why, otherOrder := npy.Mismatch(h.DType, t.dtype); path != "" {
		kind := ErrType
		if otherOrder {
			kind = ErrByteOrder
			why += fmt.Sprintf("; the file is not in this host's byte order (%s)", npy.OrderName(npy.HostOrder))
		}
		want := t.dtype.String()
		if t.rows != nil {
			want += fmt.Sprintf(" in rows of %v", t.rows)
		}
		return errorf(kind, "holds records of %s, not %s (%s): %s: %s", h.DType, name, want, path, why)
	}
	if h.Fortran && len(h.Shape) > 1 {
		return errorf(ErrType, "holds a %d-dimensional array in Fortran (column-major) order, so a record's values are not side by side; save it with numpy.ascontiguousarray", len(h.Shape))
	}
	if len(h.Shape) == 0 {
		return errorf(ErrType, "holds a 0-dimensional array (shape ()), a single value; an Array holds a sequence of records")
	}
	if rows := h.Shape[1:]; !sameDims(rows, t.rows) {
		return errorf(ErrType, "holds records of shape %v (the shape is %v); %s records have shape %v", rows, h.Shape, name, t.rows)
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

// readHeader reads the .npy header at the start of f, whose size is size
// bytes: the first bytes of the file, as many as npy.Decide needs, and the
// header parsed, or why it does not parse (an error wrapping ErrFormat).
func readHeader(f *os.File, size int64) ([]byte, *npy.Header, error) {
	b := make([]byte, min(size, npy.Prefix))
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, nil, err
	}
	h, err := npy.Parse(b)
	if err != nil {
		return b, nil, errorf(ErrFormat, "%v", err)
	}
	return b, h, nil
}

// checkAlign refuses a header after which the records would start at an
// offset not aligned for them: numpy pads its headers to a multiple of 64
// bytes (16 before numpy 1.x), but a file written by hand or by another
// program may not.
func checkAlign(h *npy.Header, name string, align int) error {
	if off := h.Len; off%align != 0 {
		return errorf(ErrAlignment, "the records start at offset %d, which is %d-byte aligned, and %s needs %d: the header is not padded as numpy pads it (to a multiple of 64 bytes); save the array again with numpy.save, or copy it into an Array made with Create", off, off&-off, name, align)
	}
	return nil
}

// checkSize refuses a header that counts more records than the size bytes
// of the file hold.
func checkSize(h *npy.Header, count int64, itemSize int, size int64) error {
	room := (size - int64(h.Len)) / int64(itemSize)
	if count > room {
		return errorf(ErrFormat, "the header counts %d records of %d bytes from offset %d, but the file has %d bytes", count, itemSize, h.Len, size)
	}
	return nil
}

// readState reads an array file's header and, when the sidecar side is
// present and belongs to the file, its slots, and decides what holds (see
// npy.Decide).
func readState(f *os.File, size int64, side *sidecar) (npy.State, error) {
	b, h, err := readHeader(f, size)
	if b == nil {
		return npy.State{}, err
	}
	var slots []npy.Slot
	if side != nil {
		slots = side.validSlots()
	}
	st, err := npy.Decide(b, h, err, slots)
	if err != nil && !errors.Is(err, ErrFormat) {
		return npy.State{}, errorf(ErrFormat, "%v", err)
	}
	return st, err
}
