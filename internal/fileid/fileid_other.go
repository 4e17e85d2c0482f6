//go:build !unix && !windows

package fileid

import (
	"errors"
	"fmt"
	"runtime"
)

func of(uintptr) (uint64, uint64, error) {
	return 0, 0, fmt.Errorf("file identity on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
