package mmap

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"time"

	"github.com/typedmmap/mmap/internal/fileid"
)

// How an Array gets at its file: regular files only, and the locks that
// let one writer and many readers in (FORMAT.md, "Locks").

// openRegular opens the existing file at path, if it is a regular file
// (fileid.OpenRegular); anything else is ErrInvalid.
func openRegular(path string, flag int) (*os.File, error) {
	f, err := fileid.OpenRegular(path, flag)
	if errors.Is(err, fileid.ErrNotRegular) {
		return nil, errorf(ErrInvalid, "%v", err)
	}
	return f, err
}

// lockWait is how long a reader's Open waits for a writer that holds every
// reader out for a moment (Create, Truncate, Close).
const lockWait = time.Second

// lock takes the lock on the file itself: shared for a reader, waiting up
// to lockWait; exclusive, without waiting, to keep readers out.
func (a *Array[T]) lock(exclusive bool) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := withFD(a.f, func(fd uintptr) error { return lockFile(fd, exclusive) })
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, ErrLocked):
			return wrapErr("lock", a.path, err)
		case exclusive:
			return ErrLocked
		case time.Now().After(deadline):
			return errorf(ErrLocked, "a writer has held every reader out for %v", lockWait)
		}
		time.Sleep(time.Millisecond)
	}
}

// lockOutReaders takes the exclusive lock on the file, which no reader can
// hold with it, and returns how to release it; an error wrapping ErrLocked
// says that readers have the file open, and why that stops the caller.
func (a *Array[T]) lockOutReaders(why string) (func(), error) {
	if err := a.lock(true); err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, errorf(ErrLocked, "readers have it open; %s", why)
		}
		return nil, err
	}
	return func() { withFD(a.f, unlockFile) }, nil
}

// lockWriter takes the writer's lock on the file itself (lockInode), so
// that a second writer fails whatever name it opened: a symbolic link, a
// hard link, a bind mount. Where the OS has no such lock, the sidecar's
// lock is the writer's (lockSidecar), and every name that is a symbolic
// link reaches the one sidecar (sidecarPath), but a hard link would reach
// another: a file with more than one name is refused for writing there.
func (a *Array[T]) lockWriter() error {
	err := retryLocked(func() error { return withFD(a.f, lockInode) })
	switch {
	case err == nil:
		a.w.inode = true
		return nil
	case errors.Is(err, ErrLocked):
		return errorf(ErrLocked, "another writer has it open, by this name or another (in this process or another); an Array has one writer at a time")
	case !errors.Is(err, errors.ErrUnsupported):
		return wrapErr("lock", a.path, err)
	case a.id.Links > 1:
		return errorf(ErrInvalid, "it has %d names (hard links), and here (%s) a writer's lock holds for one name only; write a file that has one name", a.id.Links, runtime.GOOS)
	}
	return nil
}

// retryLocked calls lock, which takes a writer's lock, again while it
// fails with ErrLocked, a few times over two milliseconds: a reader that
// asks whether a writer is alive, where the OS cannot ask without locking
// (writerHeld), holds the lock for a moment.
func retryLocked(lock func() error) error {
	err := lock()
	for range 2 {
		if !errors.Is(err, ErrLocked) {
			break
		}
		time.Sleep(time.Millisecond)
		err = lock()
	}
	return err
}

// writerHeld reports whether a writer has the file open: whether its lock
// on the file is held (inodeHeld), or where the OS has no such lock, the
// lock on its sidecar, side if the reader has it open (lockHeld).
func (a *Array[T]) writerHeld(side *sidecar) (bool, error) {
	held, err := inodeHeld(a.f)
	if !errors.Is(err, errors.ErrUnsupported) {
		return held, err
	}
	f := (*os.File)(nil)
	if side != nil {
		f = side.f
	} else {
		// Opened only to ask about its lock: never read, so that a
		// sidecar the reader does not trust is harmless.
		f, err = fileid.OpenNoFollow(a.sidePath, os.O_RDONLY, 0)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return false, nil // a writer always has a sidecar
		case err != nil:
			return true, nil // cannot tell: as if a writer had it
		}
		defer f.Close()
	}
	return lockHeld(f, false)
}

// inodeHeld reports whether a writer's lock on the file itself
// (lockInode) is held on f, without taking a lock; ErrUnsupported where
// the OS cannot ask.
func inodeHeld(f *os.File) (bool, error) {
	var held bool
	err := withFD(f, func(fd uintptr) (err error) {
		held, err = inodeLocked(fd)
		return err
	})
	return held, err
}

// lockHeld reports whether a lock on the whole of f (lockFile) keeps out
// a shared one, or with exclusive any one: it takes that lock, and
// releases it at once.
func lockHeld(f *os.File, exclusive bool) (bool, error) {
	err := withFD(f, func(fd uintptr) error { return lockFile(fd, exclusive) })
	switch {
	case errors.Is(err, ErrLocked):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, withFD(f, unlockFile)
}
