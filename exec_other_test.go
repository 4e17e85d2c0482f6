//go:build !unix

package mmap

// isForeignBinary reports whether starting a process failed because the
// binary is not for this machine, which only happens under qemu-user.
func isForeignBinary(error) bool { return false }
