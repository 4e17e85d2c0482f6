//go:build !unix && !windows

package fileid

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

var errNoIdentity = fmt.Errorf("file identity on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func stat(uintptr) (Info, error) { return Info{}, errNoIdentity }

func open(string, int, fs.FileMode, bool) (*os.File, error) { return nil, errNoIdentity }
