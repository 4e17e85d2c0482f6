package mmap

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tempDir returns a new directory that is removed when the test ends. Unlike
// t.TempDir, it removes entries one by one with os.Remove, which works under
// Wine; so files must be closed and unmapped by then, which it checks.
func tempDir(t testing.TB) string {
	t.Helper()
	return tempDirIn(t, "")
}

// tempDirIn is tempDir in the directory parent (os.TempDir if "").
func tempDirIn(t testing.TB, parent string) string {
	t.Helper()
	dir, err := os.MkdirTemp(parent, "mmap-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(t, dir) })
	return dir
}

// removeTree removes dir and what it holds (a log's directory inside a
// test's), entry by entry, as tempDir does.
func removeTree(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Error(err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() {
			removeTree(t, path)
		} else if err := os.Remove(path); err != nil {
			t.Errorf("cleanup: %v (a file still open or mapped?)", err)
		}
	}
	if err := os.Remove(dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// pattern returns n reproducible pseudo-random bytes, so that a byte read from
// the wrong offset shows.
func pattern(n int) []byte {
	r := rand.NewChaCha8([32]byte{'m', 'm', 'a', 'p'})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// newFile writes data to a new file in a temporary directory and returns its
// path.
func newFile(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(tempDir(t), "data")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// openFile opens path with flag and closes it when the test ends.
func openFile(t testing.TB, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// mustMap maps a region and unmaps it when the test ends.
func mustMap(t testing.TB, f *os.File, length, prot, flags int, offset int64) MMap {
	t.Helper()
	m, err := MapRegion(f, length, prot, flags, offset)
	if err != nil {
		t.Fatalf("MapRegion(length %d, prot %d, flags %d, offset %d): %v", length, prot, flags, offset, err)
	}
	t.Cleanup(func() {
		if err := m.Unmap(); err != nil {
			t.Errorf("Unmap: %v", err)
		}
	})
	return m
}

// fileBytes returns the content of the file at path, read through the file
// system rather than a mapping.
func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkBytes fails the test unless got equals want, naming the first
// difference.
func checkBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d bytes; want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: byte %d is %#x; want %#x", what, i, got[i], want[i])
		}
	}
}

// alignedBytes returns n zero bytes starting at an 8-byte aligned address,
// on every target (on 386, Go aligns even a []uint64 to only 4).
func alignedBytes(n int) []byte {
	b := make([]byte, n+7)
	off := int(-addr(b) & 7)
	return b[off : off+n : off+n]
}

// errOf returns the error of a call that returns a value and an error.
func errOf[T any](_ T, err error) error { return err }

// errSays reports whether err wraps kind and its message contains s.
func errSays(err, kind error, s string) bool {
	return err != nil && errors.Is(err, kind) && strings.Contains(err.Error(), s)
}

// liveMappings returns how many mappings the registry holds.
func liveMappings() int {
	mappings.mu.Lock()
	defer mappings.mu.Unlock()
	return len(mappings.live)
}

// cannotRun skips a test that this machine cannot run, with the reason; in
// CI (CI=true), where the machine is set up for it, it fails instead, except
// under an emulator (MMAP_TEST_EMULATOR names it), which may lack it.
func cannotRun(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" && os.Getenv("MMAP_TEST_EMULATOR") == "" {
		t.Fatalf("CI must run this test: "+format, args...)
	}
	t.Skipf(format, args...)
}
