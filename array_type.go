package mmap

import (
	"fmt"
	"io"
	"os"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// An Array file is a .npy file (FORMAT.md): numpy's header, which names
// T's fields and shape, then the records. This file connects T to that
// header, by the rules of package arrayfile: it writes T as a numpy type,
// reads a header together with its sidecar, which makes the count
// crash-safe, and turns the rules' refusals into the package's errors.

// Descr returns T's numpy descr, the text an Array file's header gives as
// 'descr': Python's repr of the type, such as
//
//	'<f8'
//	[('Time', '<i8'), ('Value', '<f4'), ('', '|V4')]
//
// Field names are the Go names, or those that `npy:"name"` struct tags
// give; a tag may also ask for a numpy type Go has none of, on a field that
// holds its bytes: `npy:"time,M8[ns]"` (datetime64, on an int64), `,m8[us]`
// (timedelta64), `,?` (bool, on a uint8), `,S` (bytes, on a [n]byte), `,U`
// (unicode, on a [n]rune); FORMAT.md lists them. Blank fields are padding,
// unnamed, as in the second example. For an array
// type T, such as [768]float32, the descr is that of the element ('<f4'),
// and each record adds its dimensions to the array's shape: (count, 768).
// Use it to build a numpy.memmap by hand:
//
//	np.memmap(path, dtype=np.dtype(ast.literal_eval(descr)), offset=...)
func Descr[T any]() (string, error) {
	_, t, err := arrayType[T]()
	if err != nil {
		return "", err
	}
	return t.DType.String(), nil
}

// arrayType checks that T can be an Array's record, and returns its layout
// and its type as an array file holds it; an error wrapping ErrType if
// numpy cannot name its fields apart.
func arrayType[T any]() (*layout, arrayfile.Type, error) {
	l, err := layoutFor[T]()
	if err != nil {
		return nil, arrayfile.Type{}, err
	}
	t, err := arrayfile.TypeOf(l.flat, l.name)
	if err != nil {
		return nil, arrayfile.Type{}, errorf(ErrType, "%v", err)
	}
	return l, t, nil
}

// newHeader returns the header of an array of count records of t.
func newHeader(t arrayfile.Type, count int) ([]byte, *npy.Header, error) {
	b, err := npy.Build(t.DType, t.Rows, int64(count))
	if err != nil {
		return nil, nil, errorf(ErrType, "%v", err)
	}
	h, err := npy.Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: a header it wrote does not parse: %w", err)
	}
	return b, h, nil
}

// readState reads the start of the array file f, whose size is size bytes,
// as many bytes as a header can take, and decides what holds, with the
// valid slots of its sidecar (arrayfile.Decide).
func readState(f *os.File, size int64, slots []arrayfile.Slot) (arrayfile.State, error) {
	b := make([]byte, min(size, npy.Prefix))
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return arrayfile.State{}, err
	}
	st, r := arrayfile.Decide(b, slots)
	if r != nil {
		return arrayfile.State{}, refusal(r)
	}
	return st, nil
}

// accept returns why the file whose state st holds, and which has size
// bytes, cannot be opened as records of t: the first of the rules'
// refusals, or nil.
func accept(st arrayfile.State, size int64, t arrayfile.Type) error {
	if r := arrayfile.Check(st.H, st.Count, size, &t); len(r) > 0 {
		return refusal(r[0])
	}
	return nil
}

// kinds are the package's errors for the kinds of the rules' refusals.
var kinds = [...]error{
	arrayfile.KindFormat:    ErrFormat,
	arrayfile.KindType:      ErrType,
	arrayfile.KindByteOrder: ErrByteOrder,
	arrayfile.KindAlignment: ErrAlignment,
}

// refusal is the package's error for a refusal of the rules: a problem of
// its kind, with the refusal in its chain, for errors.As.
func refusal(r *arrayfile.Refusal) error {
	return &problem{kind: kinds[r.Reason.Kind()], msg: r.Msg, cause: r}
}
