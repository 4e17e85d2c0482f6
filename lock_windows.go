package mmap

import (
	"errors"

	"golang.org/x/sys/windows"
)

// lockOffset is the byte that lockFile locks: far past the end of any file,
// because Windows locks are mandatory and a lock on the data would stop
// other handles from reading it.
const lockOffset = 1 << 62

// lockFile takes a lock on the file handle fd without waiting: shared, or
// exclusive. Windows locks belong to the handle, so a second open of the
// same file conflicts even within one process. A lock held elsewhere is
// ErrLocked.
func lockFile(fd uintptr, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(fd), flags, 0, 1, 0, lockByte())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return ErrLocked
	}
	return err
}

// unlockFile releases the lock at once: Windows may take a while to release
// the locks of a closed handle.
func unlockFile(fd uintptr) error {
	return windows.UnlockFileEx(windows.Handle(fd), 0, 1, 0, lockByte())
}

// lockByte addresses the byte at lockOffset, for LockFileEx and UnlockFileEx.
func lockByte() *windows.Overlapped {
	return &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
}
