package fileid

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

func stat(fd uintptr) (Info, error) {
	var fi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(fd), &fi); err != nil {
		return Info{}, err
	}
	mode := fs.FileMode(0o666)
	if fi.FileAttributes&windows.FILE_ATTRIBUTE_READONLY != 0 {
		mode = 0o444
	}
	switch {
	case fi.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		mode |= fs.ModeSymlink
	case fi.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0:
		mode |= fs.ModeDir | 0o111
	}
	return Info{
		Dev:   uint64(fi.VolumeSerialNumber),
		Ino:   uint64(fi.FileIndexHigh)<<32 | uint64(fi.FileIndexLow),
		Size:  int64(fi.FileSizeHigh)<<32 | int64(fi.FileSizeLow),
		Mode:  mode,
		Owner: -1,
		Links: int(fi.NumberOfLinks),
	}, nil
}

// open opens path with flag (and perm, if it creates the file). Windows has
// no named pipes in the file system, so nothing waits. With follow false, a
// symbolic link (a reparse point) as the last element of path is opened as
// itself (FILE_FLAG_OPEN_REPARSE_POINT, which os.OpenFile passes on to
// CreateFile), and so refused as what it is.
func open(path string, flag int, perm fs.FileMode, follow bool) (*os.File, error) {
	if !follow {
		flag |= windows.FILE_FLAG_OPEN_REPARSE_POINT
	}
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	info, err := stat(f.Fd())
	if err == nil && !info.Mode.IsRegular() {
		err = &notRegularError{kind: kindOf(info.Mode)}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
