package fileid

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// tempDir returns a new directory, removed with its files when the test
// ends. Not t.TempDir: its cleanup fails under Wine; files go one by one.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fileid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		os.Remove(dir)
	})
	return dir
}

func TestStat(t *testing.T) {
	dir := tempDir(t)
	open := func(name string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, again, b := open("a"), open("a"), open("b")
	if _, err := a.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	ia, err := Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	if ia.Size != 3 || !ia.Mode.IsRegular() || ia.Links != 1 {
		t.Errorf("Stat: size %d, mode %v, %d links; want 3, a regular file, 1", ia.Size, ia.Mode, ia.Links)
	}
	if want := os.Geteuid(); ia.Owner != want {
		t.Errorf("Stat: owner %d; want %d, this process's user", ia.Owner, want)
	}
	if i, err := Stat(again); err != nil || !i.Same(ia) {
		t.Errorf("a second open of the same file: %+v, %v; want the same file as %+v", i, err, ia)
	}
	if i, err := Stat(b); err != nil || i.Same(ia) {
		t.Errorf("another file: %+v, %v; want another file than %+v", i, err, ia)
	}
	if err := os.Link(a.Name(), filepath.Join(dir, "c")); err == nil {
		if i, err := Stat(a); err != nil || i.Links != 2 {
			t.Errorf("a file with a second name: %d links, %v; want 2", i.Links, err)
		}
	}
	a.Close()
	if _, err := Stat(a); err == nil {
		t.Error("a closed file: no error")
	}
}

func TestOpenRegular(t *testing.T) {
	dir := tempDir(t)
	file := filepath.Join(dir, "a")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenRegular(file, os.O_RDONLY)
	if err != nil {
		t.Fatalf("a regular file: %v", err)
	}
	f.Close()
	if _, err := OpenRegular(dir, os.O_RDONLY); !errors.Is(err, ErrNotRegular) || err.Error() != "it is a directory, not a regular file" {
		t.Errorf("a directory: got %v; want ErrNotRegular, saying it is a directory", err)
	}
	if _, err := OpenRegular(filepath.Join(dir, "missing"), os.O_RDONLY); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: got %v; want fs.ErrNotExist", err)
	}
}

func TestOpenNoFollow(t *testing.T) {
	dir := tempDir(t)
	file, link := filepath.Join(dir, "a"), filepath.Join(dir, "link")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenNoFollow(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("a regular file: %v", err)
	}
	f.Close()
	created := filepath.Join(dir, "new")
	f, err = OpenNoFollow(created, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("a new file: %v", err)
	}
	f.Close()
	if _, err := OpenNoFollow(created, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL of a file that exists: got %v; want fs.ErrExist", err)
	}
	err = os.Symlink(file, link)
	if err == nil {
		_, err = os.Lstat(link) // Wine reports success and makes nothing
	}
	if err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("this Windows does not let the test make a symbolic link: %v", err)
		}
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_RDWR, os.O_RDWR | os.O_CREATE | os.O_EXCL} {
		if _, err := OpenNoFollow(link, flag, 0o600); !errors.Is(err, ErrNotRegular) || err.Error() != "it is a symbolic link, not a regular file" {
			t.Errorf("a symbolic link, flag %#x: got %v; want ErrNotRegular, saying it is a symbolic link", flag, err)
		}
	}
	if f, err := OpenRegular(link, os.O_RDONLY); err != nil {
		t.Errorf("OpenRegular follows a link: %v", err)
	} else {
		f.Close()
	}
}

func TestTrust(t *testing.T) {
	file := Info{Mode: 0o640, Owner: 1000, Links: 1}
	side := func(mode fs.FileMode, owner, links int) Info {
		return Info{Mode: mode, Owner: owner, Links: links}
	}
	for _, c := range []struct {
		name   string
		side   Info
		user   int
		writer bool
		says   string // "" when trusted
	}{
		{"the writer's own, with the file's mode", side(0o640, 1000, 1), 1000, true, ""},
		{"the writer's own, with less", side(0o600, 1000, 1), 1000, true, ""},
		{"a second name", side(0o600, 1000, 2), 1000, true, "it has 2 names (hard links)"},
		{"another user's, for a writer", side(0o600, 1001, 1), 1000, true, "it belongs to user ID 1001, not to this process's user (ID 1000)"},
		{"root's, for a writer that is not root", side(0o600, 0, 1), 1000, true, "it belongs to user ID 0"},
		{"readable by others, for a writer", side(0o644, 1000, 1), 1000, true, "its permissions -rw-r--r-- give others read, which the file's (-rw-r-----) do not"},
		{"open to the group and others, for a writer", side(0o677, 1000, 1), 1000, true, "give group write, group execute, others read, others write, others execute,"},
		{"the file owner's, for a reader", side(0o640, 1000, 1), 1001, false, ""},
		{"the reader's own", side(0o600, 1002, 1), 1002, false, ""},
		{"root's, for a reader", side(0o644, 0, 1), 1002, false, ""},
		{"readable by others, for a reader", side(0o644, 1000, 1), 1001, false, ""},
		{"a second name, for a reader", side(0o640, 1000, 2), 1001, false, ""},
		{"a stranger's, for a reader", side(0o640, 1003, 1), 1002, false, "it belongs to user ID 1003: neither to this process's user (ID 1002), nor to the file's owner (ID 1000), nor to root"},
		{"writable by others, for a reader", side(0o646, 1000, 1), 1001, false, "its permissions -rw-r--rw- give others write, which the file's (-rw-r-----) do not"},
		{"no owners (Windows)", side(0o666, -1, 1), -1, true, ""},
		{"no owners, a second name", side(0o666, -1, 3), -1, true, "it has 3 names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Trust(c.side, file, c.user, c.writer)
			switch {
			case c.says == "" && err != nil:
				t.Errorf("got %v; want it trusted", err)
			case c.says != "" && (!errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), c.says)):
				t.Errorf("got %v; want fs.ErrPermission saying %q", err, c.says)
			}
		})
	}
}

// TestResolve resolves a symbolic link to the file it leads to, refuses one
// that leads to another file than the one opened, and leaves other names as
// they are.
func TestResolve(t *testing.T) {
	dir := tempDir(t)
	a, b, link := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "link")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := func(p string) Info {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		i, err := Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	ia, ib := info(a), info(b)
	if got, err := Resolve(a, ia); got != a || err != nil {
		t.Errorf("a file: got %q, %v; want it as it is", got, err)
	}
	if !Names(a, ia) || Names(a, ib) || Names(filepath.Join(dir, "missing"), ia) {
		t.Error("Names: wrong for a file, another file, or a missing one")
	}
	err := os.Symlink(a, link)
	if err == nil {
		_, err = os.Lstat(link) // Wine reports success and makes nothing
	}
	if err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("this Windows does not let the test make a symbolic link: %v", err)
		}
		t.Fatal(err)
	}
	if got, err := Resolve(link, ia); err != nil || !Names(got, ia) {
		t.Errorf("a link: got %q, %v; want the path of a", got, err)
	}
	if Names(link, ia) {
		t.Error("Names follows a link")
	}
	if got, err := Resolve(link, ib); !errors.Is(err, ErrMoved) {
		t.Errorf("a link to another file than the one opened: got %q, %v; want ErrMoved", got, err)
	}
}
