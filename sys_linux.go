package mmap

import "golang.org/x/sys/unix"

// mapPopulate asks mmap to read the region in while mapping it.
const mapPopulate = unix.MAP_POPULATE

// mremap moves and resizes a whole mapping in one step.
func mremap(mem []byte, length int) ([]byte, error) {
	return unix.Mremap(mem, length, unix.MREMAP_MAYMOVE)
}
