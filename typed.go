// This file and sys_windows.go hold all of the package's unsafe code.

package mmap

import "unsafe"

// addr returns the address of b's first byte, for ordering mappings. It
// never turns back into a pointer.
func addr(b []byte) uintptr {
	// Reading a pointer's value is safe; the result is only compared.
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}
