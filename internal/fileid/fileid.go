// Package fileid tells which file an open file is, on this machine: the
// numbers an array's sidecar records, so that a sidecar left next to a file
// that was since replaced is not taken for that file's. It also opens only
// what an array can be: a regular file.
package fileid

import "os"

// Of returns what identifies the open file f: on Unix its device and inode
// numbers, on Windows its volume's serial number and its file index.
func Of(f *os.File) (dev, ino uint64, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	if cerr := rc.Control(func(fd uintptr) { dev, ino, err = of(fd) }); cerr != nil {
		return 0, 0, cerr
	}
	return dev, ino, err
}
