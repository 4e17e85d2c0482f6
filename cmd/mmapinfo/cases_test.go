package main

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// reportCase is a file and what mmapinfo must say about it.
type reportCase struct {
	name    string
	make    func(t *testing.T) string // writes the file, returns its path
	kind    string
	status  string
	openErr string   // the error Open's wraps, or "" if it opens the file
	count   int64    // the records that hold, when a header decides
	says    []string // what the text report says
	never   []string // what it must not say
	rdonly  string   // what it says Open(RDONLY) does
	rdwr    string   // what it says Open(RDWR) does
	library func(t *testing.T, path string)
}

func reportCases() []reportCase {
	h := func(t *testing.T, n int64) []byte { return header(t, f8, nil, n) }
	return []reportCase{
		{
			name: "an Array file its writer closed",
			make: func(t *testing.T) string {
				a, path := createFloats(t, 10)
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				return path
			},
			kind: kindNPY, status: healthy, count: 10,
			says:    []string{"plain .npy file", "Go type       float64", "capacity      10 records", "data offset   128"},
			rdonly:  "opens 10 records",
			library: openCount[float64](10),
		},
		{
			name: "an Array file its writer has open",
			make: writerHasOpen,
			kind: kindArray, status: healthy, count: 10,
			says:   []string{"Array file, format 2", "of this file", "checksum good; newest; the file's header is its copy", "live count  10, published to readers during this boot", "a writer has the file open", "more records: a writer grows the file"},
			never:  []string{"header        from", "as slot", "problem"},
			rdonly: "opens 10 records",
			rdwr:   "opens 10 records, unless a writer still has it (ErrLocked)",
			library: func(t *testing.T, path string) {
				openCount[float64](10)(t, path)
				if _, err := mmap.Open[float64](path, mmap.RDWR); !errors.Is(err, mmap.ErrLocked) {
					t.Errorf("a second writer: got %v; want ErrLocked", err)
				}
			},
		},
		{
			name: "a writer that stopped before it wrote the header",
			make: stoppedBeforeHeader,
			kind: kindArray, status: damaged, count: 5,
			says:   []string{"from slot 1 of the sidecar (the file's own counts 3 records)", "the file's header is slot 0's, which counts 3 records; slot 1, the newest, counts 5"},
			rdonly: "opens 5 records, as slot 1 counts, and leaves the file as it is",
			rdwr:   "rewrites the header from slot 1, and opens 5 records",
			library: func(t *testing.T, path string) {
				openCount[float64](5)(t, path)
				if r := reportOf(t, path); r.Verdict.Status != damaged {
					t.Fatalf("after Open(RDONLY): %s; want the file left as it was", r.Verdict.Status)
				}
				a, err := mmap.Open[float64](path, mmap.RDWR)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				if r := reportOf(t, path); r.Verdict.Status != healthy || r.Header.Count != 5 {
					t.Errorf("after Open(RDWR) and Close: %s, %d records; want healthy, 5", r.Verdict.Status, r.Header.Count)
				}
			},
		},
		{
			name: "a header torn across sectors",
			make: func(t *testing.T) string {
				d, old, cur, mixed := longHeaders(t)
				path := writeFile(t, mixed, make([]byte, 1000*d.Itemsize()))
				sidecar{slots: [2]arrayfile.Slot{{Seq: 8, Count: 999, Header: old}, {Seq: 9, Count: 1000, Header: cur}}}.write(t, path)
				return path
			},
			kind: kindArray, status: damaged, count: 1000,
			says:   []string{"the file's own counts 109 records", "the file's header is torn", "slot 1 counts 1000 records"},
			rdonly: "opens 1000 records, as slot 1 counts",
			rdwr:   "rewrites the header from slot 1",
		},
		{
			name: "a sidecar of another file",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				sidecar{stale: true, slots: [2]arrayfile.Slot{{Seq: 1, Count: 7, Header: h(t, 7)}}}.write(t, path)
				return path
			},
			kind: kindArray, status: damaged, count: 5,
			says:    []string{"of another file", "belongs to another file", "Open does without it"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "a damaged control page",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				sidecar{
					slots:  [2]arrayfile.Slot{{Seq: 1, Count: 5, Header: h(t, 5)}},
					damage: func(b []byte, _ arrayfile.Control) { b[20] ^= 1 },
				}.write(t, path)
				return path
			},
			kind: kindNPY, status: damaged, count: 5,
			says:    []string{"checksum mismatch", "is not a sidecar, or its control page is damaged"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "a slot torn, the other good",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(6))
				sidecar{
					slots:  [2]arrayfile.Slot{{Seq: 1, Count: 5, Header: h(t, 5)}, {Seq: 2, Count: 6, Header: h(t, 6)}},
					damage: damageSlot(1),
				}.write(t, path)
				return path
			},
			kind: kindArray, status: damaged, count: 5,
			says:    []string{"slot 1      bad: slot checksum mismatch", "slot 1 of the sidecar is bad"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "both slots damaged",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				sidecar{
					slots: [2]arrayfile.Slot{{Seq: 1, Count: 4, Header: h(t, 4)}, {Seq: 2, Count: 5, Header: h(t, 5)}},
					damage: func(b []byte, c arrayfile.Control) {
						damageSlot(0)(b, c)
						damageSlot(1)(b, c)
					},
				}.write(t, path)
				return path
			},
			kind: kindArray, status: damaged, count: 5,
			says:    []string{"no slot of the sidecar is valid"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "slots that do not describe the header",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				sidecar{slots: [2]arrayfile.Slot{{Seq: 1, Count: 3, Header: h(t, 3)}, {Seq: 2, Count: 4, Header: h(t, 4)}}}.write(t, path)
				return path
			},
			kind: kindArray, status: damaged, count: 5,
			says:    []string{"do not describe the file's header"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "a damaged header beside a sidecar of another header",
			make: func(t *testing.T) string {
				path := writeFile(t, []byte("not a header at all"), floats(5))
				sidecar{slots: [2]arrayfile.Slot{{Seq: 1, Count: 4, Header: h(t, 4)}}}.write(t, path)
				return path
			},
			kind: kindArray, status: unusable, openErr: "ErrFormat",
			says:    []string{"do not describe the file's header", "not a .npy file"},
			rdonly:  "fails with ErrFormat",
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "a sidecar open to others",
			make: func(t *testing.T) string {
				if runtime.GOOS == "windows" {
					t.Skip("Windows files have no Unix mode")
				}
				path := writeFile(t, h(t, 5), floats(5))
				if err := os.Chmod(path, 0o644); err != nil {
					t.Fatal(err)
				}
				hdr := h(t, 5)
				sidecar{slots: [2]arrayfile.Slot{{Seq: 1, Count: 5, Header: hdr}}}.write(t, path)
				if err := os.Chmod(path+".meta", 0o666); err != nil {
					t.Fatal(err)
				}
				return path
			},
			kind: kindArray, status: damaged, count: 5,
			says:   []string{"the sidecar data.npy.meta cannot be trusted (its permissions -rw-rw-rw- give group write, others write, which the file's (-rw-r--r--) do not): a reader does without it, and a writer refuses it"},
			rdonly: "opens 5 records",
			rdwr:   "fails with ErrPermission: it does not trust the sidecar",
			library: func(t *testing.T, path string) {
				openCount[float64](5)(t, path)
				if a, err := mmap.Open[float64](path, mmap.RDWR); !errors.Is(err, fs.ErrPermission) {
					t.Errorf("Open(RDWR): got %v; want fs.ErrPermission", err)
					if err == nil {
						a.Close()
					}
				}
			},
		},
		{
			name: "a slot whose header does not count its records",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(7))
				sidecar{slots: [2]arrayfile.Slot{{Seq: 1, Count: 7, Header: h(t, 5)}}}.write(t, path)
				return path
			},
			kind: kindArray, status: unusable, openErr: "ErrFormat",
			says:    []string{"does not count its 7 records"},
			never:   []string{"do not describe"},
			rdonly:  "fails with ErrFormat",
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "a sidecar that cannot be read",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				if err := os.Mkdir(path+".meta", 0o755); err != nil {
					t.Fatal(err)
				}
				return path
			},
			kind: kindNPY, status: damaged, count: 5,
			says:   []string{"data.npy.meta: it is a directory, not a regular file", "a reader does without it"},
			rdonly: "opens 5 records",
			rdwr:   "fails: it cannot open the sidecar for writing",
			library: func(t *testing.T, path string) {
				openCount[float64](5)(t, path)
				if _, err := mmap.Open[float64](path, mmap.RDWR); err == nil {
					t.Error("Open(RDWR) opened a file whose sidecar is a directory")
				}
			},
		},
		{
			name: "a sidecar with one slot written",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				sidecar{slots: [2]arrayfile.Slot{{Seq: 1, Count: 5, Header: h(t, 5)}}}.write(t, path)
				return path
			},
			kind: kindArray, status: healthy, count: 5,
			says:    []string{"slot 1      empty, never written"},
			never:   []string{"problem"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "a header that counts more records than the file holds",
			make: func(t *testing.T) string { return writeFile(t, h(t, 10), floats(4)) },
			kind: kindNPY, status: unusable, openErr: "ErrFormat", count: 10,
			says:    []string{"the header counts 10 records of 8 bytes from offset 128, but the file has 160 bytes", "capacity      4 records"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "a file cut inside its header",
			make: func(t *testing.T) string { return writeFile(t, h(t, 5)[:50]) },
			kind: kindNeither, status: unusable, openErr: "ErrFormat",
			says:    []string{"the file ends inside the .npy header"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "random bytes",
			make: func(t *testing.T) string {
				b := make([]byte, 1000)
				rand.NewChaCha8([32]byte{'m', 'm', 'a', 'p'}).Read(b)
				return writeFile(t, b)
			},
			kind: kindNeither, status: unusable, openErr: "ErrFormat",
			says:    []string{"not a .npy file"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "an empty file",
			make: func(t *testing.T) string { return writeFile(t) },
			kind: kindNeither, status: unusable, openErr: "ErrFormat",
			says:    []string{"the file is empty"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "an unknown .npy version",
			make: func(t *testing.T) string {
				b := h(t, 5)
				b[6] = 4
				return writeFile(t, b, floats(5))
			},
			kind: kindNeither, status: unusable, openErr: "ErrFormat",
			says:    []string{".npy format version 4.0"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "a header longer than numpy reads",
			make: func(t *testing.T) string { return writeFile(t, bigHeader()) },
			kind: kindNeither, status: unusable, openErr: "ErrFormat",
			says:    []string{"numpy reads at most 10000"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "a header that does not parse",
			make: func(t *testing.T) string {
				b := bytes.Replace(h(t, 5), []byte("'descr'"), []byte("'DESCR'"), 1)
				return writeFile(t, b, floats(5))
			},
			kind: kindNeither, status: unusable, openErr: "ErrFormat",
			says:    []string{"header has the key 'DESCR'"},
			library: openFails[float64](mmap.ErrFormat),
		},
		{
			name: "numpy's little-endian records",
			make: func(t *testing.T) string { return testdata("../../../testdata/little-endian.npy")(t) },
			kind: kindNPY, status: onHost(healthy, unusable), openErr: onHost("", "ErrByteOrder"), count: 5,
			says: []string{"[('I', '<u8'), ('Gen', '<u4'), ('', '|V4'), ('Sum', '<u8')]",
				"I          <u8      offset 0", "(padding)  4 bytes  offset 12",
				"Go type       struct { I uint64; Gen uint32; _ [4]byte; Sum uint64 }"},
		},
		{
			name: "numpy's structured records with strings",
			make: testdata("structured.npy"),
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 3,
			says: []string{"pos    struct (2,)  offset 4", "  x    <f4          offset 0",
				`holds packed records of`, `field label ('<U3') is at offset 25 of a record`,
				"map it as struct { id uint32; pos [2]struct { x float32; y float32 }; name [5]byte `npy:\",S\"`; _ [3]byte; label [3]rune `npy:\",U\"`; ok uint8 `npy:\",?\"`; _ [7]byte; when int64 `npy:\",M8[s]\"` }",
				"or read this file as it is with ReadRecords"},
		},
		{
			name: "numpy's Fortran-order matrix",
			make: testdata("fortran.npy"),
			kind: kindNPY, status: unusable, openErr: onHost("ErrType", "ErrByteOrder"), count: 2,
			says: []string{"(2, 3), Fortran order", "in Fortran (column-major) order"},
		},
		{
			name: "numpy's 0-dimensional array",
			make: testdata("scalar.npy"),
			kind: kindNPY, status: unusable, openErr: onHost("ErrType", "ErrByteOrder"),
			says: []string{"count         none: a 0-dimensional array holds one value", "a 0-dimensional array (shape ())"},
		},
		{
			name: "numpy's Python objects",
			make: testdata("objects.npy"),
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 3,
			says: []string{`'|O' is Python objects`},
		},
		{
			name: "numpy's big-endian integers",
			make: testdata("big-endian.npy"),
			kind: kindNPY, status: onHost(unusable, healthy), openErr: onHost("ErrByteOrder", ""), count: 4,
			says: []string{onHost("the numbers are big-endian, and this host is little-endian; a big-endian host opens the file", "big-endian (this host's)")},
		},
		{
			name: "numpy's rows of float32",
			make: testdata("matrix.npy"),
			kind: kindNPY, status: onHost(healthy, unusable), openErr: onHost("", "ErrByteOrder"), count: 3,
			says: []string{"Go type       [2]float32", "(3, 2), C order"},
		},
		{
			name: "numpy's half-precision floats",
			make: testdata("special-floats.npy"),
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 4,
		},
		{
			name: "rows of three float32",
			make: func(t *testing.T) string {
				d := npy.DType{Str: string(npy.HostOrder) + "f4"}
				return writeFile(t, header(t, d, []int{3}, 2), make([]byte, 24))
			},
			kind: kindNPY, status: healthy, count: 2,
			says:    []string{"Go type       [3]float32", "record size   12 bytes"},
			library: openCount[[3]float32](2),
		},
		{
			name: "nested structs and subarrays",
			make: func(t *testing.T) string {
				return writeFile(t, header(t, nestedDType(), nil, 3), make([]byte, 3*32))
			},
			kind: kindNPY, status: healthy, count: 3,
			says:    []string{"Go type       struct { ID int64; Pos [2]struct { X float32; Y float32 }; Tags [8]uint8 }"},
			library: openCount[nestedRec](3),
		},
		{
			name: "complex numbers",
			make: func(t *testing.T) string {
				return writeFile(t, header(t, npy.DType{Str: string(npy.HostOrder) + "c16"}, nil, 2), make([]byte, 32))
			},
			kind: kindNPY, status: healthy, count: 2,
			says:    []string{"Go type       complex128"},
			library: openCount[complex128](2),
		},
		{
			name: "a packed struct that no Go type lays out",
			make: func(t *testing.T) string {
				o := string(npy.HostOrder)
				d := npy.DType{Fields: []npy.Field{{Name: "a", Type: npy.DType{Str: o + "i4"}}, {Name: "b", Type: npy.DType{Str: o + "i8"}}}}
				return writeFile(t, header(t, d, nil, 1), make([]byte, 12))
			},
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 1,
			says: []string{"which no flat Go type lays out as the file does: field b ('" + string(npy.HostOrder) + "i8') is at offset 4 of a record, and a Go int64 needs a multiple of 8; save the array from numpy with align=True"},
		},
		{
			name: "a type whose size overflows",
			make: func(t *testing.T) string { return writeFile(t, header(t, hugeDType(), nil, 1), floats(1)) },
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 1,
			says:    []string{"record size   overflows", "which no Go type holds: a record's size in bytes overflows"},
			library: openFails[float64](mmap.ErrType),
		},
		{
			name: "rows whose size overflows",
			make: func(t *testing.T) string { return writeFile(t, header(t, f8, []int{math.MaxInt / 4}, 1), floats(1)) },
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 1,
			says:    []string{"which no Go type holds: a record's size in bytes overflows"},
			library: openFails[float64](mmap.ErrType),
		},
		{
			name: "rows of no elements",
			make: func(t *testing.T) string { return writeFile(t, header(t, f8, []int{0}, 3)) },
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 3,
			says:    []string{"record size   0 bytes", "it has size 0"},
			library: openFails[float64](mmap.ErrType),
		},
		{
			name: "numbers in the native byte order",
			make: func(t *testing.T) string {
				return writeFile(t, header(t, npy.DType{Str: "=f8"}, nil, 2), floats(2))
			},
			kind: kindNPY, status: unusable, openErr: "ErrByteOrder", count: 2,
			says:    []string{"byte order    native (=)", "the numbers are in the writer's native byte order ('='), which the file does not name: no host opens the file", "the record: the file has '=f8', the Go type '" + string(npy.HostOrder) + "f8'"},
			library: openFails[float64](mmap.ErrByteOrder),
		},
		{
			name: "numbers in both byte orders",
			make: func(t *testing.T) string {
				d := npy.DType{Fields: []npy.Field{{Name: "A", Type: npy.DType{Str: "<i4"}}, {Name: "B", Type: npy.DType{Str: ">i4"}}}}
				return writeFile(t, header(t, d, nil, 2), make([]byte, 16))
			},
			kind: kindNPY, status: unusable, openErr: "ErrByteOrder", count: 2,
			says:    []string{"byte order    mixed (not this host's", "the numbers mix byte orders: no host opens the file"},
			library: openFails[struct{ A, B int32 }](mmap.ErrByteOrder),
		},
		{
			name: "a header with room for 4 digits",
			make: func(t *testing.T) string {
				return writeFile(t, tightHeader("{'descr':'"+string(npy.HostOrder)+"f8','fortran_order':False,'shape':(5,)}"), floats(5))
			},
			kind: kindNPY, status: healthy, count: 5,
			says:    []string{"data offset   64", "the header has room to count 9999 records: appends past that fail"},
			library: openCount[float64](5),
		},
		{
			name: "a field with no name",
			make: func(t *testing.T) string {
				d := npy.DType{Fields: []npy.Field{{Name: "a", Type: f8}, {Type: f8}}}
				return writeFile(t, header(t, d, nil, 1), floats(2))
			},
			kind: kindNPY, status: unusable, openErr: "ErrType", count: 1,
			says:    []string{"field 1 has no name, which no Go field has"},
			library: openFails[float64](mmap.ErrType),
		},
		{
			name: "a sidecar larger than any",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				if err := os.WriteFile(path+".meta", nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path+".meta", arrayfile.MaxSidecarSize+1); err != nil {
					t.Fatal(err)
				}
				return path
			},
			kind: kindNPY, status: damaged, count: 5,
			says:    []string{"data.npy.meta is not a sidecar", "it has more than 28672 bytes, more than a sidecar ever has", "Open does without it, and the next writer replaces it"},
			rdonly:  "opens 5 records",
			library: openCount[float64](5),
		},
		{
			name: "a sidecar that is a symbolic link",
			make: func(t *testing.T) string {
				path := writeFile(t, h(t, 5), floats(5))
				err := os.Symlink(path, path+".meta")
				if err == nil {
					_, err = os.Lstat(path + ".meta") // Wine reports success and makes nothing
				}
				if err != nil {
					t.Skipf("no symbolic links here: %v", err)
				}
				return path
			},
			kind: kindNPY, status: damaged, count: 5,
			says:    []string{"data.npy.meta: it is a symbolic link, not a regular file", "a reader does without it"},
			rdonly:  "opens 5 records",
			rdwr:    "fails: it cannot open the sidecar for writing (it is a symbolic link, not a regular file)",
			library: openCount[float64](5),
		},
		{
			name: "a field named with a Go keyword",
			make: func(t *testing.T) string {
				d := npy.DType{Fields: []npy.Field{{Name: "type", Type: f8}}}
				return writeFile(t, header(t, d, nil, 1), make([]byte, 8))
			},
			kind: kindNPY, status: healthy, count: 1,
			says: []string{"Go type       struct { F0 float64 `npy:\"type\"` }"},
		},
		{
			name: "a field named as another field's Go name",
			make: func(t *testing.T) string {
				d := npy.DType{Fields: []npy.Field{{Name: "F1", Type: f8}, {Name: "1x", Type: f8}}}
				return writeFile(t, header(t, d, nil, 1), floats(2))
			},
			kind: kindNPY, status: healthy, count: 1,
			says: []string{"Go type       struct { F1 float64; F1_ float64 `npy:\"1x\"` }"},
			library: openCount[struct {
				F1  float64
				F1_ float64 `npy:"1x"`
			}](1),
		},
	}
}

// createFloats creates an Array file of n float64 records, 0 to n-1, and
// returns it, open, and its path.
func createFloats(t *testing.T, n int) (*mmap.Array[float64], string) {
	t.Helper()
	path := filepath.Join(tempDir(t), "data.npy")
	a, err := mmap.Create[float64](path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for i := range n {
		if err := a.Append(float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	return a, path
}

// writerHasOpen writes an Array file of 10 records that its writer has
// open, synced: a file with every part that a report describes.
func writerHasOpen(t *testing.T) string {
	t.Helper()
	a, path := createFloats(t, 10)
	if err := a.Sync(); err != nil {
		t.Fatal(err)
	}
	return path
}

// stoppedBeforeHeader writes an Array file of 5 records whose writer
// stopped after it made the sidecar's slot 1 durable and before it wrote
// the header, which still counts 3.
func stoppedBeforeHeader(t *testing.T) string {
	t.Helper()
	path := writeFile(t, header(t, f8, nil, 3), floats(5))
	sidecar{slots: [2]arrayfile.Slot{
		{Seq: 1, Count: 3, Header: header(t, f8, nil, 3)},
		{Seq: 2, Count: 5, Header: header(t, f8, nil, 5)},
	}}.write(t, path)
	return path
}

// hugeDType is a type of more bytes than an int64 counts.
func hugeDType() npy.DType {
	return npy.DType{Fields: []npy.Field{{Name: "m", Type: f8, Shape: []int{1 << 30, 1 << 30, 1 << 30}}}}
}

// nestedRec is the Go type of nestedDType.
type nestedRec struct {
	ID   int64
	Pos  [2]struct{ X, Y float32 }
	Tags [8]uint8
}

func nestedDType() npy.DType {
	o := string(npy.HostOrder)
	pos := npy.DType{Fields: []npy.Field{{Name: "X", Type: npy.DType{Str: o + "f4"}}, {Name: "Y", Type: npy.DType{Str: o + "f4"}}}}
	return npy.DType{Fields: []npy.Field{
		{Name: "ID", Type: npy.DType{Str: o + "i8"}},
		{Name: "Pos", Type: pos, Shape: []int{2}},
		{Name: "Tags", Type: npy.DType{Str: "|u1"}, Shape: []int{8}},
	}}
}

// openCount checks that Open of records of type T opens n of them.
func openCount[T any](n int) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		a, err := mmap.Open[T](path, mmap.RDONLY)
		if err != nil {
			t.Fatalf("Open(RDONLY): %v", err)
		}
		defer a.Close()
		if a.Len() != n {
			t.Errorf("Open(RDONLY): %d records; want %d", a.Len(), n)
		}
	}
}

// openFails checks that Open of records of type T fails with an error
// wrapping want.
func openFails[T any](want error) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		for _, prot := range []int{mmap.RDONLY, mmap.RDWR} {
			if a, err := mmap.Open[T](path, prot); !errors.Is(err, want) {
				t.Errorf("Open(prot %d): got %v; want %v", prot, err, want)
				if err == nil {
					a.Close()
				}
			}
		}
	}
}
