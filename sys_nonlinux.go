//go:build unix && !linux

package mmap

// mapPopulate is 0 where mmap has no MAP_POPULATE; mmap falls back to
// madvise(MADV_WILLNEED).
const mapPopulate = 0
