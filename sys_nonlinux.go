//go:build unix && !linux

package mmap

import "errors"

// mapPopulate is 0 where mmap has no MAP_POPULATE; mmap falls back to
// madvise(MADV_WILLNEED).
const mapPopulate = 0

// mremap is Linux's; elsewhere a mapping is resized by mapping anew.
func mremap([]byte, int) ([]byte, error) { return nil, errors.ErrUnsupported }

// prefault is a Linux hint; elsewhere pages fault in as they are written.
func prefault([]byte) {}
