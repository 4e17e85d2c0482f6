//go:build !linux

package mmap

import "errors"

// canLimitAddressSpace: the test limits the address space on Linux only.
const canLimitAddressSpace = false

// errNoMemory is unused where the address space is not limited.
var errNoMemory = errors.ErrUnsupported

func limitAddressSpace(uint64) error { return errors.ErrUnsupported }

func liftAddressSpaceLimit() error { return errors.ErrUnsupported }
