package mmap

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// allocate extends f from size from to size to with blocks allocated
// (F_PREALLOCATE, then ftruncate), so that a full disk fails here and not
// when a page of the mapping is first written. Where the file system
// cannot, it writes zeros.
func allocate(f *os.File, from, to int64) error {
	err := withFD(f, func(fd uintptr) error {
		st := unix.Fstore_t{Flags: unix.F_ALLOCATEALL, Posmode: unix.F_PEOFPOSMODE, Length: to - from}
		return unix.FcntlFstore(fd, unix.F_PREALLOCATE, &st)
	})
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EINVAL) {
		return fillZeros(f, from, to)
	}
	if err != nil {
		return err
	}
	return f.Truncate(to)
}
