//go:build !unix && !windows

package mmap

import "os"

func allocate(*os.File, int64, int64) error { return errNoMmap }
