//go:build unix

package fileid

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

func stat(fd uintptr) (Info, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return Info{}, err
	}
	return Info{
		Dev:   uint64(st.Dev),
		Ino:   uint64(st.Ino),
		Size:  st.Size,
		Mode:  modeOf(uint32(st.Mode)),
		Owner: int(st.Uid),
		Links: int(st.Nlink),
	}, nil
}

// modeOf converts a Unix st_mode to the fs.FileMode bits this package
// looks at: the type and the permission bits.
func modeOf(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFREG:
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}

// open opens path with flag (and perm, if it creates the file) without
// waiting: O_NONBLOCK, so that a named pipe swapped in after the caller
// looked cannot hold the open, and O_NOCTTY. With follow false, a symbolic
// link as the last element of path is not followed (O_NOFOLLOW). The file
// must then prove to be regular; it is returned in blocking mode.
func open(path string, flag int, perm fs.FileMode, follow bool) (*os.File, error) {
	flag |= unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	if !follow {
		flag |= unix.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flag, uint32(perm.Perm()))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		if !follow && isSymlink(path) {
			// O_NOFOLLOW's error differs by OS: ELOOP, EMLINK, EFTYPE.
			return nil, &notRegularError{kind: "symbolic link"}
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	info, err := stat(uintptr(fd))
	if err == nil && !info.Mode.IsRegular() {
		err = &notRegularError{kind: kindOf(info.Mode)}
	}
	if err == nil {
		err = unix.SetNonblock(fd, false)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}
