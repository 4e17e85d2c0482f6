//go:build !unix && !windows

package mmap

func lockFile(uintptr, bool) error { return errNoMmap }

func unlockFile(uintptr) error { return errNoMmap }
