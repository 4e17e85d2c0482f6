//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNamedPipes runs mmapinfo on a named pipe, and on a file whose
// sidecar is one: it must say what they are, not wait for a writer.
func TestNamedPipes(t *testing.T) {
	fifo := func(t *testing.T, path string) {
		t.Helper()
		if err := unix.Mkfifo(path, 0o644); err != nil {
			t.Skipf("no named pipes here: %v", err)
		}
	}
	for _, c := range []struct {
		name   string
		make   func(t *testing.T) string
		status int
		says   string // on stdout, or on stderr for exitError
	}{
		{"a named pipe", func(t *testing.T) string {
			path := filepath.Join(tempDir(t), "data.npy")
			fifo(t, path)
			return path
		}, exitError, "data.npy: it is a named pipe, not a regular file"},
		{"a sidecar that is a named pipe", func(t *testing.T) string {
			path := writeFile(t, header(t, f8, nil, 2), floats(2))
			fifo(t, path+".meta")
			return path
		}, exitOK, "data.npy.meta: it is a named pipe, not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.make(t)
			type result struct {
				out, errOut string
				status      int
			}
			done := make(chan result, 1)
			go func() {
				out, errOut, status := runInfo(path)
				done <- result{out, errOut, status}
			}()
			select {
			case r := <-done:
				said := r.out
				if c.status == exitError {
					said = r.errOut
				}
				if r.status != c.status || !strings.Contains(said, c.says) {
					t.Errorf("exit %d, stdout\n%s\nstderr %q; want exit %d, saying %q", r.status, r.out, r.errOut, c.status, c.says)
				}
			case <-time.After(10 * time.Second):
				// Let the waiting open return, so that the pipe can be removed.
				for _, p := range []string{path, path + ".meta"} {
					if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
						if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
							f.Close()
						}
					}
				}
				t.Fatal("mmapinfo waits for a writer to open the pipe")
			}
		})
	}
}
