package fileid

import (
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
