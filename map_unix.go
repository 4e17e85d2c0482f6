//go:build unix

package mmap

import (
	"os"

	"golang.org/x/sys/unix"
)

// sysHandle is what the OS needs kept per mapping besides its memory:
// nothing on Unix.
type sysHandle struct{}

// granularity is the alignment the OS requires of a mapping's file offset.
func granularity() int { return os.Getpagesize() }

// mmap maps length bytes of the file fd at offset, which is a multiple of
// granularity(); with ANON in flags it maps anonymous memory.
func mmap(fd uintptr, offset int64, length int, prot, flags int) (mem []byte, _ sysHandle, err error) {
	uprot, uflags := unix.PROT_READ, unix.MAP_SHARED
	switch {
	case prot&COPY != 0:
		uprot |= unix.PROT_WRITE
		uflags = unix.MAP_PRIVATE
	case prot&RDWR != 0:
		uprot |= unix.PROT_WRITE
	}
	if prot&EXEC != 0 {
		uprot |= unix.PROT_EXEC
	}
	if flags&POPULATE != 0 {
		uflags |= mapPopulate
	}
	if flags&ANON != 0 {
		mem, err = unix.Mmap(-1, 0, length, uprot, uflags|unix.MAP_ANON)
	} else {
		mem, err = unix.Mmap(int(fd), offset, length, uprot, uflags)
	}
	if err == nil && flags&POPULATE != 0 && mapPopulate == 0 {
		// Only a hint: the mapping is good whether or not the OS takes it.
		_ = unix.Madvise(mem, unix.MADV_WILLNEED)
	}
	return mem, sysHandle{}, err
}

func unmap(mem []byte, _ sysHandle) error { return unix.Munmap(mem) }

func flush(pages []byte, _ sysHandle) error { return unix.Msync(pages, unix.MS_SYNC) }

func lock(pages []byte) error { return unix.Mlock(pages) }

func unlock(pages []byte) error { return unix.Munlock(pages) }

var adviceFlags = [...]int{
	Normal:     unix.MADV_NORMAL,
	Sequential: unix.MADV_SEQUENTIAL,
	Random:     unix.MADV_RANDOM,
	WillNeed:   unix.MADV_WILLNEED,
	DontNeed:   unix.MADV_DONTNEED,
}

func advise(pages []byte, a Advice) error { return unix.Madvise(pages, adviceFlags[a]) }

// reserveBeyondEOF: a mapping may reach past the end of its file; its pages
// there become usable as the file grows.
const reserveBeyondEOF = true
