//go:build unix

package mmap

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"golang.org/x/sys/unix"
)

// TestArrayNamedPipes opens and creates arrays where a named pipe, or a
// directory, stands: as the file, refused with ErrInvalid naming it; as the
// sidecar, a reader does without it and a writer is refused. None waits for
// the pipe's other end.
func TestArrayNamedPipes(t *testing.T) {
	fifo := func(t *testing.T, path string) {
		t.Helper()
		if err := unix.Mkfifo(path, 0o644); err != nil {
			t.Fatalf("mkfifo: %v", err)
		}
	}
	within := func(t *testing.T, what string, f func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waited for the named pipe's other end", what)
			return nil
		}
	}
	pipe := arrayPath(t)
	fifo(t, pipe)
	for _, c := range []struct {
		name string
		path string
		call func(path string) error
		says string
	}{
		{"Open RDONLY of a named pipe", pipe, func(p string) error { _, err := Open[rec](p, RDONLY); return err }, "a named pipe"},
		{"Open RDWR of a named pipe", pipe, func(p string) error { _, err := Open[rec](p, RDWR); return err }, "a named pipe"},
		{"Create over a named pipe", pipe, func(p string) error { _, err := Create[rec](p); return err }, "a named pipe"},
		{"Open of a directory", tempDir(t), func(p string) error { _, err := Open[rec](p, RDONLY); return err }, "a directory"},
	} {
		err := within(t, c.name, func() error { return c.call(c.path) })
		if !errSays(err, ErrInvalid, "it is "+c.says+", not a regular file") {
			t.Errorf("%s: got %v; want ErrInvalid, it is %s", c.name, err, c.says)
		}
		checkFileError(t, err, c.path)
	}

	path := filepath.Join(tempDir(t), "piped.npy")
	mustClose(t, syncedArray(t, path, 3))
	fifo(t, path+arrayfile.Suffix)
	err := within(t, "a reader", func() error {
		r, err := Open[rec](path, RDONLY)
		if err != nil {
			return err
		}
		checkRecs(t, r, 3)
		return r.Close()
	})
	if err != nil {
		t.Errorf("a reader, the sidecar a named pipe: %v; want it to open without the sidecar", err)
	}
	err = within(t, "a writer", func() error { _, err := Open[rec](path, RDWR); return err })
	if !errSays(err, ErrInvalid, "it is a named pipe, not a regular file") || !strings.Contains(err.Error(), arrayfile.Suffix) {
		t.Errorf("a writer, the sidecar a named pipe: got %v; want ErrInvalid naming the sidecar", err)
	}
}
