//go:build !unix && !windows

package mmap

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// errNoMmap is returned by every primitive on platforms without memory
// mapping.
var errNoMmap = fmt.Errorf("memory mapping on %s: %w", runtime.GOOS, errors.ErrUnsupported)

type sysHandle struct{}

func granularity() int { return os.Getpagesize() }

func mmap(uintptr, int64, int, int, int) ([]byte, sysHandle, error) {
	return nil, sysHandle{}, errNoMmap
}

func unmap([]byte, sysHandle) error { return errNoMmap }

func flush([]byte, sysHandle) error { return errNoMmap }

func lock([]byte) error { return errNoMmap }

func unlock([]byte) error { return errNoMmap }

func advise([]byte, Advice) error { return errNoMmap }

const reserveBeyondEOF = false
