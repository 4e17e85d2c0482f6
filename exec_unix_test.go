//go:build unix

package mmap

import (
	"errors"
	"syscall"
)

// isForeignBinary reports whether starting a process failed because the
// binary is not for this machine: under qemu-user without binfmt_misc.
func isForeignBinary(err error) bool { return errors.Is(err, syscall.ENOEXEC) }
