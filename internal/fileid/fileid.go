// Package fileid tells which file an open file is, on this machine, and
// what guards it: the numbers an array's sidecar records, so that a
// sidecar left next to a file that was since replaced is not taken for that
// file's, and the owner, permissions and names that decide whether a file
// next to an array can be trusted. It also opens only what an array and its
// sidecar can be: regular files, never waiting for the other end of a
// named pipe, and, for a sidecar, never through a symbolic link.
package fileid

import (
	"io/fs"
	"os"
)

// Info is what identifies an open file, and who may change it.
type Info struct {
	Dev, Ino uint64      // on Unix, device and inode; on Windows, volume serial number and file index
	Size     int64       // the size in bytes
	Mode     fs.FileMode // type and permission bits (on Windows, only what os.Stat makes of its attributes)
	Owner    int         // the owner's user ID; -1 on Windows, whose files have owners of another kind
	Links    int         // how many names (hard links) the file has
}

// Stat returns what identifies the open file f.
func Stat(f *os.File) (Info, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return Info{}, err
	}
	var info Info
	if cerr := rc.Control(func(fd uintptr) { info, err = stat(fd) }); cerr != nil {
		return Info{}, cerr
	}
	if err != nil {
		return Info{}, &fs.PathError{Op: "stat", Path: f.Name(), Err: err}
	}
	return info, nil
}

// Same reports whether a and b describe the same file.
func (a Info) Same(b Info) bool { return a.Dev == b.Dev && a.Ino == b.Ino }
