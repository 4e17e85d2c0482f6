package mmap

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// testFileSize spans several 64 KiB allocation granules and ends mid-page, so
// that offsets exercise both the page size and the Windows granularity.
const testFileSize = 3<<16 + 1234

func TestConstantsMatchMmapGo(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"RDONLY", RDONLY, 0},
		{"RDWR", RDWR, 2},
		{"COPY", COPY, 4},
		{"EXEC", EXEC, 8},
		{"ANON", ANON, 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d; want %d", c.name, c.got, c.want)
		}
	}
}

func TestMapWholeFile(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDONLY), -1, RDONLY, 0, 0)
	checkBytes(t, "mapping", m, data)
	if cap(m) != len(m) {
		t.Errorf("cap: got %d; want %d (the length)", cap(m), len(m))
	}
}

func TestMapRegionOffsets(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	f := openFile(t, path, os.O_RDONLY)
	page, gran := int64(os.Getpagesize()), int64(granularity())
	for _, c := range []struct {
		offset int64
		length int
	}{
		{0, 100},
		{1, 100},
		{page - 1, 2},
		{page, int(page)},
		{page + 1, -1},
		{gran - 1, 10},
		{gran + page, 1000},
		{2*gran + 7, -1},
		{testFileSize - 1, 1},
		{testFileSize - 1, -1},
		{12345, 0},
	} {
		t.Run("offset "+strconv.FormatInt(c.offset, 10)+" length "+strconv.Itoa(c.length), func(t *testing.T) {
			m := mustMap(t, f, c.length, RDONLY, 0, c.offset)
			want := data[c.offset:]
			if c.length >= 0 {
				want = want[:c.length]
			}
			checkBytes(t, "mapping", m, want)
			if m == nil {
				t.Error("got a nil MMap; want a non-nil one")
			}
		})
	}
}

func TestMapEmpty(t *testing.T) {
	emptyPath := newFile(t, nil)
	path := newFile(t, pattern(100))
	for _, c := range []struct {
		name   string
		path   string
		length int
		offset int64
	}{
		{"empty file, whole", emptyPath, -1, 0},
		{"empty file, length 0", emptyPath, 0, 0},
		{"length 0 in a file", path, 0, 50},
		{"offset at the end, to the end", path, -1, 100},
		{"length 0 at the end", path, 0, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := liveMappings()
			m, err := MapRegion(openFile(t, c.path, os.O_RDWR), c.length, RDWR, 0, c.offset)
			if err != nil {
				t.Fatalf("MapRegion: %v", err)
			}
			if m == nil || len(m) != 0 {
				t.Fatalf("got %v (nil: %t); want an empty non-nil MMap", m, m == nil)
			}
			if liveMappings() != before {
				t.Errorf("registry grew from %d to %d for an empty region", before, liveMappings())
			}
			for name, op := range map[string]func() error{"Flush": m.Flush, "Lock": m.Lock, "Unlock": m.Unlock, "Advise": func() error { return m.Advise(WillNeed) }} {
				if err := op(); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			if err := m.Unmap(); err != nil || m != nil {
				t.Errorf("Unmap: got %v and m=%v; want nil and nil", err, m)
			}
		})
	}
}

func TestMapRegionOutOfRange(t *testing.T) {
	const size = 10000
	path := newFile(t, pattern(size))
	f := openFile(t, path, os.O_RDWR)
	for _, c := range []struct {
		name   string
		offset int64
		length int
	}{
		{"negative offset", -1, 10},
		{"negative offset, to the end", -4096, -1},
		{"offset past the end", size + 1, 0},
		{"offset far past the end", 1 << 40, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := liveMappings()
			m, err := MapRegion(f, c.length, RDWR, 0, c.offset)
			if !errors.Is(err, ErrRange) {
				t.Fatalf("got %v, %v; want an error wrapping ErrRange", len(m), err)
			}
			var re *RangeError
			if !errors.As(err, &re) || re.Offset != c.offset || re.Size != size {
				t.Fatalf("got %#v; want a *RangeError with offset %d and size %d", err, c.offset, size)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "mmap: ") || !strings.Contains(msg, strconv.FormatInt(c.offset, 10)) || !strings.Contains(msg, "10000") {
				t.Errorf("message %q does not name the offset and the size", msg)
			}
			if m != nil || liveMappings() != before {
				t.Errorf("something was mapped: %d bytes, %d live mappings (was %d)", len(m), liveMappings(), before)
			}
			if fi, err := f.Stat(); err != nil || fi.Size() != size {
				t.Errorf("file size after the call: %v, %v; want %d", fi.Size(), err, size)
			}
		})
	}
}

// TestMapRegionPastTheEnd maps regions that start within the file and run
// past its end: on Unix the classic MapRegion maps them, as mmap-go does,
// with the file's bytes, then zeros to the end of its last page, and a
// fault (an error from ReadAt) past that; on Windows it refuses them. The
// typed views refuse them everywhere.
func TestMapRegionPastTheEnd(t *testing.T) {
	const size = 10000
	data := pattern(size)
	path := newFile(t, data)
	f := openFile(t, path, os.O_RDWR)
	page := int64(os.Getpagesize())
	for _, c := range []struct {
		name   string
		offset int64
		length int
	}{
		{"length past the end", 0, size + 1},
		{"length past the end at an offset", 9000, 1001},
		{"aligned offset, length past the end", 4096, size},
		{"a window far past the end", 8192, 1 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := MapSliceRegion[byte](f, c.length, RDWR, 0, c.offset); !errors.Is(err, ErrRange) {
				t.Errorf("MapSliceRegion: got %v; want ErrRange", err)
			}
			m, err := MapRegion(f, c.length, RDWR, 0, c.offset)
			if !reserveBeyondEOF {
				if !errors.Is(err, ErrRange) {
					t.Fatalf("got %d bytes, %v; want ErrRange, as Windows cannot map past the end without growing the file", len(m), err)
				}
				return
			}
			if err != nil || len(m) != c.length {
				t.Fatalf("got %d bytes, %v; want %d bytes", len(m), err, c.length)
			}
			defer m.Unmap()
			inFile := size - c.offset
			checkBytes(t, "the part in the file", m[:inFile], data[c.offset:])
			pageEnd := (size+page-1)/page*page - c.offset // the end of the file's last page
			if tail := make([]byte, min(pageEnd, int64(len(m)))-inFile); len(tail) > 0 {
				if n, err := m.ReadAt(tail, inFile); err != nil || n != len(tail) || !bytes.Equal(tail, make([]byte, len(tail))) {
					t.Errorf("the rest of the file's last page: %d bytes, %v; want %d zeros", n, err, len(tail))
				}
			}
			if int64(len(m)) > pageEnd {
				if _, err := m.ReadAt(make([]byte, 1), pageEnd); !errors.Is(err, ErrFault) {
					t.Errorf("ReadAt of a page past the end: got %v; want ErrFault", err)
				}
				if _, err := m.WriteAt([]byte{1}, pageEnd); !errors.Is(err, ErrFault) {
					t.Errorf("WriteAt of a page past the end: got %v; want ErrFault", err)
				}
			}
			if fi, err := f.Stat(); err != nil || fi.Size() != size {
				t.Errorf("the file's size: %v, %v; want %d, unchanged", fi.Size(), err, size)
			}
		})
	}
}

// TestRegionArithmetic covers sizes no test file can have on a 64-bit host.
func TestRegionArithmetic(t *testing.T) {
	const huge = 1<<63 - 1
	for _, c := range []struct {
		name                 string
		size, offset, length int64
		pastEOF              bool
		want                 int64 // -1 for an error
	}{
		{"to the end", 100, 10, -1, false, 90},
		{"exact end", 100, 10, 90, false, 90},
		{"empty at the end", 100, 100, -1, false, 0},
		{"whole of a file larger than the address space", huge, 0, -1, false, -1},
		{"end of a file larger than the address space", huge, huge - 10, -1, false, 10},
		{"overflowing sum", 100, 50, huge, false, -1},
		{"overflowing sum, past the end", 100, 50, huge, true, -1},
		{"negative offset", 100, -1, -1, false, -1},
		{"negative offset, past the end", 100, -1, 10, true, -1},
		{"past the end, refused", 100, 50, 100, false, -1},
		{"past the end, allowed", 100, 50, 100, true, 100},
		{"starting past the end", 100, 101, 10, true, -1},
		{"past the end, larger than the address space", 100, 50, huge - 50, true, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := region(c.size, c.offset, c.length, c.pastEOF)
			if c.want < 0 {
				if !errors.Is(err, ErrRange) {
					t.Errorf("got %d, %v; want ErrRange", n, err)
				}
				return
			}
			if err != nil || int64(n) != c.want {
				t.Errorf("got %d, %v; want %d", n, err, c.want)
			}
		})
	}
}

// TestMapLargerThanInt maps a sparse file just over 4 GiB: refused with
// ErrRange where an int has 32 bits, mapped whole where it has 64.
func TestMapLargerThanInt(t *testing.T) {
	const size int64 = 1<<32 + 4096
	path := newFile(t, nil)
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	f := openFile(t, path, os.O_RDONLY)
	m, err := Map(f, RDONLY, 0)
	if strconv.IntSize == 32 {
		if !errors.Is(err, ErrRange) {
			t.Fatalf("32-bit: got %d bytes, %v; want ErrRange", len(m), err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	if int64(len(m)) != size || m[len(m)-1] != 0 {
		t.Errorf("got %d bytes ending in %d; want %d zero bytes", len(m), m[len(m)-1], size)
	}
}

func TestMapInvalidArguments(t *testing.T) {
	path := newFile(t, pattern(100))
	f := openFile(t, path, os.O_RDWR)
	for _, c := range []struct {
		name           string
		f              *os.File
		length         int
		prot, flags    int
		offset         int64
		messageContain string
	}{
		{"PROT_READ passed as prot", f, -1, 1, 0, 0, "prot"},
		{"unknown prot bit", f, -1, RDWR | 16, 0, 0, "prot"},
		{"unknown flags bit", f, -1, RDONLY, 4, 0, "flags"},
		{"negative flags", f, -1, RDONLY, -1, 0, "flags"},
		{"nil file", nil, -1, RDONLY, 0, 0, "nil file"},
		{"ANON with length 0", nil, 0, RDWR, ANON, 0, "ANON"},
		{"ANON with length to the end", nil, -1, RDWR, ANON, 0, "ANON"},
		{"ANON with an offset", nil, 4096, RDWR, ANON, 4096, "ANON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := liveMappings()
			m, err := MapRegion(c.f, c.length, c.prot, c.flags, c.offset)
			if !errSays(err, ErrInvalid, c.messageContain) {
				t.Fatalf("got %v; want ErrInvalid mentioning %q", err, c.messageContain)
			}
			if m != nil || liveMappings() != before {
				t.Errorf("something was mapped: %d bytes, %d live mappings (was %d)", len(m), liveMappings(), before)
			}
		})
	}
}

func TestMapReadOnlyFileForWriting(t *testing.T) {
	path := newFile(t, pattern(100))
	m, err := Map(openFile(t, path, os.O_RDONLY), RDWR, 0)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("got %d bytes, %v; want a permission error", len(m), err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != "mmap: map" || pe.Path != path {
		t.Errorf("got %#v; want a *fs.PathError for mmap of %s", err, path)
	}
}

func TestMapClosedFile(t *testing.T) {
	f := openFile(t, newFile(t, pattern(100)), os.O_RDONLY)
	f.Close()
	if m, err := Map(f, RDONLY, 0); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("got %d bytes, %v; want fs.ErrClosed", len(m), err)
	}
}

func TestAnon(t *testing.T) {
	for _, prot := range []int{RDWR, COPY, RDWR | EXEC} {
		t.Run("prot "+strconv.Itoa(prot), func(t *testing.T) {
			const n = 3<<16 + 5
			m := mustMap(t, nil, n, prot, ANON, 0)
			if len(m) != n {
				t.Fatalf("len: got %d; want %d", len(m), n)
			}
			for i, b := range m {
				if b != 0 {
					t.Fatalf("byte %d is %d; want 0", i, b)
				}
			}
			m[0], m[n-1] = 1, 2
			if m[0] != 1 || m[n-1] != 2 {
				t.Errorf("writes did not stick: %d, %d", m[0], m[n-1])
			}
			for name, err := range map[string]error{"Flush": m.Flush(), "Lock": m.Lock(), "Unlock": m.Unlock()} {
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}

func TestAnonIgnoresFile(t *testing.T) {
	f := openFile(t, newFile(t, pattern(100)), os.O_RDONLY)
	m := mustMap(t, f, 10, RDWR, ANON, 0)
	checkBytes(t, "anonymous memory", m, make([]byte, 10))
}

func TestFlushReachesFile(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDWR), -1, RDWR, 0, 0)
	copy(m[70000:], "hello")
	data = append([]byte(nil), data...)
	copy(data[70000:], "hello")
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "file after Flush", fileBytes(t, path), data)
}

func TestFlushSubSlices(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDWR), 60000, RDWR, 0, 5000)
	data = append([]byte(nil), data...)
	for _, r := range [][2]int{{0, 1}, {4095, 4097}, {10000, 30000}, {59999, 60000}} {
		sub := m[r[0]:r[1]]
		for i := range sub {
			sub[i] ^= 0xff
			data[5000+r[0]+i] ^= 0xff
		}
		for name, op := range map[string]func() error{"Flush": sub.Flush, "Lock": sub.Lock, "Unlock": sub.Unlock} {
			if err := op(); err != nil {
				t.Errorf("m[%d:%d].%s: %v", r[0], r[1], name, err)
			}
		}
	}
	checkBytes(t, "file after sub-slice flushes", fileBytes(t, path), data)
}

func TestCloseFileRightAfterMap(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := mustMap(t, f, -1, RDWR, 0, 0)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	copy(m[testFileSize-5:], "world")
	if err := m.Flush(); err != nil {
		t.Fatalf("Flush after closing the file: %v", err)
	}
	data = append([]byte(nil), data...)
	copy(data[testFileSize-5:], "world")
	checkBytes(t, "file after Flush", fileBytes(t, path), data)
}

func TestCopyWritesNothing(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	// COPY works on a read-only file: writes never reach it.
	m, err := Map(openFile(t, path, os.O_RDONLY), COPY, 0)
	if err != nil {
		t.Fatal(err)
	}
	copy(m, "private")
	if err := m.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if string(m[:7]) != "private" {
		t.Errorf("mapping: got %q; want the private write", m[:7])
	}
	if err := m.Unmap(); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "file after COPY write, Flush and Unmap", fileBytes(t, path), data)
}

func TestReadOnlyFlush(t *testing.T) {
	path := newFile(t, pattern(100))
	m := mustMap(t, openFile(t, path, os.O_RDONLY), -1, RDONLY, 0, 0)
	if err := m.Flush(); err != nil {
		t.Errorf("Flush of a read-only mapping: %v", err)
	}
}

func TestUnmap(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	f := openFile(t, path, os.O_RDONLY)
	m, err := MapRegion(f, -1, RDONLY, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	before := liveMappings()
	for _, c := range []struct {
		name string
		m    MMap
	}{
		{"sub-slice at the start", m[:10]},
		{"sub-slice in the middle", m[10:20]},
		{"empty sub-slice", m[5:5]},
		{"sub-slice at the end", m[1:]},
		{"heap memory", MMap(make([]byte, 100))},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := c.m
			err := sub.Unmap()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v; want ErrInvalid", err)
			}
			if len(sub) != len(c.m) || liveMappings() != before {
				t.Errorf("after a refused Unmap: len %d (want %d), %d live mappings (want %d)", len(sub), len(c.m), liveMappings(), before)
			}
		})
	}
	checkBytes(t, "mapping after refused Unmaps", m, data[100:])
	if err := m.Unmap(); err != nil || m != nil {
		t.Fatalf("Unmap: got %v, m=%v; want nil, nil", err, m)
	}
	if liveMappings() != before-1 {
		t.Errorf("live mappings after Unmap: got %d; want %d", liveMappings(), before-1)
	}
	if err := m.Unmap(); err != nil {
		t.Errorf("second Unmap: %v", err)
	}
}

func TestUnmappedMemoryIsRefused(t *testing.T) {
	heap := MMap(make([]byte, 100))
	for name, op := range map[string]func() error{
		"Flush":  heap.Flush,
		"Lock":   heap.Lock,
		"Unlock": heap.Unlock,
		"Advise": func() error { return heap.Advise(DontNeed) },
	} {
		if err := op(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s of heap memory: got %v; want ErrInvalid", name, err)
		}
	}
}

func TestAdvise(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDWR), -1, RDWR, 0, 0)
	for _, a := range []Advice{Normal, Sequential, Random, WillNeed, DontNeed} {
		if err := m[1000:50000].Advise(a); err != nil {
			t.Errorf("Advise(%d): %v", a, err)
		}
	}
	for _, a := range []Advice{-1, DontNeed + 1} {
		if err := m.Advise(a); !errors.Is(err, ErrInvalid) {
			t.Errorf("Advise(%d): got %v; want ErrInvalid", a, err)
		}
	}
	m[0] = ^data[0]
	if err := m.Advise(DontNeed); err != nil {
		t.Fatal(err)
	}
	if m[0] != ^data[0] {
		t.Errorf("shared mapping after DontNeed: byte 0 is %#x; want %#x", m[0], ^data[0])
	}
}

// TestAdviseDontNeedKeepsPrivateChanges: madvise(MADV_DONTNEED) on Linux
// throws away the private pages of a COPY mapping; Advise must not.
func TestAdviseDontNeedKeepsPrivateChanges(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDONLY), -1, COPY, 0, 0)
	anon := mustMap(t, nil, 4096, COPY, ANON, 0)
	m[10], anon[10] = ^data[10], 7
	for _, mm := range []MMap{m, anon} {
		if err := mm.Advise(DontNeed); err != nil {
			t.Fatal(err)
		}
	}
	if m[10] != ^data[10] || anon[10] != 7 {
		t.Errorf("after DontNeed: file COPY byte %#x (want %#x), anonymous COPY byte %d (want 7)", m[10], ^data[10], anon[10])
	}
}

func TestPopulate(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	for _, prot := range []int{RDONLY, COPY} {
		m := mustMap(t, openFile(t, path, os.O_RDONLY), -1, prot, POPULATE, 0)
		checkBytes(t, "populated mapping", m, data)
	}
	anon := mustMap(t, nil, 1<<20, RDWR, ANON|POPULATE, 0)
	checkBytes(t, "populated anonymous mapping", anon, make([]byte, 1<<20))
}

func TestExec(t *testing.T) {
	m := mustMap(t, nil, 4096, RDONLY|EXEC, ANON, 0)
	checkBytes(t, "executable anonymous mapping", m, make([]byte, 4096))
}

func TestReadAt(t *testing.T) {
	data := pattern(1000)
	m := mustMap(t, openFile(t, newFile(t, data), os.O_RDONLY), -1, RDONLY, 0, 0)
	for _, c := range []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantErr error
	}{
		{"inside", 10, 100, 100, nil},
		{"up to the end", 900, 100, 100, nil},
		{"across the end", 950, 100, 50, io.EOF},
		{"at the end", 1000, 10, 0, io.EOF},
		{"past the end", 5000, 10, 0, io.EOF},
		{"empty read inside", 10, 0, 0, nil},
		{"negative offset", -1, 10, 0, ErrRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := make([]byte, c.n)
			n, err := m.ReadAt(p, c.off)
			if n != c.wantN || !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("got %d, %v; want %d, %v", n, err, c.wantN, c.wantErr)
			}
			if n > 0 {
				checkBytes(t, "bytes read", p[:n], data[c.off:c.off+int64(n)])
			}
		})
	}
}

func TestWriteAt(t *testing.T) {
	data := pattern(1000)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDWR), -1, RDWR, 0, 0)
	want := append([]byte(nil), data...)
	for _, c := range []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantErr error
	}{
		{"inside", 10, 100, 100, nil},
		{"up to the end", 900, 100, 100, nil},
		{"across the end", 950, 100, 50, ErrRange},
		{"at the end", 1000, 10, 0, ErrRange},
		{"empty write at the end", 1000, 0, 0, nil},
		{"past the end", 5000, 10, 0, ErrRange},
		{"negative offset", -1, 10, 0, ErrRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := pattern(c.n + 7)[7:]
			n, err := m.WriteAt(p, c.off)
			if n != c.wantN || !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("got %d, %v; want %d, %v", n, err, c.wantN, c.wantErr)
			}
			if n > 0 {
				copy(want[c.off:], p[:n])
			}
		})
	}
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "file after WriteAt", fileBytes(t, path), want)
}

func TestWriteAtReadOnlyMappingFaults(t *testing.T) {
	data := pattern(100)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDONLY), -1, RDONLY, 0, 0)
	n, err := m.WriteAt([]byte("x"), 5)
	var fe *FaultError
	if !errors.Is(err, ErrFault) || !errors.As(err, &fe) || fe.Op != "write" || n != 0 {
		t.Fatalf("got %d, %v; want 0 and a *FaultError on write", n, err)
	}
	checkBytes(t, "read-only mapping after a refused write", m, data)
}

// TestTruncatedUnderMapping shrinks a mapped file through another handle.
// On Unix the lost pages fault (SIGBUS), which ReadAt and WriteAt must
// return as ErrFault; Windows refuses to shrink a mapped file.
func TestTruncatedUnderMapping(t *testing.T) {
	page := os.Getpagesize()
	data := pattern(4 * page)
	path := newFile(t, data)
	m := mustMap(t, openFile(t, path, os.O_RDWR), -1, RDWR, 0, 0)
	err := os.Truncate(path, int64(page))
	if runtime.GOOS == "windows" {
		if err == nil {
			t.Fatal("Truncate of a mapped file succeeded on Windows; want an error")
		}
		checkBytes(t, "mapping after a refused Truncate", m, data)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100)
	if n, err := m.ReadAt(p, 0); n != 100 || err != nil {
		t.Errorf("ReadAt on the page that is left: got %d, %v; want 100, nil", n, err)
	}
	for _, c := range []struct {
		name  string
		op    func() (int, error)
		wantN int
	}{
		{"ReadAt on page 3", func() (int, error) { return m.ReadAt(p, int64(3*page)) }, 0},
		{"WriteAt on page 2", func() (int, error) { return m.WriteAt(p, int64(2*page)) }, 0},
		{"ReadAt across the new end", func() (int, error) { return m.ReadAt(p, int64(page-10)) }, 10},
		{"WriteAt across the new end", func() (int, error) { return m.WriteAt(p, int64(page-20)) }, 20},
	} {
		n, err := c.op()
		var fe *FaultError
		if n != c.wantN || !errors.Is(err, ErrFault) || !errors.As(err, &fe) {
			t.Errorf("%s: got %d, %v; want %d and a *FaultError", c.name, n, err, c.wantN)
		}
	}
	checkBytes(t, "bytes ReadAt copied before the fault", p[:10], data[page-10:page])
	checkBytes(t, "bytes WriteAt copied before the fault", m[page-20:page], p[:20])
}

func TestRegistryFindsEachMapping(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	f := openFile(t, path, os.O_RDWR)
	var maps []MMap
	for i := range 20 {
		maps = append(maps, mustMap(t, f, 1000, RDWR, 0, int64(i*3000)))
	}
	want := append([]byte(nil), data...)
	for i, m := range maps {
		m[i] = ^m[i]
		want[i*3000+i] = m[i]
		if err := m[i : i+1].Flush(); err != nil {
			t.Fatalf("mapping %d: Flush: %v", i, err)
		}
	}
	checkBytes(t, "file after flushing one byte of each mapping", fileBytes(t, path), want)
}

func TestConcurrentMapUnmap(t *testing.T) {
	data := pattern(testFileSize)
	path := newFile(t, data)
	f := openFile(t, path, os.O_RDONLY)
	before := liveMappings()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				off := int64((g*50 + i) % testFileSize)
				m, err := MapRegion(f, -1, RDONLY, 0, off)
				if err != nil {
					t.Error(err)
					return
				}
				if len(m) > 0 && m[0] != data[off] {
					t.Errorf("offset %d: got byte %#x; want %#x", off, m[0], data[off])
				}
				if err := m.Unmap(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if liveMappings() != before {
		t.Errorf("live mappings: got %d; want %d", liveMappings(), before)
	}
}
