//go:build unix

package fileid

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenDoesNotWaitForAPipe opens a named pipe the way OpenRegular and
// OpenNoFollow do once they have looked at the name, as if the pipe had
// been swapped in after the look: the open must not wait for the pipe's
// other end, and must refuse it.
func TestOpenDoesNotWaitForAPipe(t *testing.T) {
	path := filepath.Join(tempDir(t), "pipe")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	for _, c := range []struct {
		flag   int
		follow bool
	}{{os.O_RDONLY, true}, {os.O_RDWR, true}, {os.O_RDONLY, false}, {os.O_RDWR, false}} {
		done := make(chan error, 1)
		go func() {
			f, err := open(path, c.flag, 0, c.follow)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || err.Error() != "it is a named pipe, not a regular file" {
				t.Errorf("flag %#x, follow %t: got %v; want ErrNotRegular, saying it is a named pipe", c.flag, c.follow, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("flag %#x, follow %t: the open waits for the pipe's other end", c.flag, c.follow)
		}
	}
}
