//go:build unix && !aix

package mmap

import (
	"errors"

	"golang.org/x/sys/unix"
)

// lockFile takes an advisory lock on the whole file fd without waiting:
// shared, or exclusive. flock locks belong to the open file, so a second
// open of the same file conflicts even within one process. A lock held
// elsewhere is ErrLocked.
func lockFile(fd uintptr, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	err := unix.Flock(int(fd), how|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

func unlockFile(fd uintptr) error { return unix.Flock(int(fd), unix.LOCK_UN) }
