package mmap

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// rec is the record the Array tests store: its checksum field shows a torn
// or made-up record.
type rec struct {
	I   uint64
	Gen uint32
	_   [4]byte
	Sum uint64
}

// recDescr is rec as numpy names it.
const recDescr = "[('I', '<u8'), ('Gen', '<u4'), ('', '|V4'), ('Sum', '<u8')]"

func mkrec(i uint64, gen uint32) rec {
	return rec{I: i, Gen: gen, Sum: (i*0x9e3779b97f4a7c15 ^ uint64(gen)) + 0x632be59bd9b4e019}
}

func (r rec) valid() bool { return r == mkrec(r.I, r.Gen) }

// arrayPath returns a path for a new array file in a temporary directory.
func arrayPath(t testing.TB) string {
	return filepath.Join(tempDir(t), "recs.npy")
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

func mustOpen[T any](t testing.TB, path string, prot int, opts ...Option) *Array[T] {
	t.Helper()
	a, err := Open[T](path, prot, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// mustClose closes a and fails the test if that fails.
func mustClose[T any](t testing.TB, a *Array[T]) {
	t.Helper()
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// appendN appends records from..to-1 of generation 0.
func appendN(t testing.TB, a *Array[rec], from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := a.Append(mkrec(uint64(i), 0)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

// writeArray creates an array of records 0..n-1 at path and closes it.
func writeArray(t testing.TB, path string, n int) {
	t.Helper()
	a := mustCreate[rec](t, path)
	appendN(t, a, 0, n)
	mustClose(t, a)
}

// syncedArray creates an array of records 0..n-1 at path, syncs it, and
// returns its writer.
func syncedArray(t testing.TB, path string, n int) *Array[rec] {
	t.Helper()
	a := mustCreate[rec](t, path)
	appendN(t, a, 0, n)
	if err := a.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
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

// checkClosedFile checks what a closed array leaves: a .npy of exactly its
// header and n records, whose header passes the strictest readers' rule,
// and no sidecar.
func checkClosedFile(t testing.TB, path string, n int) {
	t.Helper()
	b := fileBytes(t, path)
	h := checkStrictHeader(t, b)
	if h.Shape[0] != int64(n) || len(b) != h.Len+n*24 {
		t.Errorf("closed file: shape %v, %d bytes; want (%d,) and %d bytes", h.Shape, len(b), n, h.Len+n*24)
	}
	if _, err := os.Stat(path + arrayfile.Suffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("closed file: the sidecar is still there (%v)", err)
	}
}

// checkStrictHeader checks the header at the start of b against the rule of
// the strictest .npy readers (NPY-READERS.md): numpy's dict, key order and
// spacing exactly; nothing but spaces between the dict's closing brace and
// one final newline; the data at a multiple of 64.
func checkStrictHeader(t testing.TB, b []byte) *npy.Header {
	t.Helper()
	h, err := npy.Parse(b)
	if err != nil {
		t.Fatalf("header does not parse: %v", err)
	}
	prefix := 10
	if h.Major > 1 {
		prefix = 12
	}
	text := string(b[prefix:h.Len])
	want := "{'descr': " + h.DType.String() + ", 'fortran_order': False, 'shape': " + tupleText(h.Shape) + ", }"
	rest, ok := strings.CutPrefix(text, want)
	if !ok || strings.Trim(rest[:len(rest)-1], " ") != "" || rest[len(rest)-1] != '\n' || h.Len%64 != 0 || h.Major == 2 {
		t.Fatalf("header %q is not numpy's %q, then spaces and a newline, at a multiple of 64", text, want)
	}
	return h
}

// tupleText is Python's repr of a shape.
func tupleText(shape []int64) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.FormatInt(d, 10)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func TestArrayRoundTrip(t *testing.T) {
	const n = 1_000_000
	path := arrayPath(t)
	writeArray(t, path, n)
	checkClosedFile(t, path, n)

	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, n)
	mustClose(t, r)

	w := mustOpen[rec](t, path, RDWR)
	if err := w.Append(mkrec(n, 0), mkrec(n+1, 0)); err != nil {
		t.Fatal(err)
	}
	w.Items()[5] = mkrec(5, 0) // rewrite in place: a no-op change that Sync must flush
	mustClose(t, w)
	checkClosedFile(t, path, n+2)
	checkRecs(t, mustOpen[rec](t, path, RDONLY), n+2)
}

func TestArrayHeaderIsWhatNumpyWrites(t *testing.T) {
	path := arrayPath(t)
	a := syncedArray(t, path, 3)
	want := "\x93NUMPY\x01\x00\xb6\x00{'descr': " + recDescr + ", 'fortran_order': False, 'shape': (3,), }"
	if npy.HostOrder == '>' {
		want = strings.ReplaceAll(want, "<", ">")
	}
	b := fileBytes(t, path)
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("header %q; want it to start %q", b[:len(want)], want)
	}
	checkStrictHeader(t, b)
	if a.Offset() != 192 {
		t.Errorf("Offset %d; want 192", a.Offset())
	}
}

func TestArrayItemsStayValid(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	appendN(t, a, 0, 10)
	first := a.Items()
	appendN(t, a, 10, 1_000_000) // the file grows many times
	if first[0] != mkrec(0, 0) || first[9] != mkrec(9, 0) {
		t.Fatalf("a slice from before the appends reads %+v, %+v", first[0], first[9])
	}
	first[3] = mkrec(3, 7)
	if got := a.Items()[3]; got != mkrec(3, 7) {
		t.Fatalf("a write through the old slice shows %+v in a new one", got)
	}
	first[3] = mkrec(3, 0)
	mid := a.Items()
	if err := a.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if mid[999_999] != mkrec(999_999, 0) {
		t.Errorf("after Truncate, a slice from before reads %+v", mid[999_999])
	}
	checkRecs(t, a, 5)
	appendN(t, a, 5, 20)
	if mid[10] != mkrec(10, 0) {
		t.Errorf("records appended after Truncate read %+v through an old slice", mid[10])
	}
	mustClose(t, a)
	checkClosedFile(t, path, 20)
}

func TestArrayGrow(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path, WithCapacity(10))
	if err := a.Grow(100_000); err != nil {
		t.Fatal(err)
	}
	if a.capacity < 100_000 {
		t.Fatalf("capacity after Grow(100000): %d", a.capacity)
	}
	views := len(a.views)
	appendN(t, a, 0, 100_000)
	if len(a.views) != views {
		t.Error("appending within the capacity Grow made room for mapped the file again")
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() < a.Offset()+100_000*24 {
		t.Errorf("file size %v (%v); want room for the records", fi.Size(), err)
	}
	mustClose(t, a)
	checkRecs(t, mustOpen[rec](t, path, RDONLY), 100_000)
}

func TestArrayArgumentErrors(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	appendN(t, a, 0, 2)
	empty := mustCreate[rec](t, path+"0")
	type twoX struct {
		A float64 `npy:"x"`
		B float64 `npy:"x"`
	}
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
		{"Open as a type that is not flat", errOf(Open[string](path, RDONLY)), ErrType},
		{"Create of a type whose numpy names clash", errOf(Create[twoX](path + "2")), ErrType},
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

// TestArrayRefusesWhenItCannot checks arrays that cannot change: opened
// read-only, or closed. Every method must refuse, not crash.
func TestArrayRefusesWhenItCannot(t *testing.T) {
	for _, c := range []struct {
		name  string
		make  func(t *testing.T) *Array[rec]
		kind  error  // from Append, Grow and Truncate
		want  string // what their message says
		sync  error  // from Sync and Refresh
		after func(t *testing.T, a *Array[rec])
	}{
		{"read-only", func(t *testing.T) *Array[rec] {
			path := arrayPath(t)
			writeArray(t, path, 1)
			return mustOpen[rec](t, path, RDONLY)
		}, ErrInvalid, "opened read-only", nil, func(t *testing.T, a *Array[rec]) {
			checkRecs(t, a, 1)
		}},
		{"closed", func(t *testing.T) *Array[rec] {
			a := mustCreate[rec](t, arrayPath(t))
			appendN(t, a, 0, 1)
			mustClose(t, a)
			return a
		}, fs.ErrClosed, "file already closed", fs.ErrClosed, func(t *testing.T, a *Array[rec]) {
			if err := a.Close(); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("second Close: got %v; want fs.ErrClosed", err)
			}
			if a.Len() != 0 || a.Items() != nil {
				t.Errorf("after Close: Len %d, Items %v; want 0, nil", a.Len(), a.Items())
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
				if !errSays(err, c.kind, c.want) {
					t.Errorf("%s: got %v; want %v saying %q", name, err, c.kind, c.want)
				}
			}
			if err := a.Sync(); !errors.Is(err, c.sync) {
				t.Errorf("Sync: got %v; want %v", err, c.sync)
			}
			if err := a.Refresh(); !errors.Is(err, c.sync) {
				t.Errorf("Refresh: got %v; want %v", err, c.sync)
			}
			c.after(t, a)
		})
	}
}

func TestArrayWrongType(t *testing.T) {
	path := arrayPath(t)
	writeArray(t, path, 1)

	// A renamed type with the same fields, and one whose tags give the same
	// names, open.
	type renamed rec
	mustClose(t, mustOpen[renamed](t, path, RDONLY))
	type tagged struct {
		Index uint64 `npy:"I"`
		Gen   uint32
		_     uint32
		Sum   uint64
	}
	mustClose(t, mustOpen[tagged](t, path, RDONLY))
	type sameSize struct {
		I   uint64
		Gen float32 // not uint32
		_   [4]byte
		Sum uint64
	}
	type otherNames struct {
		I, G, S uint64
	}
	type otherSize struct{ I, Gen uint64 }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"same size, another type", errOf(Open[sameSize](path, RDONLY)), "Gen: the file has '<u4', the Go type '<f4'"},
		{"other names", errOf(Open[otherNames](path, RDONLY)), "the file has 4 fields, the Go type 3"},
		{"another size", errOf(Open[otherSize](path, RDWR)), "the file has 4 fields, the Go type 2"},
		{"rows of an array", errOf(Open[[3]uint64](path, RDONLY)), "not [3]uint64 ('<u8' in rows of [3]): the record: the file has a struct, the Go type a number"},
	} {
		if !errSays(c.err, ErrType, strings.ReplaceAll(c.want, "<", string(npy.HostOrder))) {
			t.Errorf("%s: got %v; want ErrType saying %q", c.name, c.err, c.want)
		}
		checkFileError(t, c.err, path)
	}
	checkRecs(t, mustOpen[rec](t, path, RDONLY), 1)
}

func TestArrayOfArrays(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[[4][3]float32](t, path)
	for i := range 5 {
		var v [4][3]float32
		v[3][2] = float32(i)
		if err := a.Append(v); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, a)
	h := checkStrictHeader(t, fileBytes(t, path))
	if want := []int64{5, 4, 3}; !slices.Equal(h.Shape, want) || h.DType.String() != "'"+string(npy.HostOrder)+"f4'" {
		t.Errorf("header: descr %s, shape %v; want '<f4' and %v", h.DType, h.Shape, want)
	}
	r := mustOpen[[4][3]float32](t, path, RDONLY)
	if r.Len() != 5 || r.Items()[4][3][2] != 4 {
		t.Errorf("reopened: Len %d, last %v", r.Len(), r.Items()[r.Len()-1])
	}
	for _, err := range []error{errOf(Open[[3][4]float32](path, RDONLY)), errOf(Open[[12]float32](path, RDONLY)), errOf(Open[float32](path, RDONLY))} {
		if !errSays(err, ErrType, "shape") {
			t.Errorf("another shape of rows: got %v; want ErrType about the shape", err)
		}
	}
}

func TestDescr(t *testing.T) {
	type point struct {
		X, Y float32
	}
	type tagged struct {
		When  int64 `npy:"time"`
		Pos   [2]point
		Flags uint8
		_     [7]byte
	}
	type asked struct {
		When int64   `npy:"when,M8[ns]"`
		Took int64   `npy:",m8[us]"`
		Name [4]rune `npy:"name,U"`
		Code [3]byte `npy:",S"`
		OK   uint8   `npy:",?"`
		_    [4]byte
	}
	o := string(npy.HostOrder)
	for _, c := range []struct {
		got  func() (string, error)
		want string
	}{
		{Descr[float64], "'" + o + "f8'"},
		{Descr[int8], "'|i1'"},
		{Descr[complex64], "'" + o + "c8'"},
		{Descr[[768]float32], "'" + o + "f4'"},
		{Descr[rec], strings.ReplaceAll(recDescr, "<", o)},
		{Descr[tagged], "[('time', '" + o + "i8'), ('Pos', [('X', '" + o + "f4'), ('Y', '" + o + "f4')], (2,)), ('Flags', '|u1'), ('', '|V7')]"},
		{Descr[asked], "[('when', '" + o + "M8[ns]'), ('Took', '" + o + "m8[us]'), ('name', '" + o + "U4'), ('Code', '|S3'), ('OK', '|b1'), ('', '|V4')]"},
	} {
		if got, err := c.got(); got != c.want || err != nil {
			t.Errorf("got %s, %v; want %s", got, err, c.want)
		}
	}
	if _, err := Descr[int](); !errors.Is(err, ErrType) {
		t.Errorf("Descr[int]: got %v; want ErrType", err)
	}
}

// rewriteHeaderText replaces text in the header of the file at path with
// text of the same length, in place, as another program would: the file
// may be open and mapped meanwhile.
func rewriteHeaderText(t *testing.T, path, old, new string) {
	t.Helper()
	b := fileBytes(t, path)
	h, err := npy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b[:h.Len]), old, new, 1)
	if len(text) != h.Len || text == string(b[:h.Len]) {
		t.Fatalf("rewriteHeaderText: %q is not in the header, or %q is not as long", old, new)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt([]byte(text), 0)
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
}

func TestArrayOtherByteOrder(t *testing.T) {
	path := arrayPath(t)
	writeArray(t, path, 1)
	other := byte('<' + '>' - npy.HostOrder)
	rewriteHeaderText(t, path, "'"+string(npy.HostOrder)+"u8'", "'"+string(other)+"u8'")
	_, err := Open[rec](path, RDONLY)
	want := "'" + string(other) + "u8', the Go type '" + string(npy.HostOrder) + "u8'; the file is not in this host's byte order"
	if !errSays(err, ErrByteOrder, want) {
		t.Errorf("got %v; want ErrByteOrder saying %q", err, want)
	}
	checkFileError(t, err, path)
}

// TestArrayLittleEndianFixture opens a file that numpy wrote on a
// little-endian host (testdata/little-endian.npy: 5 records of rec, I = 0..4):
// big-endian hosts must refuse it.
func TestArrayLittleEndianFixture(t *testing.T) {
	path := newFile(t, fileBytes(t, filepath.Join("testdata", "little-endian.npy")))
	a, err := Open[rec](path, RDONLY)
	if npy.HostOrder == '>' {
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
	missing := filepath.Join(dir, "missing.npy")
	_, err := Open[rec](missing, RDONLY)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: got %v; want fs.ErrNotExist", err)
	}
	checkFileError(t, err, missing)
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
	mustClose(t, w)
	noDir := filepath.Join(dir, "no", "such", "dir.npy")
	_, err = Create[rec](noDir)
	checkFileError(t, err, noDir)
}

// TestArrayAddressSpace bounds the address space an array's mappings take
// as it grows: every mapping it outgrows stays until Close, so the total
// must stay within about twice the file, plus the newest mapping's room.
func TestArrayAddressSpace(t *testing.T) {
	defer func(old int64) { minReserve = old }(minReserve)
	minReserve = 0 // a new mapping at every other doubling, not one for all
	a := mustCreate[rec](t, arrayPath(t))
	appendN(t, a, 0, 1_000_000)
	var total int
	for _, v := range a.views {
		total += len(v)
	}
	newest := len(a.views[len(a.views)-1])
	if limit := newest + 2*int(a.size); total > limit {
		t.Errorf("%d mappings take %d bytes for a file of %d; want at most %d", len(a.views), total, a.size, limit)
	}
	t.Logf("%d mappings, %d bytes of address space, for a file of %d bytes", len(a.views), total, a.size)
}

// TestArrayWithPerm creates an array WithPerm: the file and its sidecar get
// those permission bits, and a later writer's sidecar gets the file's.
func TestArrayWithPerm(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix permission bits")
	}
	checkPerm := func(path string) {
		t.Helper()
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v (%v); want permissions 0600", path, fi.Mode(), err)
		}
	}
	path := arrayPath(t)
	a := mustCreate[rec](t, path, WithPerm(0o600))
	checkPerm(path)
	checkPerm(path + arrayfile.Suffix)
	mustClose(t, a)
	w := mustOpen[rec](t, path, RDWR)
	checkPerm(path + arrayfile.Suffix)
	mustClose(t, w)
	checkPerm(path)
}

// TestArrayHeaderWithoutRoom appends to a file whose header has room for
// one digit more than it counts, as numpy before 1.24 wrote them: past 99
// records, Append and Grow must refuse and say why, and the 99 stay.
func TestArrayHeaderWithoutRoom(t *testing.T) {
	dict := "{'descr': " + strings.ReplaceAll(recDescr, "<", string(npy.HostOrder)) + ", 'fortran_order': False, 'shape': (2,), }"
	for (10+len(dict)+1)%64 != 63 { // so that npyFile pads the header with one space
		dict = strings.Replace(dict, "}", " }", 1)
	}
	path := newFile(t, append(npyFile("\x01\x00", dict, 0), Slice[rec]{mkrec(0, 0), mkrec(1, 0)}.Bytes()...))
	w := mustOpen[rec](t, path, RDWR)
	appendN(t, w, 2, 99)
	const want = "the header has room to count 99 records, not 100"
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Grow", func() error { return w.Grow(1) }},
		{"Append", func() error { return w.Append(mkrec(99, 0)) }},
	} {
		err := c.call()
		if !errSays(err, ErrRange, want) {
			t.Errorf("%s past the header's room: got %v; want ErrRange saying %q", c.name, err, want)
			continue
		}
		checkFileError(t, err, path)
	}
	checkRecs(t, w, 99)
	mustClose(t, w)
	checkRecs(t, mustOpen[rec](t, path, RDONLY), 99)
}
