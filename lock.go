package mmap

// The bytes of an array file that its locks cover where locks cover bytes
// (lock_windows.go, and the writer's lock on Linux, lock_linux.go): far past
// the end of any file, so that no read or write meets them, since Windows
// locks are mandatory.
const (
	// lockOffset is the byte of the readers' shared lock and of the
	// writer's lock that keeps them out for a moment (lockFile, Windows).
	lockOffset = 1 << 62
	// writerLockOffset is the byte of the writer's lock on the file itself
	// (lockInode).
	writerLockOffset = 1<<62 + 1
)
