package mmap

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// lockInode takes the writer's lock on the file fd itself without waiting:
// an exclusive open-file-description lock (F_OFD_SETLK) on the byte at
// writerLockOffset. It belongs to the open file, whatever name reached it
// (a symbolic link, a hard link, a bind mount), and does not meet the flock
// locks of lockFile, which Linux keeps apart. Another writer's lock is
// ErrLocked; a kernel older than 3.15, which lacks these locks, is
// errors.ErrUnsupported.
func lockInode(fd uintptr) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: writerLockOffset, Len: 1}
	err := unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES):
		return ErrLocked
	case errors.Is(err, unix.EINVAL):
		return errors.ErrUnsupported
	}
	return err
}

func unlockInode(fd uintptr) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart, Start: writerLockOffset, Len: 1}
	return unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
}

// inodeLocked reports whether a writer holds its lock on the file fd
// (lockInode), without taking any lock: F_OFD_GETLK asks. A kernel that
// lacks these locks is errors.ErrUnsupported.
func inodeLocked(fd uintptr) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: writerLockOffset, Len: 1}
	err := unix.FcntlFlock(fd, unix.F_OFD_GETLK, &lk)
	if errors.Is(err, unix.EINVAL) {
		return false, errors.ErrUnsupported
	}
	return err == nil && lk.Type != unix.F_UNLCK, err
}
