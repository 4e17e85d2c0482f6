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
	// ErrWriterClosed reports, to a reader that waits for more records, that
	// no more will come: the writer closed the array, or no writer has it
	// open. A writer that opens it later goes on (see [Array.WaitWriter]).
	ErrWriterClosed = errors.New("mmap: the writer closed the array")
	// ErrWriterDied reports, to a reader that waits for more records, that
	// the writer's process ended without closing the array. Every record it
	// published stays readable, and the next writer goes on after them.
	ErrWriterDied = errors.New("mmap: the writer died without closing the array")
)

// Every error type of the package has a message of its own (detail) and
// an Error that puts "mmap: " before it, so that wrapErr can put the name of
// a file in between without editing the message.
type detailer interface{ detail() string }

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

func (e *RangeError) Error() string { return "mmap: " + e.detail() }

func (e *RangeError) detail() string {
	return fmt.Sprintf("region at offset %d, length %d %s (size %d)", e.Offset, e.Length, e.Problem, e.Size)
}

func (e *RangeError) Unwrap() error { return ErrRange }

// IndexError reports an index of a [Log] that it does not hold: below
// First, whose records were dropped (Kafka's "offset out of range"), or at
// or past End, whose records have not come yet. It wraps [ErrRange].
type IndexError struct {
	Index int64 // the index asked for
	First int64 // the log's first index, as the reader last saw it
	End   int64 // one past the log's last index, as the reader last saw it
}

func (e *IndexError) Error() string { return "mmap: " + e.detail() }

func (e *IndexError) detail() string {
	if e.Index < e.First {
		return fmt.Sprintf("index %d is below the log's first index %d: the records before %d were dropped", e.Index, e.First, e.First)
	}
	return fmt.Sprintf("index %d is past the log's last record (it holds [%d, %d))", e.Index, e.First, e.End)
}

func (e *IndexError) Unwrap() error { return ErrRange }

// FaultError reports a memory fault at Addr, caught during [MMap.ReadAt] or
// [MMap.WriteAt]. It wraps [ErrFault].
type FaultError struct {
	Addr uintptr // the faulting address, or 0 where the OS does not say
	Op   string  // "read" or "write"
}

func (e *FaultError) Error() string { return "mmap: " + e.detail() }

func (e *FaultError) detail() string {
	return fmt.Sprintf("fault on %s at address %#x (file truncated under the mapping, or memory not writable)", e.Op, e.Addr)
}

func (e *FaultError) Unwrap() error { return ErrFault }

// AlignmentError reports a typed view of a file that would start at a byte
// offset not aligned for its element type: Offset is not a multiple of
// Align, T's natural alignment, which is the same on every target. It wraps
// [ErrAlignment].
type AlignmentError struct {
	Type   string // the element type
	Offset int64  // the view's offset in its file
	Align  int    // the alignment Type needs
}

func (e *AlignmentError) Error() string { return "mmap: " + e.detail() }

func (e *AlignmentError) detail() string {
	return fmt.Sprintf("offset %d is %d-byte aligned; %s needs %d", e.Offset, e.Offset&-e.Offset, e.Type, e.Align)
}

func (e *AlignmentError) Unwrap() error { return ErrAlignment }

// AddressError reports bytes that [View] cannot see as elements of a type,
// because their address is not aligned as Go aligns that type. It wraps
// [ErrAlignment].
type AddressError struct {
	Type  string  // the element type
	Addr  uintptr // the address of the first byte
	Align int     // the alignment Type needs
}

func (e *AddressError) Error() string { return "mmap: " + e.detail() }

func (e *AddressError) detail() string {
	return fmt.Sprintf("address %#x is %d-byte aligned; %s needs %d", e.Addr, e.Addr&-e.Addr, e.Type, e.Align)
}

func (e *AddressError) Unwrap() error { return ErrAlignment }

// SizeError reports a typed view whose byte length is not a whole number of
// elements. It wraps [ErrSize].
type SizeError struct {
	Type     string // the element type
	Length   int64  // the byte length of the region
	ElemSize int    // the size of Type
}

func (e *SizeError) Error() string { return "mmap: " + e.detail() }

func (e *SizeError) detail() string {
	return fmt.Sprintf("%d bytes are not a whole number of %s (%d bytes each): %d bytes left over",
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

func (e *TypeError) detail() string { return flat.Detail(e.Type, e.Problem) }

func (e *TypeError) Unwrap() error { return ErrType }

// problem is a refusal of the package's own, of the kind of one of the
// sentinels, with a message that says what is wrong and how to fix it, and
// the error that made it, if another.
type problem struct {
	kind  error
	msg   string
	cause error
}

// errorf returns a problem of the kind of a sentinel.
func errorf(kind error, format string, args ...any) error {
	return &problem{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func (e *problem) Error() string { return "mmap: " + e.msg }

func (e *problem) detail() string { return e.msg }

func (e *problem) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// fileError is an error of the package's own about the file at path.
type fileError struct {
	path string
	err  error // a detailer
}

func (e *fileError) Error() string { return "mmap: " + e.path + ": " + e.err.(detailer).detail() }

func (e *fileError) Unwrap() error { return e.err }

// wrapErr names the file at path in err, an error of the operation op on
// it, once, as os names a file in its errors: an error of the package's own
// becomes a fileError ("mmap: data.npy: ..."), an error of the OS a
// *fs.PathError whose Op starts with "mmap: " ("mmap: allocate data.npy:
// no space left on device"). An error that names a file already (the
// sidecar's, say) keeps that name.
func wrapErr(op, path string, err error) error {
	var d detailer
	switch e := err.(type) {
	case nil, *fileError:
		return err
	case *fs.PathError:
		if !strings.HasPrefix(e.Op, "mmap: ") {
			return &fs.PathError{Op: "mmap: " + e.Op, Path: e.Path, Err: e.Err}
		}
		return e
	case detailer:
		d = e
	}
	if d != nil {
		return &fileError{path: path, err: err}
	}
	return &fs.PathError{Op: "mmap: " + op, Path: path, Err: err}
}

// syscallError wraps an OS error of an operation on a mapping, which names
// no file, once.
func syscallError(op string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError("mmap: "+op, err)
}
