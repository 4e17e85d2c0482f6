package mmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"golang.org/x/sys/unix"
)

// smallFilesystem mounts a tmpfs with the given mount options
// ("size=4m") and returns its directory, unmounted when the test ends.
func smallFilesystem(t *testing.T, options string) string {
	t.Helper()
	dir := tempDir(t)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, options); err != nil {
		cannotRun(t, "mounting a tmpfs (%s) needs root: %v", options, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestArrayDiskFull appends until a 4 MiB file system is full: Append must
// fail with ENOSPC, never fault, and the array must go on working.
func TestArrayDiskFull(t *testing.T) {
	dir := smallFilesystem(t, "size=4m")
	path := filepath.Join(dir, "full.npy")
	a, err := Create[rec](path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		err := a.Append(mkrec(uint64(n), 0))
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Append %d on a full disk: got %v; want an error wrapping ENOSPC", n, err)
			}
			break
		}
		if n > 1<<20 {
			t.Fatal("4 MiB never filled")
		}
	}
	if n < 3<<20/24 {
		t.Errorf("the disk was full after %d records (%d KiB); want most of its 4 MiB used", n, n*24>>10)
	}
	checkRecs(t, a, n)
	if err := a.Grow(1 << 20); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Grow on a full disk: got %v; want ENOSPC", err)
	}
	if err := a.Sync(); err != nil {
		t.Fatalf("Sync after the disk filled: %v", err)
	}
	mustClose(t, a)
	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, n)
	mustClose(t, r)

	other := filepath.Join(dir, "big.npy")
	if _, err := Create[rec](other, WithCapacity(1<<20)); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Create with more capacity than the disk has: got %v; want ENOSPC", err)
	}
	for _, p := range []string{other, other + arrayfile.Suffix} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the failed Create left %s (%v)", p, err)
		}
	}

	// Over the full array: it must stay as it was.
	if _, err := Create[rec](path, WithCapacity(1<<20)); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Create over the array with more capacity than the disk has: got %v; want ENOSPC", err)
	}
	if _, err := os.Stat(path + arrayfile.Suffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed Create left its sidecar (%v)", err)
	}
	checkClosedFile(t, path, n)
	r = mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, n)
	mustClose(t, r)
}

// TestArraySidecarErrorNamesTheSidecar opens a writer where the file
// exists but no file can be created, for want of inodes: the error must
// name the sidecar, whose creation failed, not the array file.
func TestArraySidecarErrorNamesTheSidecar(t *testing.T) {
	dir := smallFilesystem(t, "size=1m,nr_inodes=2")
	path := filepath.Join(dir, "data.npy")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "more"), nil, 0o644); err == nil {
		t.Fatal("the file system has room for a second file")
	}
	_, err := Create[rec](path)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path+arrayfile.Suffix || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Create without room for the sidecar: got %v; want ENOSPC, of %s", err, path+arrayfile.Suffix)
	}
}
