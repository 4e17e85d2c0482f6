package mmap

import (
	"context"
	"errors"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapPopulate asks mmap to read the region in while mapping it.
const mapPopulate = unix.MAP_POPULATE

// prefault makes pages present and writable ahead of writes, in one call
// instead of a fault per page. It is only a hint: kernels before 5.14 lack
// MADV_POPULATE_WRITE, and the pages then fault in as they are written.
func prefault(pages []byte) { _ = unix.Madvise(pages, unix.MADV_POPULATE_WRITE) }

// allocate extends f from size from to size to with blocks allocated
// (fallocate), so that a full disk fails here and not when a page of the
// mapping is first written. Where the file system cannot, it writes zeros.
// If it fails, f is cut back to from: a fallocate that runs out of space
// may have allocated, and extended the file, part of the way.
func allocate(f *os.File, from, to int64) error {
	err := withFD(f, func(fd uintptr) error { return unix.Fallocate(int(fd), 0, from, to-from) })
	switch {
	case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
		return fillZeros(f, from, to)
	case err != nil:
		return errors.Join(err, f.Truncate(from))
	}
	return nil
}

// The futex operations (linux/futex.h): without FUTEX_PRIVATE_FLAG, so that
// they work across processes.
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

// futexWait sleeps until another process changes *word from seen and
// wakes it, or d passes; it may return early. word lies in a shared file
// mapping, so the kernel matches waiters and wakers across processes.
func futexWait(word *uint32, seen uint32, d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	// Safe: word is in mapped memory, which never moves, and the pointer to
	// ts is converted in the call expression, which keeps ts alive.
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(seen), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// sleepOnWord sleeps until another process changes *word from seen and
// wakes it, ctx is done, or d passes, and reports that it could.
func sleepOnWord(ctx context.Context, word *uint32, seen uint32, d time.Duration) bool {
	stop := context.AfterFunc(ctx, func() { futexWake(word) })
	futexWait(word, seen, d)
	stop()
	return true
}

// futexWake wakes every process and thread sleeping in futexWait on word.
func futexWake(word *uint32) {
	// Safe: as in futexWait.
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, 1<<31-1, 0, 0, 0)
}
