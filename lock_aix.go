package mmap

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// lockFile takes an advisory lock on the whole file fd without waiting:
// shared, or exclusive. AIX has no flock; its fcntl locks belong to the
// process, so they keep other processes out but not a second open in this
// one. A lock held elsewhere is ErrLocked.
func lockFile(fd uintptr, exclusive bool) error {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: io.SeekStart}
	if exclusive {
		lk.Type = unix.F_WRLCK
	}
	err := unix.FcntlFlock(fd, unix.F_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return ErrLocked
	}
	return err
}

func unlockFile(fd uintptr) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart}
	return unix.FcntlFlock(fd, unix.F_SETLK, &lk)
}
