//go:build unix

package mmap

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileSize returns the size of the file fd.
func fileSize(fd uintptr) (int64, error) {
	var st unix.Stat_t
	err := unix.Fstat(int(fd), &st)
	return st.Size, err
}

// syncDir makes the entries of the directory dir durable: a file created
// in it survives a crash once its data and this are synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removalHeld reports whether err is the refusal to remove a file that a
// process holds, which Unix never makes: the file goes when its last
// holder closes it.
func removalHeld(error) bool { return false }
