package mmap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/typedmmap/mmap/internal/flat"
)

// Errors returned by the package. Detailed errors wrap one of these; test
// with [errors.Is].
var (
	// ErrInvalid reports an argument that can never be valid: unknown prot
	// or flags bits, a nil file, or a slice the package did not map.
	ErrInvalid = errors.New("mmap: invalid argument")
	// ErrRange reports an offset or length outside the file or the mapping,
	// or too large for an int. See [RangeError].
	ErrRange = errors.New("mmap: out of range")
	// ErrFault reports a memory fault caught by [MMap.ReadAt] or
	// [MMap.WriteAt]: the file shrank under the mapping, or the memory is
	// read-only.
	ErrFault = errors.New("mmap: memory fault")
	// ErrAlignment reports a typed view whose start is not aligned for its
	// element type. See [AlignmentError].
	ErrAlignment = errors.New("mmap: misaligned view")
	// ErrSize reports a typed view whose byte length is not a whole number
	// of elements. See [SizeError].
	ErrSize = errors.New("mmap: length not a multiple of the element size")
	// ErrType reports a type that is not flat and so cannot be mapped (see
	// [TypeError]), or an [Array] file that holds records of another layout.
	ErrType = errors.New("mmap: type cannot be mapped")
	// ErrFormat reports a file that is not a valid [Array] file: bad magic,
	// version or checksum, or a header that counts more than the file holds.
	ErrFormat = errors.New("mmap: not a valid array file")
	// ErrByteOrder reports an [Array] file written on a host of the other
	// byte order.
	ErrByteOrder = errors.New("mmap: array file has the other byte order")
	// ErrLocked reports an [Array] file that another writer (or, for a
	// writer, another reader) has open, in this process or another.
	ErrLocked = errors.New("mmap: array file is locked")
)

// RangeError reports a region that does not lie within a file or a mapping.
// It wraps [ErrRange].
type RangeError struct {
	Offset  int64  // start of the region, in bytes
	Length  int64  // length of the region, in bytes
	Size    int64  // size of the file or mapping, in bytes
	Problem string // what is wrong: "starts past the end", "runs past the end", ...
}

// Range problems, as a RangeError states them.
const (
	negativeOffset = "has a negative offset"
	pastTheEnd     = "starts past the end"
	runsPastTheEnd = "runs past the end"
	notAnInt       = "does not fit in an int on this platform"
)

// rangeError returns the RangeError for a region that does not lie within
// size bytes, or nil if it does.
func rangeError(offset, length, size int64) error {
	var problem string
	switch {
	case offset < 0:
		problem = negativeOffset
	case offset > size:
		problem = pastTheEnd
	case length < 0 || length > size-offset:
		problem = runsPastTheEnd
	default:
		return nil
	}
	return &RangeError{Offset: offset, Length: length, Size: size, Problem: problem}
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("mmap: region at offset %d, length %d %s (size %d)", e.Offset, e.Length, e.Problem, e.Size)
}

func (e *RangeError) Unwrap() error { return ErrRange }

// FaultError reports a memory fault at Addr, caught during [MMap.ReadAt] or
// [MMap.WriteAt]. It wraps [ErrFault].
type FaultError struct {
	Addr uintptr // the faulting address, or 0 where the OS does not say
	Op   string  // "read" or "write"
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("mmap: fault on %s at address %#x (file truncated under the mapping, or memory not writable)", e.Op, e.Addr)
}

func (e *FaultError) Unwrap() error { return ErrFault }

// AlignmentError reports a typed view that would start at an address not
// aligned for its element type. It wraps [ErrAlignment].
type AlignmentError struct {
	Type   string  // the element type
	Offset int64   // the view's offset in its file; meaningful when Addr is 0
	Addr   uintptr // the view's address, when it has no file
	Align  int     // the alignment Type needs
}

func (e *AlignmentError) Error() string {
	if e.Addr != 0 {
		return fmt.Sprintf("mmap: address %#x is %d-byte aligned; %s needs %d", e.Addr, e.Addr&-e.Addr, e.Type, e.Align)
	}
	return fmt.Sprintf("mmap: offset %d is %d-byte aligned; %s needs %d", e.Offset, e.Offset&-e.Offset, e.Type, e.Align)
}

func (e *AlignmentError) Unwrap() error { return ErrAlignment }

// SizeError reports a typed view whose byte length is not a whole number of
// elements. It wraps [ErrSize].
type SizeError struct {
	Type     string // the element type
	Length   int64  // the byte length of the region
	ElemSize int    // the size of Type
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("mmap: %d bytes are not a whole number of %s (%d bytes each): %d bytes left over",
		e.Length, e.Type, e.ElemSize, e.Length%int64(e.ElemSize))
}

func (e *SizeError) Unwrap() error { return ErrSize }

// TypeError reports a type that is not flat. It wraps [ErrType].
type TypeError struct {
	Type    string // the type, as Go prints it
	Field   string // path of the field at fault ("Pos.X", "Tags[i]"), or "" for the type itself
	Problem string // what is wrong, and the fix
}

func (e *TypeError) Error() string { return flat.Message(e.Type, e.Problem) }

func (e *TypeError) Unwrap() error { return ErrType }

// detailError is an error of one of the sentinel kinds with its own message,
// about a file when path is set.
type detailError struct {
	kind error
	path string
	msg  string
}

func (e *detailError) Error() string {
	if e.path != "" {
		return "mmap: " + e.path + ": " + e.msg
	}
	return "mmap: " + e.msg
}

func (e *detailError) Unwrap() error { return e.kind }

// errorf returns an error wrapping kind, with a formatted message.
func errorf(kind error, format string, args ...any) error {
	return &detailError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// fileErrorf returns an error wrapping kind about the file at path.
func fileErrorf(kind error, path, format string, args ...any) error {
	return &detailError{kind: kind, path: path, msg: fmt.Sprintf(format, args...)}
}

// inFile names the file at path in err, an error of an operation op on it,
// keeping "mmap:" at the start of the message once. err stays in the chain,
// for errors.Is and errors.As.
func inFile(op, path string, err error) error {
	if err == nil {
		return nil
	}
	switch e := err.(type) {
	case *detailError:
		if e.path == "" {
			return &detailError{kind: e.kind, path: path, msg: e.msg}
		}
		return e
	case *fs.PathError:
		return pathError(op, path, e)
	}
	return &detailError{kind: err, path: path, msg: op + ": " + strings.TrimPrefix(err.Error(), "mmap: ")}
}

// pathError wraps err, which the OS returned for op on path, once, as a
// *fs.PathError whose message starts with "mmap:". An error that os already
// wrapped is unwrapped first, keeping its own op; one this package wrapped
// is returned as it is.
func pathError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if pe, ok := err.(*fs.PathError); ok {
		if strings.HasPrefix(pe.Op, "mmap: ") {
			return pe
		}
		op, err = pe.Op, pe.Err
	}
	return &fs.PathError{Op: "mmap: " + op, Path: path, Err: err}
}

// syscallError wraps an OS error once, naming the operation.
func syscallError(op string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError("mmap: "+op, err)
}
