package mmap_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
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

// compatFile creates a file in a new directory, as a program written for
// mmap-go would, and closes and removes both when the test ends (one by
// one, as Wine can).
func compatFile(t *testing.T) *os.File {
	t.Helper()
	dir, err := os.MkdirTemp("", "mmap-compat-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "f")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		os.Remove(path)
		os.Remove(dir)
	})
	return f
}

// TestMmapGoProgram is the shape of a typical mmap-go program: map a file
// read-write, change it, flush, unmap, and see the change in the file.
func TestMmapGoProgram(t *testing.T) {
	f := compatFile(t)
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

// TestFixedWindowsOverAShorterFile is the pattern of nutsdb's MMap mode,
// which maps a data file in fixed windows of 16 KiB,
// MapRegion(f, 16384, RDWR, 0, off), whatever the file's size: with a
// segment of 100,000 bytes, the last window runs past the end. Records are
// written through the windows, within the file, and read back through them
// and through the file. On Windows, which cannot map past the end of a file
// without growing it, the last window is refused (README).
func TestFixedWindowsOverAShorterFile(t *testing.T) {
	const window, segment, step = 16 << 10, 100000, 1000
	f := compatFile(t)
	path := f.Name()
	if err := f.Truncate(segment); err != nil {
		t.Fatal(err)
	}
	// each calls fn with every window of the file, mapped with prot.
	each := func(prot int, fn func(m mmap.MMap, off int)) {
		t.Helper()
		for off := 0; off < segment; off += window {
			m, err := mmap.MapRegion(f, window, prot, 0, int64(off))
			if runtime.GOOS == "windows" && off+window > segment {
				if !errors.Is(err, mmap.ErrRange) {
					t.Errorf("the last window on Windows: got %v; want ErrRange", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("window at %d: %v", off, err)
			}
			fn(m, off)
			if err := m.Unmap(); err != nil {
				t.Fatal(err)
			}
		}
	}
	each(mmap.RDWR, func(m mmap.MMap, off int) {
		for i := (off + step - 1) / step * step; i <= min(off+window, segment)-8; i += step {
			binary.LittleEndian.PutUint64(m[i-off:], uint64(i)+1)
		}
		if err := m.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	windows := 0
	each(mmap.RDONLY, func(m mmap.MMap, off int) {
		windows++
		for i := (off + step - 1) / step * step; i <= min(off+window, segment)-8; i += step {
			if got := binary.LittleEndian.Uint64(m[i-off:]); got != uint64(i)+1 {
				t.Fatalf("record at %d, read through its window: %d; want %d", i, got, i+1)
			}
		}
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != segment {
		t.Fatalf("the file has %d bytes; want %d, unchanged", len(b), segment)
	}
	lastWindow := segment / window * window
	for i := 0; i < segment-8; i += step {
		want := uint64(i) + 1
		if runtime.GOOS == "windows" && i >= lastWindow {
			want = 0
		}
		if got := binary.LittleEndian.Uint64(b[i:]); got != want {
			t.Fatalf("record at %d, read from the file: %d; want %d", i, got, want)
		}
	}
	if want := (segment + window - 1) / window; runtime.GOOS != "windows" && windows != want {
		t.Errorf("%d windows read; want %d", windows, want)
	}
}
