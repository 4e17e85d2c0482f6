package mmap

import "golang.org/x/sys/unix"

// mapPopulate asks mmap to read the region in while mapping it.
const mapPopulate = unix.MAP_POPULATE

// prefault makes pages present and writable ahead of writes, in one call
// instead of a fault per page. It is only a hint: kernels before 5.14 lack
// MADV_POPULATE_WRITE, and the pages then fault in as they are written.
func prefault(pages []byte) { _ = unix.Madvise(pages, unix.MADV_POPULATE_WRITE) }
