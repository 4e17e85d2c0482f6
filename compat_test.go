package mmap_test

import (
	"os"
	"testing"

	"github.com/typedmmap/mmap"
)

// The classic API keeps mmap-go's exact signatures, so that a program written
// for mmap-go compiles after changing its import line. This block stops
// compiling if one of them drifts.
var (
	_ func(*os.File, int, int) (mmap.MMap, error)             = mmap.Map
	_ func(*os.File, int, int, int, int64) (mmap.MMap, error) = mmap.MapRegion
	_ func(mmap.MMap) error                                   = mmap.MMap.Flush
	_ func(mmap.MMap) error                                   = mmap.MMap.Lock
	_ func(mmap.MMap) error                                   = mmap.MMap.Unlock
	_ func(*mmap.MMap) error                                  = (*mmap.MMap).Unmap
)

// TestMmapGoProgram is the shape of a typical mmap-go program: map a file
// read-write, change it, flush, unmap, and see the change in the file.
func TestMmapGoProgram(t *testing.T) {
	dir, err := os.MkdirTemp("", "mmap-compat-")
	if err != nil {
		t.Fatal(err)
	}
	path := dir + string(os.PathSeparator) + "f"
	defer func() {
		os.Remove(path)
		os.Remove(dir)
	}()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("0123456789ABCDEF")); err != nil {
		t.Fatal(err)
	}

	var prot, flags int = mmap.RDWR, 0
	m, err := mmap.Map(f, prot, flags)
	if err != nil {
		t.Fatal(err)
	}
	m[9] = 'X'
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unmap(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 16)
	if _, err := f.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if string(got) != "012345678XABCDEF" {
		t.Errorf("file: got %q; want %q", got, "012345678XABCDEF")
	}

	anon, err := mmap.MapRegion(nil, 100, mmap.RDWR, mmap.ANON, 0)
	if err != nil {
		t.Fatal(err)
	}
	anon[99] = 1
	if err := anon.Unmap(); err != nil {
		t.Fatal(err)
	}
}
