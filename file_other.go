//go:build !unix && !windows

package mmap

func fileSize(uintptr) (int64, error) { return 0, errNoMmap }

func syncDir(string) error { return errNoMmap }

func removalHeld(error) bool { return false }
