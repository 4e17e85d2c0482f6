package mmap

import "os"

// withFD runs fn with f's descriptor (a handle on Windows), which stays open
// until fn returns even if another goroutine closes f. A closed f is
// fs.ErrClosed on every OS.
func withFD(f *os.File, fn func(fd uintptr) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(fd) }); err != nil {
		return wrapErr("map", f.Name(), os.ErrClosed)
	}
	return fnErr
}
