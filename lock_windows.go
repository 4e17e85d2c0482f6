package mmap

import (
	"errors"

	"golang.org/x/sys/windows"
)

// lockFile takes a lock on the file handle fd without waiting: shared, or
// exclusive. Windows locks belong to the handle, so a second open of the
// same file conflicts even within one process. A lock held elsewhere is
// ErrLocked.
func lockFile(fd uintptr, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	return lockAt(fd, flags, lockOffset)
}

// lockInode takes the writer's lock on the file handle fd without waiting:
// exclusive, on the byte at writerLockOffset, apart from lockFile's byte.
// It belongs to the handle, whatever name reached the file (a symbolic or
// hard link). Another writer's lock is ErrLocked.
func lockInode(fd uintptr) error {
	return lockAt(fd, windows.LOCKFILE_FAIL_IMMEDIATELY|windows.LOCKFILE_EXCLUSIVE_LOCK, writerLockOffset)
}

// lockAt locks the byte at offset of the file handle fd.
func lockAt(fd uintptr, flags uint32, offset uint64) error {
	err := windows.LockFileEx(windows.Handle(fd), flags, 0, 1, 0, byteAt(offset))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return ErrLocked
	}
	return err
}

// unlockFile releases the lock at once: Windows may take a while to release
// the locks of a closed handle.
func unlockFile(fd uintptr) error {
	return windows.UnlockFileEx(windows.Handle(fd), 0, 1, 0, byteAt(lockOffset))
}

func unlockInode(fd uintptr) error {
	return windows.UnlockFileEx(windows.Handle(fd), 0, 1, 0, byteAt(writerLockOffset))
}

// byteAt addresses the byte at offset, for LockFileEx and UnlockFileEx.
func byteAt(offset uint64) *windows.Overlapped {
	return &windows.Overlapped{Offset: uint32(offset & 0xffffffff), OffsetHigh: uint32(offset >> 32)}
}

// inodeLocked reports whether a writer holds its lock on the file handle
// fd (lockInode). Windows cannot ask without locking: it takes a shared
// lock on the writer's byte and releases it at once. A writer that opens
// in that moment tries again (retryLocked).
func inodeLocked(fd uintptr) (bool, error) {
	err := lockAt(fd, windows.LOCKFILE_FAIL_IMMEDIATELY, writerLockOffset)
	if errors.Is(err, ErrLocked) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, unlockInode(fd)
}
