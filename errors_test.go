package mmap

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// TestWrapErr wraps each kind of error as an Array's methods do: the file
// named is the one whose operation failed, "mmap:" comes once, and
// errors.Is and errors.As still find what was wrapped.
func TestWrapErr(t *testing.T) {
	osErr := errors.New("no space left on device") // as an OS error, not one of the package's
	sidecarErr := &fs.PathError{Op: "open", Path: "dir/data.npy.meta", Err: fs.ErrPermission}
	for _, c := range []struct {
		name string
		err  error
		want string
		is   error
	}{
		{"the OS's error of the file", osErr, "mmap: allocate dir/data.npy: no space left on device", osErr},
		{"the OS's error of the sidecar, which os named", sidecarErr, "mmap: open dir/data.npy.meta: " + fs.ErrPermission.Error(), fs.ErrPermission},
		{"a problem of the package's own", errorf(ErrLocked, "readers have it open"), "mmap: dir/data.npy: readers have it open", ErrLocked},
		{"a problem named by the sidecar's path", wrapErr("lock", "dir/data.npy.meta", errorf(ErrLocked, "held")), "mmap: dir/data.npy.meta: held", ErrLocked},
		{"a range error of a lower layer", &RangeError{Offset: 1, Length: 2, Size: 0, Problem: pastTheEnd}, "mmap: dir/data.npy: region at offset 1, length 2 starts past the end (size 0)", ErrRange},
		{"an alignment error", &AlignmentError{Type: "int64", Offset: 73, Align: 8}, "mmap: dir/data.npy: offset 73 is 1-byte aligned; int64 needs 8", ErrAlignment},
		{"a type error", &TypeError{Type: "main.T", Problem: "field X is string"}, "mmap: dir/data.npy: cannot map main.T: field X is string", ErrType},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := wrapErr("allocate", "dir/data.npy", c.err)
			if err.Error() != c.want {
				t.Errorf("got %q; want %q", err, c.want)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("%v does not wrap %v", err, c.is)
			}
			if again := wrapErr("close", "other.npy", err); again.Error() != c.want {
				t.Errorf("wrapped twice: got %q; want %q, unchanged", again, c.want)
			}
			if strings.Count(err.Error(), "mmap:") != 1 {
				t.Errorf("%q says mmap: more than once", err)
			}
		})
	}
	if wrapErr("sync", "data.npy", nil) != nil {
		t.Error("wrapErr(nil) is not nil")
	}
	var ae *AlignmentError
	if !errors.As(wrapErr("open", "data.npy", &AlignmentError{Type: "int64", Offset: 73, Align: 8}), &ae) || ae.Offset != 73 {
		t.Errorf("errors.As finds no AlignmentError in the wrapped error, or the wrong one: %+v", ae)
	}
}
