package mmap

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rec is the record the Array tests store: its checksum field shows a torn
// or made-up record.
type rec struct {
	I   uint64
	Gen uint32
	_   [4]byte
	Sum uint64
}

func mkrec(i uint64, gen uint32) rec {
	return rec{I: i, Gen: gen, Sum: (i*0x9e3779b97f4a7c15 ^ uint64(gen)) + 0x632be59bd9b4e019}
}

func (r rec) valid() bool { return r == mkrec(r.I, r.Gen) }

// arrayPath returns a path for a new array file in a temporary directory.
func arrayPath(t testing.TB) string {
	return filepath.Join(tempDir(t), "recs.arr")
}

// mustCreate creates an Array and closes it when the test ends, unless the
// test closed it.
func mustCreate[T any](t testing.TB, path string, opts ...Option) *Array[T] {
	t.Helper()
	a, err := Create[T](path, opts...)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func mustOpen[T any](t testing.TB, path string, prot int) *Array[T] {
	t.Helper()
	a, err := Open[T](path, prot)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// checkRecs fails unless a holds records 0..n-1 of generation 0.
func checkRecs(t testing.TB, a *Array[rec], n int) {
	t.Helper()
	items := a.Items()
	if a.Len() != n || len(items) != n || cap(items) != n {
		t.Fatalf("Len %d, Items len %d cap %d; want %d", a.Len(), len(items), cap(items), n)
	}
	for i, r := range items {
		if r != mkrec(uint64(i), 0) {
			t.Fatalf("record %d is %+v; want %+v", i, r, mkrec(uint64(i), 0))
		}
	}
}

func TestArrayRoundTrip(t *testing.T) {
	const n = 1_000_000
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	for i := range uint64(n) {
		if err := a.Append(mkrec(i, 0)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if max := int64(descOffset+64) + 2*n*24; fi.Size() > max {
		t.Errorf("file of %d records is %d bytes; want at most %d (twice the records plus the header)", n, fi.Size(), max)
	}

	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, n)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	w := mustOpen[rec](t, path, RDWR)
	if err := w.Append(mkrec(n, 0), mkrec(n+1, 0)); err != nil {
		t.Fatal(err)
	}
	w.Items()[5] = mkrec(5, 0) // rewrite in place: a no-op change that Sync must flush
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkRecs(t, mustOpen[rec](t, path, RDONLY), n+2)
}

func TestArrayGrowAndTruncate(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path, WithCapacity(10))
	if err := a.Grow(100_000); err != nil {
		t.Fatal(err)
	}
	if got := len(a.items); got < 100_000 {
		t.Fatalf("capacity after Grow(100000): %d", got)
	}
	before := a.items
	for i := range uint64(100_000) {
		if err := a.Append(mkrec(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if &a.items[0] != &before[0] {
		t.Error("appending within the capacity Grow reserved moved the mapping")
	}
	if err := a.Truncate(10); err != nil {
		t.Fatal(err)
	}
	checkRecs(t, a, 10)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > descOffset+64+2*minCapacityBytes {
		t.Errorf("file after Truncate(10): %d bytes; want it shrunk", fi.Size())
	}
	if err := a.Append(mkrec(10, 0)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	checkRecs(t, mustOpen[rec](t, path, RDONLY), 11)
}

func TestArrayArgumentErrors(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	if err := a.Append(mkrec(0, 0), mkrec(1, 0)); err != nil {
		t.Fatal(err)
	}
	empty := mustCreate[rec](t, path+"0")
	for _, c := range []struct {
		name string
		err  error
		kind error
	}{
		{"Truncate past the end", a.Truncate(3), ErrRange},
		{"negative Truncate", a.Truncate(-1), ErrRange},
		{"negative Grow", a.Grow(-1), ErrInvalid},
		{"Grow past an int", a.Grow(maxInt), ErrRange},
		{"Grow of an empty array past an int", empty.Grow(maxInt), ErrRange},
		{"Create of a type that is not flat", errOf(Create[string](path + "2")), ErrType},
		{"Create with a negative capacity", errOf(Create[rec](path+"3", WithCapacity(-1))), ErrInvalid},
		{"Open with COPY", errOf(Open[rec](path, COPY)), ErrInvalid},
		{"Open of a missing file", errOf(Open[rec](path+"4", RDONLY)), fs.ErrNotExist},
	} {
		if !errors.Is(c.err, c.kind) {
			t.Errorf("%s: got %v; want %v", c.name, c.err, c.kind)
		}
	}
	checkRecs(t, a, 2)
	checkRecs(t, empty, 0)
}

func TestArrayRefusesLongLayoutDescriptions(t *testing.T) {
	if err := errOf(newHeader(&layout{name: "long", desc: strings.Repeat("x", maxDescLen+1), size: 8})); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "to describe") {
		t.Errorf("a layout description over the limit: got %v; want ErrType", err)
	}
	if err := errOf(newHeader(&layout{name: "ok", desc: "u64", size: 8})); err != nil {
		t.Errorf("an ordinary layout: %v", err)
	}
}

func TestArrayRefusesHugeRecords(t *testing.T) {
	if strconv.IntSize == 32 {
		t.Skip("no type reaches 4 GiB on a 32-bit target")
	}
	huge := uint64(1) << 32
	if err := errOf(newHeader(&layout{name: "huge", desc: "[4294967296]u8", size: int(huge)})); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "less than 4 GiB") {
		t.Errorf("records of 4 GiB: got %v; want ErrType", err)
	}
}

// TestArrayRefusesWhenItCannot checks arrays that cannot change: opened
// read-only, closed, or left without a mapping (as a resize leaves one when
// the file cannot be mapped again). Every method must refuse, not crash.
func TestArrayRefusesWhenItCannot(t *testing.T) {
	for _, c := range []struct {
		name  string
		make  func(t *testing.T) *Array[rec]
		kind  error  // from Append, Grow and Truncate
		want  string // what their message says
		sync  error  // from Sync
		after func(t *testing.T, a *Array[rec])
	}{
		{"read-only", func(t *testing.T) *Array[rec] {
			path := arrayPath(t)
			a := mustCreate[rec](t, path)
			a.Append(mkrec(0, 0))
			a.Close()
			return mustOpen[rec](t, path, RDONLY)
		}, ErrInvalid, "opened read-only", nil, func(t *testing.T, a *Array[rec]) {
			checkRecs(t, a, 1)
		}},
		{"closed", func(t *testing.T) *Array[rec] {
			a := mustCreate[rec](t, arrayPath(t))
			a.Append(mkrec(0, 0))
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			return a
		}, fs.ErrClosed, "file already closed", fs.ErrClosed, func(t *testing.T, a *Array[rec]) {
			if err := a.Close(); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("second Close: got %v; want fs.ErrClosed", err)
			}
			if a.Len() != 0 || a.Items() != nil {
				t.Errorf("after Close: Len %d, Items %v; want 0, nil", a.Len(), a.Items())
			}
		}},
		{"mapping lost", func(t *testing.T) *Array[rec] {
			a := mustCreate[rec](t, arrayPath(t))
			a.Append(mkrec(0, 0))
			if err := a.m.Unmap(); err != nil {
				t.Fatal(err)
			}
			a.setMapping(nil)
			return a
		}, ErrInvalid, "could not be mapped again", ErrInvalid, func(t *testing.T, a *Array[rec]) {
			if err := a.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := c.make(t)
			for name, err := range map[string]error{
				"Append":   a.Append(mkrec(1, 0)),
				"Grow":     a.Grow(1),
				"Truncate": a.Truncate(0),
			} {
				if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: got %v; want %v saying %q", name, err, c.kind, c.want)
				}
			}
			if err := a.Sync(); !errors.Is(err, c.sync) {
				t.Errorf("Sync: got %v; want %v", err, c.sync)
			}
			c.after(t, a)
		})
	}
}

func TestArrayWrongType(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	a.Append(mkrec(0, 0))
	a.Close()

	type renamed rec
	if r, err := Open[renamed](path, RDONLY); err != nil {
		t.Errorf("Open as a renamed type with the same layout: %v", err)
	} else {
		r.Close()
	}
	type sameSize struct {
		I   uint64
		Gen float32 // not uint32
		_   [4]byte
		Sum uint64
	}
	type otherSize struct{ I, Gen uint64 }
	for _, c := range []struct {
		name string
		open func() error
		want string
	}{
		{"same size, another layout", func() error { _, err := Open[sameSize](path, RDONLY); return err }, "holds 24-byte records laid out as {0:u64,8:u32,12:_4,16:u64}; mmap.sameSize is 24 bytes laid out as {0:u64,8:f32,12:_4,16:u64}"},
		{"another size", func() error { _, err := Open[otherSize](path, RDWR); return err }, "mmap.otherSize is 16 bytes"},
	} {
		err := c.open()
		if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want ErrType saying %q", c.name, err, c.want)
		}
		checkFileError(t, err, path)
	}
	checkRecs(t, mustOpen[rec](t, path, RDONLY), 1)
}

// rewriteHeader changes the newest header slot of the file at path with
// edit, keeping its checksum valid.
func rewriteHeader(t *testing.T, path string, edit func(h *header)) {
	t.Helper()
	b := fileBytes(t, path)
	h, slot, err := readHeader(b[:descOffset])
	if err != nil {
		t.Fatal(err)
	}
	edit(&h)
	h.marshal(b[slotOffset(slot):])
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArrayOtherByteOrder(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	a.Append(mkrec(0, 0))
	a.Close()
	other := uint8(littleEndian + bigEndian - hostOrder)
	rewriteHeader(t, path, func(h *header) { h.order = other })
	_, err := Open[rec](path, RDONLY)
	want := orderName(other) + " records; this host is " + orderName(hostOrder)
	if !errors.Is(err, ErrByteOrder) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want ErrByteOrder saying %q", err, want)
	}
	checkFileError(t, err, path)
}

// checkFileError fails the test unless err's message starts with "mmap: ",
// says it once, and names the file at path.
func checkFileError(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one about %s", path)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "mmap: ") || strings.Count(msg, "mmap:") != 1 || !strings.Contains(msg, path) {
		t.Errorf("message %q: want %q once, at the start, and the file's name", msg, "mmap:")
	}
}

func TestArrayOpenErrorsNameTheFile(t *testing.T) {
	dir := tempDir(t)
	missing := filepath.Join(dir, "missing.arr")
	_, err := Open[rec](missing, RDONLY)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: got %v; want fs.ErrNotExist", err)
	}
	checkFileError(t, err, missing)
	_, err = Open[rec](dir, RDWR)
	checkFileError(t, err, dir)
	_, err = Open[rec](missing, COPY)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("prot COPY: got %v; want ErrInvalid", err)
	}
	checkFileError(t, err, missing)

	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	_, err = Open[rec](path, RDWR)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("a second writer: got %v; want ErrLocked", err)
	}
	checkFileError(t, err, path)
	w.Close()
	_, err = Create[rec](filepath.Join(dir, "no", "such", "dir.arr"))
	checkFileError(t, err, filepath.Join(dir, "no", "such", "dir.arr"))
}

// TestArrayLittleEndianFixture opens a file written on a little-endian host
// (testdata/little-endian.arr: 5 records of rec, i = 0..4): big-endian hosts
// must refuse it.
func TestArrayLittleEndianFixture(t *testing.T) {
	src := fileBytes(t, filepath.Join("testdata", "little-endian.arr"))
	path := newFile(t, src)
	a, err := Open[rec](path, RDONLY)
	if hostOrder == bigEndian {
		if !errors.Is(err, ErrByteOrder) {
			t.Fatalf("big-endian host: got %v; want ErrByteOrder", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	checkRecs(t, a, 5)
}

func TestArrayDamagedHeader(t *testing.T) {
	for _, c := range []struct {
		name    string
		damage  func(t *testing.T, path string)
		wantLen int   // records Open must find, when it succeeds
		kind    error // the error Open must return, when it fails
		want    string
	}{
		{"newest slot torn", func(t *testing.T, path string) { flipNewestSlot(t, path, 40) }, 2, nil, ""},
		{"newest slot with a bad magic", func(t *testing.T, path string) { flipNewestSlot(t, path, 0) }, 2, nil, ""},
		{"both slots torn", func(t *testing.T, path string) {
			b := fileBytes(t, path)
			b[20] ^= 1
			b[slot1Offset+20] ^= 1
			os.WriteFile(path, b, 0o644)
		}, 0, ErrFormat, "both header slots are damaged"},
		{"newer format version", func(t *testing.T, path string) {
			b := fileBytes(t, path)
			for _, at := range []int{0, slot1Offset} {
				b[at+8] = 9
				h := b[at : at+slotSize]
				putCRC(h)
			}
			os.WriteFile(path, b, 0o644)
		}, 0, ErrFormat, "format version 9"},
		{"count beyond the file", func(t *testing.T, path string) {
			rewriteHeader(t, path, func(h *header) { h.count, h.capacity = 1<<40, 1<<40 })
		}, 0, ErrFormat, "counts 1099511627776 records"},
		{"count beyond the capacity", func(t *testing.T, path string) {
			rewriteHeader(t, path, func(h *header) { h.capacity = 1 })
		}, 0, ErrFormat, "(capacity 1)"},
		{"data offset moved", func(t *testing.T, path string) {
			rewriteHeader(t, path, func(h *header) { h.dataOffset += 64 })
		}, 0, ErrFormat, "from offset"},
		{"layout description damaged", func(t *testing.T, path string) {
			b := fileBytes(t, path)
			b[descOffset+1] ^= 0xff
			os.WriteFile(path, b, 0o644)
		}, 0, ErrFormat, "description checksum"},
		{"layout description longer than the file", func(t *testing.T, path string) {
			rewriteHeader(t, path, func(h *header) { h.descLen = 1 << 30 })
		}, 0, ErrFormat, "does not fit"},
		{"file cut short", func(t *testing.T, path string) {
			if err := os.Truncate(path, descOffset+64+24); err != nil {
				t.Fatal(err)
			}
		}, 0, ErrFormat, "counts 3 records"},
		{"file shorter than a header", func(t *testing.T, path string) {
			if err := os.Truncate(path, 700); err != nil {
				t.Fatal(err)
			}
		}, 0, ErrFormat, "too short"},
		{"empty file", func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}, 0, ErrFormat, "0 bytes is too short"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := arrayPath(t)
			a := mustCreate[rec](t, path)
			a.Append(mkrec(0, 0), mkrec(1, 0))
			a.Sync()
			a.Append(mkrec(2, 0))
			a.Close()
			c.damage(t, path)
			r, err := Open[rec](path, RDWR)
			if c.kind != nil {
				if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v; want %v saying %q", err, c.kind, c.want)
				}
				checkFileError(t, err, path)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkRecs(t, r, c.wantLen)
		})
	}
}

// flipNewestSlot flips a byte at off in the newest header slot, as a torn
// write would leave it.
func flipNewestSlot(t *testing.T, path string, off int) {
	t.Helper()
	b := fileBytes(t, path)
	_, slot, err := readHeader(b[:descOffset])
	if err != nil {
		t.Fatal(err)
	}
	b[slotOffset(slot)+off] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// putCRC recomputes the checksum of a header slot.
func putCRC(slot []byte) {
	binary.LittleEndian.PutUint32(slot[slotSize-4:], crc32.Checksum(slot[:slotSize-4], crcTable))
}

func TestArrayLockInProcess(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	for _, prot := range []int{RDWR, RDONLY} {
		if _, err := Open[rec](path, prot); !errors.Is(err, ErrLocked) {
			t.Errorf("Open(prot %d) while a writer has the file: got %v; want ErrLocked", prot, err)
		}
	}
	if _, err := Create[rec](path); !errors.Is(err, ErrLocked) {
		t.Errorf("Create while a writer has the file: got %v; want ErrLocked", err)
	}
	w.Append(mkrec(0, 0))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r1 := mustOpen[rec](t, path, RDONLY)
	r2 := mustOpen[rec](t, path, RDONLY)
	if _, err := Open[rec](path, RDWR); !errors.Is(err, ErrLocked) {
		t.Errorf("Open(RDWR) while readers have the file: got %v; want ErrLocked", err)
	}
	checkRecs(t, r1, 1)
	checkRecs(t, r2, 1)
}
