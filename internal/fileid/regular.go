package fileid

import (
	"errors"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by OpenRegular's error for a path that names
// something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens the file at path with flag, if it is a regular file:
// one that can be mapped, and whose opening never waits, as a named pipe's
// waits for its other end. It looks before it opens. Otherwise the error,
// wrapping ErrNotRegular, says what the path names.
func OpenRegular(path string, flag int) (*os.File, error) {
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, &notRegularError{kind: kindOf(fi.Mode())}
	}
	return os.OpenFile(path, flag, 0)
}

type notRegularError struct{ kind string }

func (e *notRegularError) Error() string { return "it is a " + e.kind + ", not a regular file" }

func (e *notRegularError) Unwrap() error { return ErrNotRegular }

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
