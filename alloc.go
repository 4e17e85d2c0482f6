package mmap

import (
	"errors"
	"os"
)

// fillZeros extends f from size from to size to by writing zeros. If that
// fails (a full disk), f is cut back to from.
func fillZeros(f *os.File, from, to int64) error {
	zeros := make([]byte, min(to-from, 1<<20))
	for off := from; off < to; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), to-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return errors.Join(err, f.Truncate(from))
		}
	}
	return nil
}
