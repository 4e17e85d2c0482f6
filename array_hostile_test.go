package mmap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// The tests in this file play an attacker who can create files in an
// array's directory, and a careless user with a second name for a file
// (SECURITY.md).

// victimFile writes a file that no Array may write, and returns its path
// and content.
func victimFile(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	content := bytes.Repeat([]byte("precious\n"), 2000)
	path := filepath.Join(dir, "victim")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

// symlink makes a symbolic link, or skips the test where the OS does not
// let this process make one: Windows without the privilege, or Wine, whose
// CreateSymbolicLink reports success and makes nothing.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	err := os.Symlink(target, link)
	if err == nil {
		_, err = os.Lstat(link)
	}
	if err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("this Windows does not let the test make a symbolic link: %v", err)
		}
		t.Fatal(err)
	}
}

// hardLink makes a second name for a file, or skips the test where the file
// system has none.
func hardLink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Link(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("this file system has no hard links: %v", err)
		}
		t.Fatal(err)
	}
}

// within runs f and fails the test if it has not returned within d: what
// it tests must never hang.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s has not returned after %v", what, d)
	}
}

// writers are the two ways of becoming an array's writer.
var writers = []struct {
	name string
	open func(path string) error
}{
	{"Create", func(path string) error { return closeIfOpen(Create[rec](path)) }},
	{"Open(RDWR)", func(path string) error { return closeIfOpen(Open[rec](path, RDWR)) }},
}

func closeIfOpen(a *Array[rec], err error) error {
	if err == nil {
		return a.Close()
	}
	return err
}

func TestArraySidecarIsNeverFollowed(t *testing.T) {
	for _, w := range writers {
		for _, dangling := range []bool{false, true} {
			name := w.name + ", a link to a file"
			if dangling {
				name = w.name + ", a link to nothing"
			}
			t.Run(name, func(t *testing.T) {
				dir := tempDir(t)
				path := filepath.Join(dir, "data.npy")
				writeArray(t, path, 3)
				victim, content := victimFile(t, dir)
				target := victim
				if dangling {
					target = filepath.Join(dir, "nothing")
				}
				symlink(t, target, path+arrayfile.Suffix)
				var err error
				within(t, 10*time.Second, w.name, func() { err = w.open(path) })
				if !errSays(err, ErrInvalid, "it is a symbolic link, not a regular file") || !strings.Contains(err.Error(), path+arrayfile.Suffix) {
					t.Errorf("got %v; want ErrInvalid naming the sidecar, a symbolic link", err)
				}
				checkBytes(t, "the file the link points to", fileBytes(t, victim), content)
				if _, err := os.Lstat(target); dangling && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the link's target was created: %v", err)
				}
				r := mustOpen[rec](t, path, RDONLY)
				checkRecs(t, r, 3)
				if r.side != nil {
					t.Error("a reader took the link as its sidecar")
				}
				mustClose(t, r)
			})
		}
	}
}

func TestArraySidecarWithTwoNamesIsRefused(t *testing.T) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			dir := tempDir(t)
			path := filepath.Join(dir, "data.npy")
			writeArray(t, path, 3)
			victim, content := victimFile(t, dir)
			hardLink(t, victim, path+arrayfile.Suffix)
			err := w.open(path)
			if !errSays(err, fs.ErrPermission, "it has 2 names (hard links)") || !strings.Contains(err.Error(), path+arrayfile.Suffix) {
				t.Errorf("got %v; want fs.ErrPermission naming the sidecar, which has 2 names", err)
			}
			checkBytes(t, "the file the sidecar's second name is", fileBytes(t, victim), content)
		})
	}
}

func TestArraySidecarOfAnotherUser(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix owner and mode; SECURITY.md says what holds there")
	}
	dir := tempDir(t)
	path := filepath.Join(dir, "data.npy")
	writeArray(t, path, 3)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	sp := path + arrayfile.Suffix
	if err := os.WriteFile(sp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sp, 4242, 4242); err != nil {
		cannotRun(t, "giving a file to another user needs root: %v", err)
	}
	for _, w := range writers {
		err := w.open(path)
		if !errSays(err, fs.ErrPermission, "it belongs to user ID 4242, not to this process's user") || !strings.Contains(err.Error(), sp) {
			t.Errorf("%s: got %v; want fs.ErrPermission naming the sidecar and its owner", w.name, err)
		}
	}
	if fi, err := os.Stat(sp); err != nil || fi.Size() != 0 {
		t.Errorf("the other user's sidecar was written: %v, %v", fi, err)
	}
	r := mustOpen[rec](t, path, RDONLY)
	if r.side != nil {
		t.Error("a reader took another user's sidecar")
	}
	checkRecs(t, r, 3)
	mustClose(t, r)
}

func TestArraySidecarOpenToOthers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix mode; SECURITY.md says what holds there")
	}
	dir := tempDir(t)
	path := filepath.Join(dir, "data.npy")
	writeArray(t, path, 3)
	sp := path + arrayfile.Suffix
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sp, 0o606); err != nil {
		t.Fatal(err)
	}
	for _, w := range writers {
		err := w.open(path)
		if !errSays(err, fs.ErrPermission, "its permissions -rw----rw- give others read, others write, which the file's (-rw-------) do not") {
			t.Errorf("%s: got %v; want fs.ErrPermission saying what the sidecar grants", w.name, err)
		}
	}
	// A sidecar the writer makes has the file's permissions.
	if err := os.Remove(sp); err != nil {
		t.Fatal(err)
	}
	a := mustOpen[rec](t, path, RDWR)
	if fi, err := os.Stat(sp); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the writer's sidecar: %v, %v; want mode 0600, the file's", fi, err)
	}
	mustClose(t, a)
}

// TestArrayOneWriterPerFile opens a second writer of one file by other
// names: a symbolic link and a hard link, in this process and another.
func TestArrayOneWriterPerFile(t *testing.T) {
	for _, c := range []struct {
		name string
		link func(t *testing.T, target, link string)
	}{
		{"symbolic link", symlink},
		{"hard link", hardLink},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := tempDir(t)
			real, link := filepath.Join(dir, "real.npy"), filepath.Join(dir, "link.npy")
			a := mustCreate[rec](t, real)
			appendN(t, a, 0, 1)
			if err := a.Sync(); err != nil {
				t.Fatal(err)
			}
			c.link(t, real, link)
			if err := errOf(Open[rec](link, RDWR)); !errSays(err, ErrLocked, "another writer has it open, by this name or another") {
				t.Errorf("a second writer by the other name: got %v; want ErrLocked", err)
			}
			if err := errOf(Create[rec](link)); !errors.Is(err, ErrLocked) {
				t.Errorf("Create by the other name: got %v; want ErrLocked", err)
			}
			r := mustOpen[rec](t, link, RDONLY)
			checkRecs(t, r, 1)
			mustClose(t, r)
			mustClose(t, a)

			// Another process holds it by one name; this one tries the other.
			cmd, stdin, _ := startOpen(t, "hold-RDWR", link)
			if err := errOf(Open[rec](real, RDWR)); !errors.Is(err, ErrLocked) {
				t.Errorf("a writer while another process writes by the other name: got %v; want ErrLocked", err)
			}
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}
			b := mustOpen[rec](t, link, RDWR)
			appendN(t, b, 1, 3)
			mustClose(t, b)
			checkClosedFile(t, real, 3)
			if _, err := os.Lstat(real + arrayfile.Suffix); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a sidecar is left: %v", err)
			}
		})
	}
}

// TestArrayReaderOfAReplacedFile keeps a reader, in this process and in
// another, on a file that is removed and replaced at its name by a new
// array, whose writer takes the sidecar that the reader has mapped: the
// reader must keep its own file's count and records.
func TestArrayReaderOfAReplacedFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows does not remove a file that a reader has open")
	}
	for _, inChild := range []bool{false, true} {
		name := "a reader in this process"
		if inChild {
			name = "a reader in another process"
		}
		t.Run(name, func(t *testing.T) {
			path := arrayPath(t)
			w := mustCreate[rec](t, path)
			appendN(t, w, 0, 1000)
			if err := w.Grow(10000); err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			var r *Array[rec]
			var stdin io.WriteCloser
			var stdout *bufio.Reader
			var cmd *exec.Cmd
			if inChild {
				cmd, stdin, stdout = startOpen(t, "replaced-reader", path)
			} else {
				r = mustOpen[rec](t, path, RDONLY)
			}
			mustClose(t, w)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			w2 := mustCreate[rec](t, path)
			for i := range 5000 {
				if err := w2.Append(mkrec(uint64(i), 2)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w2.Sync(); err != nil {
				t.Fatal(err)
			}
			if inChild {
				stdin.Close()
				line, _ := stdout.ReadString('\n')
				if err := cmd.Wait(); err != nil || line != "kept 1000\n" {
					t.Errorf("the reader said %q, %v; want \"kept 1000\"", line, err)
				}
			} else {
				if err := waitForMore(r); err != nil {
					t.Error(err)
				}
				mustClose(t, r)
			}
			mustClose(t, w2)
		})
	}
}

// replacedReader is a child role: it opens the array at path, says "open",
// and once its stdin closes, checks that it still has its own file's
// records and no more (waitForMore), and says how many.
func replacedReader(path string) error {
	a, err := Open[rec](path, RDONLY)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Println("open")
	io.Copy(io.Discard, os.Stdin)
	if err := waitForMore(a); err != nil {
		return err
	}
	fmt.Println("kept", a.Len())
	return nil
}

// waitForMore waits a while for a record past the reader's 1000: none may
// come, and the 1000 must be those of generation 0.
func waitForMore(a *Array[rec]) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Wait(ctx, 1001); !errors.Is(err, ErrWriterClosed) {
		return fmt.Errorf("Wait for a record the reader's file never had: got %v; want ErrWriterClosed, as its writer has closed it", err)
	}
	if a.Len() != 1000 {
		return fmt.Errorf("Len %d; want 1000, its own file's", a.Len())
	}
	for i, r := range a.Items() {
		if r != mkrec(uint64(i), 0) {
			return fmt.Errorf("record %d is %+v; want %+v", i, r, mkrec(uint64(i), 0))
		}
	}
	return nil
}

// TestArrayReaderWithoutTheSidecar gives a live writer's sidecar to
// another user, so that a reader cannot trust it: the reader must do
// without it and still follow the writer, by its header.
func TestArrayReaderWithoutTheSidecar(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix owner; SECURITY.md says what holds there")
	}
	path := arrayPath(t)
	w := syncedArray(t, path, 3)
	if err := os.Chown(path+arrayfile.Suffix, 4242, 4242); err != nil {
		cannotRun(t, "giving a file to another user needs root: %v", err)
	}
	r := mustOpen[rec](t, path, RDONLY)
	if r.side != nil {
		t.Fatal("the reader took another user's sidecar")
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- r.Wait(ctx, 8)
	}()
	appendN(t, w, 3, 8)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait for the writer's Sync, without the sidecar: %v", err)
	}
	checkRecs(t, r, 8)
	if r.side != nil {
		t.Error("the reader took another user's sidecar after Open")
	}
	mustClose(t, r)
	mustClose(t, w)
}

// TestArrayReaderBoundsTheSidecar gives a reader a sidecar whose control
// page claims slots of 1 GiB: the reader must not read it, and opens at
// once with the file's own header.
func TestArrayReaderBoundsTheSidecar(t *testing.T) {
	path := arrayPath(t)
	w := syncedArray(t, path, 3)
	id := w.id
	mustClose(t, w)
	b := make([]byte, arrayfile.ControlSize)
	arrayfile.PutControl(b, arrayfile.Control{Dev: id.Dev, Ino: id.Ino, SlotSize: 1 << 30})
	sp := path + arrayfile.Suffix
	if err := os.WriteFile(sp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sp, arrayfile.ControlSize+2<<30); err != nil {
		t.Skipf("this file system has no 2 GiB sparse file: %v", err)
	}
	start := time.Now()
	r := mustOpen[rec](t, path, RDONLY)
	if r.side != nil {
		t.Error("the reader took a sidecar larger than any")
	}
	checkRecs(t, r, 3)
	mustClose(t, r)
	t.Logf("Open took %v", time.Since(start))
	a := mustOpen[rec](t, path, RDWR)
	checkRecs(t, a, 3)
	mustClose(t, a)
}

// TestArrayCloseWakesWaiters closes an array while goroutines wait in Wait
// and Follow: they must return an error wrapping fs.ErrClosed.
func TestArrayCloseWakesWaiters(t *testing.T) {
	path := arrayPath(t)
	w := syncedArray(t, path, 2)
	r := mustOpen[rec](t, path, RDONLY)
	for _, c := range []struct {
		name string
		a    *Array[rec]
	}{{"reader", r}, {"writer", w}} {
		t.Run(c.name, func(t *testing.T) {
			errs := make(chan error, 2)
			go func() { errs <- c.a.Wait(context.Background(), 10) }()
			go func() {
				for _, err := range c.a.Follow(context.Background(), 0) {
					if err != nil {
						errs <- err
						return
					}
				}
				errs <- errors.New("Follow ended without an error")
			}()
			time.Sleep(50 * time.Millisecond) // let them go to sleep
			within(t, 10*time.Second, "Close", func() { mustClose(t, c.a) })
			for range 2 {
				select {
				case err := <-errs:
					if !errors.Is(err, fs.ErrClosed) {
						t.Errorf("a waiter woken by Close: got %v; want fs.ErrClosed", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a waiter was not woken by Close")
				}
			}
			if err := c.a.Wait(context.Background(), 1); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Wait after Close: got %v; want fs.ErrClosed", err)
			}
		})
	}
}

// TestArrayCloseWhileFollowing closes an array from the loop of a Follow
// that is reading it, and from another goroutine while one follows: no
// record is read from unmapped memory, and Follow ends.
func TestArrayCloseWhileFollowing(t *testing.T) {
	path := arrayPath(t)
	w := syncedArray(t, path, 1000)
	n := 0
	for r, err := range w.Follow(context.Background(), 0) {
		if err != nil {
			if !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Follow after a Close in its loop: got %v; want fs.ErrClosed", err)
			}
			break
		}
		if r != mkrec(uint64(n), 0) {
			t.Fatalf("record %d is %+v", n, r)
		}
		if n++; n == 10 {
			mustClose(t, w)
		}
	}
	if n != 10 {
		t.Errorf("Follow yielded %d records; want 10, then the error", n)
	}
}

// growLimited is a child role: in an address space limited to a little
// more than the process has, it appends until growing the array fails. The
// error must be ENOMEM, the array as it was, and once the limit is lifted,
// Append must work again. It prints "ok" and the number of records.
func growLimited(path string) error {
	if err := limitAddressSpace(256 << 20); err != nil {
		return err
	}
	a, err := Create[rec](path)
	if err != nil {
		return err
	}
	defer a.Close()
	batch := make([]rec, 32768)
	var growErr error
	for growErr == nil {
		for i := range batch {
			batch[i] = mkrec(uint64(a.Len()+i), 0)
		}
		growErr = a.Append(batch...)
		if a.Len() > 1<<28/24 {
			return errors.New("the address space limit was never reached")
		}
	}
	n := a.Len()
	if !errors.Is(growErr, errNoMemory) || strings.Contains(growErr.Error(), "invalid argument") {
		return fmt.Errorf("Append out of address space: got %v; want ENOMEM", growErr)
	}
	if err := a.Append(batch...); !errors.Is(err, errNoMemory) {
		return fmt.Errorf("Append again, still out of address space: got %v; want ENOMEM", err)
	}
	if err := liftAddressSpaceLimit(); err != nil {
		return err
	}
	for i := range batch {
		batch[i] = mkrec(uint64(n+i), 0)
	}
	if err := a.Append(batch...); err != nil {
		return fmt.Errorf("Append once the limit is lifted: %v", err)
	}
	for i, r := range a.Items() {
		if r != mkrec(uint64(i), 0) {
			return fmt.Errorf("record %d is %+v", i, r)
		}
	}
	if err := a.Close(); err != nil {
		return err
	}
	fmt.Println("ok", n+len(batch))
	return nil
}

func TestArrayGrowthOutOfAddressSpace(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory needs more address space than the test leaves")
	}
	if !canLimitAddressSpace {
		t.Skipf("%s has no address space limit to set", runtime.GOOS)
	}
	path := arrayPath(t)
	cmd, stdin, stdout := startChild(t, "grow-limited", path)
	line, _ := stdout.ReadString('\n')
	stdin.Close()
	if err := cmd.Wait(); err != nil || !strings.HasPrefix(line, "ok ") {
		t.Fatalf("child said %q, %v", line, err)
	}
	var n int
	fmt.Sscan(strings.TrimPrefix(line, "ok "), &n)
	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, n)
	mustClose(t, r)
}

// TestArrayRotatedWhileWritten moves an array away while its writer runs,
// as a user rotating a log by hand does, and opens a new writer at the old
// name: the new file's sidecar is the moved file's writer's, and the error
// says so, and which process holds it where the OS tells.
func TestArrayRotatedWhileWritten(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows does not move a file that a writer has open")
	}
	dir := tempDir(t)
	live, rotated := filepath.Join(dir, "live.npy"), filepath.Join(dir, "live.1.npy")
	w := syncedArray(t, live, 3)
	if err := os.Rename(live, rotated); err != nil {
		t.Fatal(err)
	}
	_, err := Create[rec](live)
	if !w.w.inode {
		if !errSays(err, ErrLocked, "another writer") {
			t.Fatalf("Create at the old name: got %v; want ErrLocked", err)
		}
	} else if !errSays(err, ErrLocked, "the sidecar is held by the writer of another file") || !strings.Contains(err.Error(), live+arrayfile.Suffix) {
		t.Fatalf("Create at the old name: got %v; want ErrLocked, naming the sidecar held by the moved file's writer", err)
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), fmt.Sprintf("(process %d)", os.Getpid())) {
		t.Errorf("%v does not name this process, which holds the lock", err)
	}
	if _, err := os.Stat(live); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed Create left %s: %v", live, err)
	}
	mustClose(t, w)
	a := mustCreate[rec](t, live)
	mustClose(t, a)
	checkClosedFile(t, rotated, 3)
	checkClosedFile(t, live, 0)
}
