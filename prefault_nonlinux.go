//go:build !linux

package mmap

// mapPopulate is 0 where mmap has no MAP_POPULATE; mmap falls back to
// madvise(MADV_WILLNEED).
const mapPopulate = 0

// prefault is a Linux hint; elsewhere pages fault in as they are written.
func prefault([]byte) {}
