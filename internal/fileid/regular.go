package fileid

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular is wrapped by the error of OpenRegular and OpenNoFollow for
// a path that names something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens the file at path with flag, if it is a regular file:
// one that can be mapped, and whose opening never waits, as a named pipe's
// waits for its other end. It looks before it opens, so that a device is
// never opened, and opens without waiting, so that a named pipe swapped in
// meanwhile cannot hold it. Otherwise the error, wrapping ErrNotRegular,
// says what the path names.
func OpenRegular(path string, flag int) (*os.File, error) {
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, &notRegularError{kind: kindOf(fi.Mode())}
	}
	return open(path, flag, 0, true)
}

// OpenNoFollow opens the file at path as OpenRegular does, except that a
// symbolic link as the last element of path is refused, never followed,
// whatever it points to (an error wrapping ErrNotRegular). flag may
// include os.O_CREATE and os.O_EXCL; perm then gives the new file's
// permission bits, before the umask.
func OpenNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, &notRegularError{kind: kindOf(fi.Mode())}
	}
	return open(path, flag, perm, false)
}

type notRegularError struct{ kind string }

func (e *notRegularError) Error() string { return "it is a " + e.kind + ", not a regular file" }

func (e *notRegularError) Unwrap() error { return ErrNotRegular }

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// isSymlink reports whether the last element of path is a symbolic link.
func isSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// ErrMoved is wrapped by Resolve's error for a path whose symbolic link
// came to point to another file than the one opened.
var ErrMoved = errors.New("the path names another file than the one opened")

// Resolve returns the path of the file itself that path names and that is
// open with the identity file: path, or, if its last element is a symbolic
// link, where the links lead. Every name of a file that is a link then
// resolves to one name, next to which a file such as a sidecar can be kept.
func Resolve(path string, file Info) (string, error) {
	if !isSymlink(path) {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	if !Names(target, file) {
		return "", fmt.Errorf("%s: %w", path, ErrMoved)
	}
	return target, nil
}

// Names reports whether path, not followed if it is a symbolic link, names
// the file whose identity is id.
func Names(path string, id Info) bool {
	f, err := OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	now, err := Stat(f)
	return err == nil && now.Same(id)
}
