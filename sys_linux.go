package mmap

import "golang.org/x/sys/unix"

// mapPopulate asks mmap to read the region in while mapping it.
const mapPopulate = unix.MAP_POPULATE
