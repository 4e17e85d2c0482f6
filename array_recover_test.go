package mmap

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// syncToTheHeader runs the first steps of a Sync of n records: it flushes
// them and writes the sidecar's slot, and returns the header that the next
// step would write.
func syncToTheHeader[T any](t *testing.T, a *Array[T], n int) []byte {
	t.Helper()
	if n > 0 {
		if err := a.rec[:n].Flush(); err != nil {
			t.Fatal(err)
		}
	}
	hdr, err := a.h.Rewrite(a.hdr, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.side.writeSlot(int64(n), hdr); err != nil {
		t.Fatal(err)
	}
	return hdr
}

// crash abandons a writer as a process killed at that moment would: no
// Sync, no trim, the sidecar left as it is.
func crash[T any](t *testing.T, a *Array[T]) {
	t.Helper()
	a.writable = false // so that release does not sync
	if err := a.release(); err != nil {
		t.Fatal(err)
	}
}

func TestArrayCrashBeforeTheHeaderWasWritten(t *testing.T) {
	path := arrayPath(t)
	a := syncedArray(t, path, 3)
	appendN(t, a, 3, 5)
	syncToTheHeader(t, a, 5) // the crash comes before the header is written
	crash(t, a)
	if h, err := npy.Parse(fileBytes(t, path)); err != nil || h.Shape[0] != 3 {
		t.Fatalf("the header after the crash: %v, %v; want it to count 3", h, err)
	}

	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, 5) // the sidecar's newest slot counts what is durable
	mustClose(t, r)
	w := mustOpen[rec](t, path, RDWR)
	if h, err := npy.Parse(fileBytes(t, path)); err != nil || h.Shape[0] != 5 {
		t.Errorf("the header once a writer opened it: %v, %v; want it repaired to count 5", h, err)
	}
	appendN(t, w, 5, 6)
	mustClose(t, w)
	checkClosedFile(t, path, 6)
}

// long is a record whose header puts the count's digits across a sector
// boundary, so that a write torn between sectors mixes the old count's
// digits with the new.
type long struct {
	Axxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx   float64
	Field00, Field01, Field02, Field03, Field04 float64
	Field05, Field06, Field07, Field08, Field09 float64
	Field10, Field11, Field12, Field13, Field14 float64
	Field15, Field16, Field17, Field18, Field19 float64
}

func TestArrayTornHeader(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[long](t, path)
	for i := range 1000 {
		if err := a.Append(long{Field00: float64(i)}); err != nil {
			t.Fatal(err)
		}
		if i == 998 {
			if err := a.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	hdr := syncToTheHeader(t, a, 1000)
	// The header write reaches the disk's first sectors and not the last.
	if _, err := a.f.WriteAt(hdr[:512], 0); err != nil {
		t.Fatal(err)
	}
	crash(t, a)
	torn, err := npy.Parse(fileBytes(t, path))
	if err != nil || torn.Shape[0] == 999 || torn.Shape[0] == 1000 {
		t.Fatalf("the torn header counts %v (%v); the test needs one that lies", torn.Shape, err)
	}

	r := mustOpen[long](t, path, RDONLY)
	if r.Len() != 1000 || r.Items()[999].Field00 != 999 {
		t.Fatalf("reader after the torn write: Len %d; want 1000", r.Len())
	}
	mustClose(t, r)
	w := mustOpen[long](t, path, RDWR)
	if !strings.HasPrefix(string(fileBytes(t, path)), string(hdr)) {
		t.Error("the writer did not repair the torn header")
	}
	mustClose(t, w)
}

func TestArrayStaleSidecar(t *testing.T) {
	for _, c := range []struct {
		name    string
		replace func(t *testing.T, path string)
	}{
		{"the file was replaced by another", func(t *testing.T, path string) {
			other := path + ".new"
			writeArray(t, other, 2)
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"the file was rewritten in place", func(t *testing.T, path string) {
			b, hdr := headerOfTwo(t, path)
			if err := os.WriteFile(path, append(hdr, b[len(hdr):len(hdr)+2*24]...), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"the file was rewritten in place, with room for the old count", func(t *testing.T, path string) {
			_, hdr := headerOfTwo(t, path)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(hdr, 0); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := arrayPath(t)
			a := syncedArray(t, path, 7)
			crash(t, a) // leaves a sidecar that counts 7
			c.replace(t, path)
			r := mustOpen[rec](t, path, RDONLY)
			checkRecs(t, r, 2)
			// The stale sidecar's live word counts 7 of the old file's
			// records: it describes another header, so it counts nothing.
			if err := r.Refresh(); err != nil {
				t.Fatal(err)
			}
			checkRecs(t, r, 2)
			mustClose(t, r)
			w := mustOpen[rec](t, path, RDWR)
			checkRecs(t, w, 2)
			appendN(t, w, 2, 3)
			mustClose(t, w)
			checkClosedFile(t, path, 3)
		})
	}
}

// headerOfTwo returns the bytes of the array file at path, and its header
// rewritten to count 2 records.
func headerOfTwo(t *testing.T, path string) ([]byte, []byte) {
	t.Helper()
	b := fileBytes(t, path)
	h, err := npy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := h.Rewrite(b[:h.Len], 2)
	if err != nil {
		t.Fatal(err)
	}
	return b, hdr
}

func TestArrayDamagedSidecar(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(b []byte, ctl arrayfile.Control)
		want   int // the records Open finds
	}{
		{"the newest slot torn: the other holds", func(b []byte, ctl arrayfile.Control) { b[ctl.SlotOffset(1)+30] ^= 1 }, 3},
		{"both slots torn: the header holds", func(b []byte, ctl arrayfile.Control) {
			b[ctl.SlotOffset(0)+30] ^= 1
			b[ctl.SlotOffset(1)+30] ^= 1
		}, 3},
		{"the control page damaged: the header holds", func(b []byte, ctl arrayfile.Control) { b[3] ^= 1 }, 3},
		{"cut short: the header holds", nil, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := arrayPath(t)
			a := syncedArray(t, path, 3) // slot 1 counts 3, slot 0 counts 0
			ctl := a.side.ctl
			crash(t, a)
			sp := path + arrayfile.Suffix
			b := fileBytes(t, sp)
			if c.damage == nil {
				b = b[:100]
			} else {
				c.damage(b, ctl)
			}
			if err := os.WriteFile(sp, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r := mustOpen[rec](t, path, RDONLY)
			checkRecs(t, r, c.want)
			mustClose(t, r)
			w := mustOpen[rec](t, path, RDWR)
			appendN(t, w, c.want, c.want+1)
			mustClose(t, w)
			checkClosedFile(t, path, c.want+1)
		})
	}
}

func TestArrayDamagedFile(t *testing.T) {
	const good = "{'descr': " + recDescr + ", 'fortran_order': False, 'shape': (2,), }"
	for _, c := range []struct {
		name string
		file func(t *testing.T) []byte
		kind error
		want string
	}{
		{"a file of format 1", func(*testing.T) []byte { return []byte("\x89TMA\r\n\x1a\n" + strings.Repeat("\x00", 2000)) }, ErrFormat, "not a .npy file"},
		{"an unknown version", func(*testing.T) []byte { return npyFile("\x05\x00", good, 48) }, ErrFormat, "version 5.0"},
		{"a header numpy would not read", func(*testing.T) []byte {
			return npyFile("\x02\x00", "{'descr': '<f8', 'x': '"+strings.Repeat("y", 10_100)+"'}", 0)
		}, ErrFormat, "at most 10000"},
		{"a header that does not parse", func(*testing.T) []byte { return npyFile("\x01\x00", strings.Replace(good, "}", "", 1), 48) }, ErrFormat, "header text"},
		{"a shape that lies", func(*testing.T) []byte { return npyFile("\x01\x00", strings.Replace(good, "(2,)", "(3,)", 1), 48) }, ErrFormat, "counts 3 records of 24 bytes"},
		{"a shape far past the file", func(*testing.T) []byte {
			return npyFile("\x01\x00", strings.Replace(good, "(2,)", "(9223372036854775807,)", 1), 48)
		}, ErrFormat, "counts 9223372036854775807"},
		{"cut inside the header", func(*testing.T) []byte { return npyFile("\x01\x00", good, 48)[:100] }, ErrFormat, "ends inside"},
		{"empty", func(*testing.T) []byte { return nil }, ErrFormat, "not a .npy file"},
		{"a 0-d array", func(*testing.T) []byte { return npyFile("\x01\x00", strings.Replace(good, "(2,)", "()", 1), 24) }, ErrType, "0-dimensional"},
		{"Fortran order", func(*testing.T) []byte {
			return npyFile("\x01\x00", strings.Replace(strings.Replace(good, "False", "True", 1), "(2,)", "(2, 3)", 1), 6*24)
		}, ErrType, "column-major"},
		{"Python objects", func(*testing.T) []byte {
			return npyFile("\x01\x00", strings.Replace(good, "('Gen', '<u4')", "('Gen', '|O')", 1), 48)
		}, ErrType, "which no flat Go type holds: field Gen: '|O' is Python objects, which no flat Go type maps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := newFile(t, []byte(strings.ReplaceAll(string(c.file(t)), "<", string(npy.HostOrder))))
			for _, prot := range []int{RDONLY, RDWR} {
				_, err := Open[rec](path, prot)
				want := strings.ReplaceAll(c.want, "<", string(npy.HostOrder))
				if !errSays(err, c.kind, want) {
					t.Fatalf("Open(prot %d): got %v; want %v saying %q", prot, err, c.kind, want)
				}
				checkFileError(t, err, path)
			}
			if _, err := os.Stat(path + arrayfile.Suffix); err == nil {
				t.Error("a refused Open left a sidecar")
			}
		})
	}
}

// npyFile returns a .npy file of the given version bytes whose header holds
// dict, padded as numpy pads it, then data zero bytes.
func npyFile(version, dict string, data int) []byte {
	prefix := 10
	if version[0] > 1 {
		prefix = 12
	}
	n := len(dict) + 1
	n += 64 - (prefix+n)%64
	b := []byte(npy.Magic + version)
	if prefix == 10 {
		b = append(b, byte(n), byte(n>>8))
	} else {
		b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	b = append(b, dict...)
	for len(b) < prefix+n-1 {
		b = append(b, ' ')
	}
	b = append(b, '\n')
	return append(b, make([]byte, data)...)
}

// TestArrayCrashInTruncate cuts a Truncate after its slot and before its
// header: Open sees the Truncate done; numpy, reading the .npy alone, sees
// the records of before it, still there and whole. Both are states a cut in
// a Truncate may leave. (The power-cut test found numpy's view here.)
func TestArrayCrashInTruncate(t *testing.T) {
	path := arrayPath(t)
	a := syncedArray(t, path, 10)
	a.w.count = 4 // Truncate(4), up to its header write
	a.side.publish(4, false)
	syncToTheHeader(t, a, 4)
	crash(t, a)
	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, 4)
	mustClose(t, r)
	if runtime.GOOS == "linux" {
		python(t, numpyCheck+`
a = np.load(sys.argv[1])
check(a)
if len(a) != 10:
    sys.exit('numpy reads %d records; want the 10 of before the Truncate' % len(a))
`, path)
	}
	w := mustOpen[rec](t, path, RDWR)
	checkRecs(t, w, 4)
	appendN(t, w, 4, 6)
	mustClose(t, w)
	checkClosedFile(t, path, 6)
}
