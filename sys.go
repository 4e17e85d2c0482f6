package mmap

import (
	"errors"
	"os"
)

// The helpers that the per-OS primitives (sys_*.go, lock_*.go, alloc_*.go)
// share, whatever the OS.

// withFD runs fn with f's descriptor (a handle on Windows), which stays open
// until fn returns even if another goroutine closes f. A closed f is
// fs.ErrClosed on every OS.
func withFD(f *os.File, fn func(fd uintptr) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(fd) }); err != nil {
		return pathError("map", f.Name(), os.ErrClosed)
	}
	return fnErr
}

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

// writerLockOffset is the byte of an array file that its writer's lock
// covers (lockInode): far past the end of any file, so that no read or
// write meets it.
const writerLockOffset = 1<<62 + 1
