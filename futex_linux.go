package mmap

import (
	"context"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

// canSleepOnWord says that a reader can sleep on the live word.
const canSleepOnWord = true
