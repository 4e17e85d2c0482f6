package mmap

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// allocate extends f from size from to size to with blocks allocated
// (fallocate), so that a full disk fails here and not when a page of the
// mapping is first written. Where the file system cannot, it writes zeros.
// If it fails, f is cut back to from: a fallocate that runs out of space
// may have allocated, and extended the file, part of the way.
func allocate(f *os.File, from, to int64) error {
	err := withFD(f, func(fd uintptr) error { return unix.Fallocate(int(fd), 0, from, to-from) })
	switch {
	case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
		return fillZeros(f, from, to)
	case err != nil:
		return errors.Join(err, f.Truncate(from))
	}
	return nil
}
