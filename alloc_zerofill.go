//go:build unix && !linux && !darwin

package mmap

import "os"

// allocate extends f from size from to size to by writing zeros, which
// allocates the blocks, so that a full disk fails here and not when a page
// of the mapping is first written.
func allocate(f *os.File, from, to int64) error { return fillZeros(f, from, to) }
