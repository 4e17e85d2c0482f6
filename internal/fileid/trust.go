package fileid

import (
	"fmt"
	"io/fs"
	"strings"
)

// Trust says why aux, a file kept next to file (an array's sidecar), must
// not be used by a process of user ID user, or returns nil if it may be.
// A writer writes and maps aux: it must be aux's owner, aux must have one
// name (a second name would make the writer write over another file), and
// aux must give no one access that file does not. A reader only reads and
// maps it: aux must belong to the reader, to file's owner or to root, and
// give no one write access that file does not, since whoever can shorten
// aux can crash the processes that map it. Where the OS has no owners of
// this kind (Windows), only the names are checked. The error wraps
// ErrUntrusted.
func Trust(aux, file Info, user int, writer bool) error {
	if writer && aux.Links != 1 {
		return untrusted("it has %d names (hard links), so it may be another file under this name", aux.Links)
	}
	if aux.Owner < 0 || user < 0 {
		return nil
	}
	if writer && aux.Owner != user {
		return untrusted("it belongs to user ID %d, not to this process's user (ID %d)", aux.Owner, user)
	}
	if !writer && aux.Owner != user && aux.Owner != 0 && aux.Owner != file.Owner {
		return untrusted("it belongs to user ID %d: neither to this process's user (ID %d), nor to the file's owner (ID %d), nor to root", aux.Owner, user, file.Owner)
	}
	others := fs.FileMode(0o022) // the write bits: whoever has them can shorten aux
	if writer {
		others = 0o077
	}
	if extra := aux.Mode.Perm() & others &^ file.Mode.Perm(); extra != 0 {
		return untrusted("its permissions %v give %s, which the file's (%v) do not", aux.Mode.Perm(), access(extra), file.Mode.Perm())
	}
	return nil
}

// access names the group and other permission bits of m: "group write,
// others read".
func access(m fs.FileMode) string {
	var parts []string
	for _, who := range []struct {
		name  string
		shift uint
	}{{"group", 3}, {"others", 0}} {
		for _, what := range []struct {
			name string
			bit  fs.FileMode
		}{{"read", 4}, {"write", 2}, {"execute", 1}} {
			if m&(what.bit<<who.shift) != 0 {
				parts = append(parts, who.name+" "+what.name)
			}
		}
	}
	return strings.Join(parts, ", ")
}

// ErrUntrusted is wrapped by Trust's errors. It wraps fs.ErrPermission.
var ErrUntrusted = fmt.Errorf("not to be trusted: %w", fs.ErrPermission)

type untrustedError struct{ msg string }

func untrusted(format string, args ...any) error {
	return &untrustedError{msg: fmt.Sprintf(format, args...)}
}

func (e *untrustedError) Error() string { return e.msg }

func (e *untrustedError) Unwrap() error { return ErrUntrusted }
