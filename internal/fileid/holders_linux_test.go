package fileid

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHolders locks a file and finds this process among its holders, and
// none for a file that no one locks.
func TestHolders(t *testing.T) {
	dir := tempDir(t)
	open := func(name string) (*os.File, Info) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		info, err := Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		return f, info
	}
	locked, lockedInfo := open("locked")
	_, freeInfo := open("free")
	if err := unix.Flock(int(locked.Fd()), unix.LOCK_EX); err != nil {
		t.Skipf("no flock here: %v", err)
	}
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skipf("this system has no /proc/locks: %v", err)
	}
	if got := Holders(lockedInfo); !slices.Contains(got, os.Getpid()) {
		t.Errorf("Holders of a file this process locks: %v; want %d among them", got, os.Getpid())
	}
	if got := Holders(freeInfo); len(got) != 0 {
		t.Errorf("Holders of a file no one locks: %v; want none", got)
	}
}
