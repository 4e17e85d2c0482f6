package mmap

import (
	"errors"

	"golang.org/x/sys/windows"
)

// fileSize returns the size of the file handle fd.
func fileSize(fd uintptr) (int64, error) {
	var fi windows.ByHandleFileInformation
	err := windows.GetFileInformationByHandle(windows.Handle(fd), &fi)
	return int64(fi.FileSizeHigh)<<32 | int64(fi.FileSizeLow), err
}

// syncDir does nothing: NTFS journals the directory entry of a new file
// with the file's own metadata, which FlushFileBuffers makes durable.
func syncDir(string) error { return nil }

// removalHeld reports whether err is Windows's refusal to remove a file
// that a process holds, which a log's writer retries later: a handle open
// without FILE_SHARE_DELETE, as Go and so an Array reader opens files
// (ERROR_SHARING_VIOLATION, by its number: its message is translated, and
// Wine's differs from Windows's), or a view that a program mapped and then
// closed its handle (ERROR_ACCESS_DENIED, Windows's STATUS_CANNOT_DELETE;
// Wine instead removes the file, and its name once the view goes).
func removalHeld(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_ACCESS_DENIED)
}
