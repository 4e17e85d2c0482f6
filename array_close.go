package mmap

import (
	"errors"
	"os"
)

// How an Array ends: Close, and the undoing of a Create or Open that
// failed.

// Close syncs a writer, unmaps the file, releases the locks and closes it.
// A writer with no reader left also cuts the file to its last record, as
// the .npy readers expect, and removes the sidecar; otherwise the next
// writer's Close does. Items slices are invalid afterwards. Goroutines in
// Wait or Follow return an error wrapping [fs.ErrClosed]; Close waits for
// them to go. A second Close returns an error wrapping fs.ErrClosed.
func (a *Array[T]) Close() error {
	if a.f == nil || a.closed.Swap(true) {
		return wrapErr("close", a.path, os.ErrClosed)
	}
	a.stopWaiters()
	defer a.closing.Unlock()
	var err error
	if a.writable {
		err = a.sync()
		if err == nil {
			// The header too: the sidecar may go (trim).
			err = a.flushHeader()
		}
		if err == nil {
			a.side.publish(a.w.count, true)
			err = a.trim()
		}
	}
	return errors.Join(wrapErr("close", a.path, err), a.release())
}

// announceEnd shows the readers that the writer appends no more, ahead of
// its Close: a log's roll does, so that its followers go on to the next
// segment while the Close finishes in another goroutine.
func (a *Array[T]) announceEnd() { a.side.publish(a.w.count, true) }

// trim cuts the file to its last record and removes the sidecar, if no
// reader has the file open.
func (a *Array[T]) trim() error {
	unlock, err := a.lockOutReaders("Close would cut the file under them")
	if errors.Is(err, ErrLocked) {
		return nil // the next writer's Close trims
	}
	if err != nil {
		return err
	}
	defer unlock()
	if err := a.unmapAll(); err != nil {
		return err
	}
	if end := int64(a.h.Len) + int64(a.w.count)*int64(a.l.size); end < a.size {
		if err := a.f.Truncate(end); err != nil {
			return err
		}
	}
	err = a.side.remove()
	a.side = nil
	return err
}

// fail undoes a Create or Open that failed with err: it removes the files
// that it created, and releases the rest.
func (a *Array[T]) fail(op string, err error) error {
	if a.side != nil && a.side.created {
		a.side.remove()
		a.side = nil
	}
	created := a.w.created
	a.release()
	if created {
		os.Remove(a.path)
	}
	return wrapErr(op, a.path, err)
}

// release unmaps the file and the sidecar, unlocks and closes them, and
// marks a closed.
func (a *Array[T]) release() error {
	err := a.unmapAll()
	err = errors.Join(err, a.side.close(), a.retired.close())
	// At once: Windows may take a while to release the locks of a closed
	// handle.
	if a.shared {
		err = errors.Join(err, withFD(a.f, unlockFile))
	}
	if a.w.inode {
		err = errors.Join(err, withFD(a.f, unlockInode))
	}
	err = errors.Join(err, a.f.Close())
	a.f, a.side, a.retired, a.shared, a.w = nil, nil, nil, false, writer{}
	a.pub.Store(0)
	return wrapErr("close", a.path, err)
}
