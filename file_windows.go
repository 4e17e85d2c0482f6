package mmap

import "golang.org/x/sys/windows"

// fileSize returns the size of the file handle fd.
func fileSize(fd uintptr) (int64, error) {
	var fi windows.ByHandleFileInformation
	err := windows.GetFileInformationByHandle(windows.Handle(fd), &fi)
	return int64(fi.FileSizeHigh)<<32 | int64(fi.FileSizeLow), err
}

// syncDir does nothing: NTFS journals the directory entry of a new file
// with the file's own metadata, which FlushFileBuffers makes durable.
func syncDir(string) error { return nil }
