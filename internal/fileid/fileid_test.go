package fileid

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOf(t *testing.T) {
	// Not t.TempDir: its cleanup fails under Wine; files go one by one.
	dir, err := os.MkdirTemp("", "fileid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(filepath.Join(dir, "a"))
		os.Remove(filepath.Join(dir, "b"))
		os.Remove(dir)
	})
	open := func(name string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, again, b := open("a"), open("a"), open("b")
	da, ia, err := Of(a)
	if err != nil {
		t.Fatal(err)
	}
	if d, i, err := Of(again); err != nil || d != da || i != ia {
		t.Errorf("a second open of the same file: %d, %d, %v; want %d, %d", d, i, err, da, ia)
	}
	if d, i, err := Of(b); err != nil || d == da && i == ia {
		t.Errorf("another file: %d, %d, %v; want other numbers than %d, %d", d, i, err, da, ia)
	}
	a.Close()
	if _, _, err := Of(a); err == nil {
		t.Error("a closed file: no error")
	}
}

func TestOpenRegular(t *testing.T) {
	dir, err := os.MkdirTemp("", "fileid-")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "a")
	t.Cleanup(func() {
		os.Remove(file)
		os.Remove(dir)
	})
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
