// Besides unsafe.go, only this file and the futex calls of futex_linux.go
// use unsafe: Windows returns and takes addresses as uintptr (viewBytes,
// and advise's PrefetchVirtualMemory call).

package mmap

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sysHandle is what Windows needs kept per mapping besides its memory: a
// duplicate of the file handle, for FlushFileBuffers after the caller has
// closed the file. It is 0 unless the view is writable and backed by a file.
type sysHandle struct {
	file windows.Handle
}

// granularity is the alignment Windows requires of a view's file offset: the
// allocation granularity, 64 KiB on every Windows release, not the page size.
func granularity() int { return 64 << 10 }

// mmap maps length bytes of the file handle fd at offset, which is a
// multiple of granularity(); with ANON in flags it maps anonymous memory
// backed by the paging file.
func mmap(fd uintptr, offset int64, length int, prot, flags int) ([]byte, sysHandle, error) {
	pageProt, access := uint32(windows.PAGE_READONLY), uint32(windows.FILE_MAP_READ)
	switch {
	case prot&COPY != 0:
		pageProt, access = windows.PAGE_WRITECOPY, windows.FILE_MAP_COPY
	case prot&RDWR != 0:
		pageProt, access = windows.PAGE_READWRITE, windows.FILE_MAP_WRITE
	}
	if prot&EXEC != 0 {
		pageProt <<= 4 // PAGE_READONLY → PAGE_EXECUTE_READ, and so on
		access |= windows.FILE_MAP_EXECUTE
	}
	// For a file, size 0 means "the file's current size": a mapping object
	// that can never extend the file.
	anon := flags&ANON != 0
	fh, maxSize := windows.Handle(fd), uint64(0)
	if anon {
		fh, maxSize = windows.InvalidHandle, uint64(length)
		// A paging-file section is always created read-write (it cannot be
		// copy-on-write); the view's access decides what the caller may do.
		pageProt = windows.PAGE_READWRITE
		if prot&EXEC != 0 {
			pageProt = windows.PAGE_EXECUTE_READWRITE
		}
	}
	mh, err := windows.CreateFileMapping(fh, nil, pageProt, uint32(maxSize>>32), uint32(maxSize), nil)
	if err != nil {
		return nil, sysHandle{}, os.NewSyscallError("CreateFileMapping", err)
	}
	// The view keeps the mapping object alive; its handle is not needed.
	defer windows.CloseHandle(mh)
	base, err := windows.MapViewOfFile(mh, access, uint32(uint64(offset)>>32), uint32(offset), uintptr(length))
	if err != nil {
		return nil, sysHandle{}, os.NewSyscallError("MapViewOfFile", err)
	}
	var h sysHandle
	if !anon && prot&COPY == 0 && prot&RDWR != 0 {
		if h.file, err = duplicate(fh); err != nil {
			windows.UnmapViewOfFile(base)
			return nil, sysHandle{}, err
		}
	}
	mem := viewBytes(base, length)
	if flags&POPULATE != 0 {
		// Only a hint: the mapping is good whether or not Windows takes it.
		_ = advise(mem, WillNeed)
	}
	return mem, h, nil
}

// viewBytes returns the length bytes of the view that Windows mapped at base.
func viewBytes(base uintptr, length int) []byte {
	// base is the start of a view of length bytes, outside the Go heap, alive
	// until UnmapViewOfFile. Reading the uintptr through a pointer to it
	// (rather than converting it) is the form vet accepts for such memory.
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&base))), length)
}

// duplicate returns a second handle to the same file, owned by the package.
func duplicate(h windows.Handle) (windows.Handle, error) {
	self := windows.CurrentProcess()
	var dup windows.Handle
	err := windows.DuplicateHandle(self, h, self, &dup, 0, false, windows.DUPLICATE_SAME_ACCESS)
	return dup, os.NewSyscallError("DuplicateHandle", err)
}

func unmap(mem []byte, h sysHandle) error {
	if err := windows.UnmapViewOfFile(addr(mem)); err != nil {
		return err
	}
	if h.file != 0 {
		// The view is gone; CloseHandle fails only for a handle that is not
		// open, so there is nothing left to leak or retry.
		_ = windows.CloseHandle(h.file)
	}
	return nil
}

// flush writes the dirty pages to the file, then the file's buffers to disk.
func flush(pages []byte, h sysHandle) error {
	if err := windows.FlushViewOfFile(addr(pages), uintptr(len(pages))); err != nil {
		return err
	}
	return windows.FlushFileBuffers(h.file)
}

func lock(pages []byte) error { return windows.VirtualLock(addr(pages), uintptr(len(pages))) }

func unlock(pages []byte) error { return windows.VirtualUnlock(addr(pages), uintptr(len(pages))) }

// prefetchVirtualMemory exists from Windows 8 on; where it is missing,
// WillNeed does nothing.
var prefetchVirtualMemory = windows.NewLazySystemDLL("kernel32.dll").NewProc("PrefetchVirtualMemory")

// memoryRangeEntry is WIN32_MEMORY_RANGE_ENTRY.
type memoryRangeEntry struct {
	addr uintptr
	size uintptr
}

// advise acts on WillNeed only: Windows has no hint for the others.
func advise(pages []byte, a Advice) error {
	if a != WillNeed || prefetchVirtualMemory.Find() != nil {
		return nil
	}
	entry := memoryRangeEntry{addr: addr(pages), size: uintptr(len(pages))}
	// Safe: a pointer converted to uintptr in the call expression itself
	// stays valid, and entry stays alive, until Call returns.
	ok, _, err := prefetchVirtualMemory.Call(uintptr(windows.CurrentProcess()), 1, uintptr(unsafe.Pointer(&entry)), 0)
	if ok == 0 {
		return err
	}
	return nil
}

// reserveBeyondEOF is false: a view cannot reach past the end of its file
// (a writable one would grow the file).
const reserveBeyondEOF = false
