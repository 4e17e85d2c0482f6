package mmap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/npy"
)

// packedFile writes a .npy file of n packed records of (A int32, B int64),
// B at offset 4, record i holding A = i, B = 10*i, and returns its path.
func packedFile(t testing.TB, dir string, n int) string {
	t.Helper()
	o := string(npy.HostOrder)
	d := npy.DType{Fields: []npy.Field{{Name: "A", Type: npy.DType{Str: o + "i4"}}, {Name: "B", Type: npy.DType{Str: o + "i8"}}}}
	hdr, err := npy.Build(d, nil, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), hdr...)
	for i := range n {
		var rec [12]byte
		put(rec[:4], uint64(i))
		put(rec[4:], uint64(10*i))
		b = append(b, rec[:]...)
	}
	path := filepath.Join(dir, "packed.npy")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// put writes v into b in this host's byte order, as many bytes as b has.
func put(b []byte, v uint64) {
	for i := range b {
		shift := 8 * i
		if npy.HostOrder == '>' {
			shift = 8 * (len(b) - 1 - i)
		}
		b[i] = byte(v >> shift)
	}
}

type packedAB struct {
	A int32
	_ [4]byte
	B int64
}

func TestReadRecordsOfPackedRecords(t *testing.T) {
	dir := tempDir(t)
	path := packedFile(t, dir, 100_000)
	if _, err := Open[packedAB](path, RDONLY); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "map it as struct { A int32; _ [4]byte; B int64 }") {
		t.Fatalf("Open of packed records: %v; want ErrType naming the aligned Go type", err)
	}
	got, err := ReadRecords[packedAB](path, 3, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r.A != int32(i+3) || r.B != int64(10*(i+3)) {
			t.Fatalf("record %d is %+v", i+3, r)
		}
	}
}

// TestReadRecordsOfPackedSubarrays reads packed records of a subarray of
// 5000 structs of 5 bytes, 8 in Go, struct by struct.
func TestReadRecordsOfPackedSubarrays(t *testing.T) {
	type elem struct {
		X int8
		_ [3]byte
		Y int32
	}
	type rec struct {
		A int16
		_ [2]byte
		P [5000]elem
	}
	o := string(npy.HostOrder)
	e := npy.DType{Fields: []npy.Field{{Name: "X", Type: npy.DType{Str: "|i1"}}, {Name: "Y", Type: npy.DType{Str: o + "i4"}}}}
	d := npy.DType{Fields: []npy.Field{{Name: "A", Type: npy.DType{Str: o + "i2"}}, {Name: "P", Type: e, Shape: []int{5000}}}}
	hdr, err := npy.Build(d, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), hdr...)
	for i := range 3 {
		rec := make([]byte, 2+5*5000)
		put(rec[:2], uint64(i))
		for k := range 5000 {
			put(rec[2+5*k:3+5*k], uint64(k+i))
			put(rec[3+5*k:7+5*k], uint64(1000*k+i))
		}
		b = append(b, rec...)
	}
	path := filepath.Join(tempDir(t), "subarrays.npy")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecords[rec](path, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		for k, p := range r.P {
			if r.A != int16(i) || p.X != int8(k+i) || p.Y != int32(1000*k+i) {
				t.Fatalf("record %d: A %d, P[%d] %+v; want %d, {X:%d Y:%d}", i, r.A, k, p, i, int8(k+i), 1000*k+i)
			}
		}
	}
}

func TestReadRecordsRefuses(t *testing.T) {
	dir := tempDir(t)
	packed := packedFile(t, dir, 10)
	short := filepath.Join(dir, "short.npy")
	b := fileBytes(t, packed)
	if err := os.WriteFile(short, b[:len(b)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "rows.npy")
	writeRows(t, rows)
	for _, c := range []struct {
		name string
		read func() error
		is   error
		says string
	}{
		{"no file", func() error { _, err := ReadRecords[packedAB](filepath.Join(dir, "none.npy"), 0, 1); return err }, os.ErrNotExist, "none.npy"},
		{"a type that is not flat", func() error { _, err := ReadRecords[int](packed, 0, 1); return err }, ErrType, "its size differs"},
		{"another type", func() error { _, err := ReadRecords[struct{ A, B int64 }](packed, 0, 1); return err }, ErrType, "A: the file has '" + string(npy.HostOrder) + "i4', the Go type"},
		{"a negative start", func() error { _, err := ReadRecords[packedAB](packed, -1, 1); return err }, ErrRange, "records [-1, 1) of a file of 10"},
		{"an end before the start", func() error { _, err := ReadRecords[packedAB](packed, 5, 4); return err }, ErrRange, "records [5, 4)"},
		{"past the end", func() error { _, err := ReadRecords[packedAB](packed, 0, 11); return err }, ErrRange, "records [0, 11) of a file of 10"},
		{"a file shorter than its header says", func() error { _, err := ReadRecords[packedAB](short, 0, 1); return err }, ErrFormat, "the header counts 10 records of 12 bytes"},
		{"rows of another shape", func() error { _, err := ReadRecords[[2]float32](rows, 0, 1); return err }, ErrType, "holds records of shape [3]"},
		{"not a .npy file", func() error { _, err := ReadRecords[packedAB](filepath.Join(dir), 0, 1); return err }, ErrInvalid, "not a regular file"},
	} {
		if err := c.read(); !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want %v saying %q", c.name, err, c.is, c.says)
		}
	}
	if got, err := ReadRecords[[3]float32](rows, 1, 2); err != nil || len(got) != 1 || got[0] != [3]float32{3, 4, 5} {
		t.Errorf("ReadRecords of a row: %v, %v", got, err)
	}
}

// writeRows writes an Array of 4 rows of 3 float32s at path.
func writeRows(t *testing.T, path string) {
	t.Helper()
	a := mustCreate[[3]float32](t, path)
	for i := range 4 {
		f := float32(3 * i)
		if err := a.Append([3]float32{f, f + 1, f + 2}); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, a)
}

// BenchmarkReadRecords reads 1Mi records of 12 bytes, packed (each copied
// field by field into a 16-byte Go record), beside the same number of
// records that map as they are (one read into the slice) and os.ReadFile
// of the packed file (the bytes alone, the floor), all from the page
// cache. MB/s counts the file's bytes.
func BenchmarkReadRecords(b *testing.B) {
	const n = 1 << 20
	dir := tempDir(b)
	packed := packedFile(b, dir, n)
	aligned := filepath.Join(dir, "aligned.npy")
	a := mustCreate[packedAB](b, aligned)
	for i := range n {
		if err := a.Append(packedAB{A: int32(i), B: int64(10 * i)}); err != nil {
			b.Fatal(err)
		}
	}
	mustClose(b, a)
	size := int64(len(fileBytes(b, packed)))
	b.Run("packed", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := ReadRecords[packedAB](packed, 0, n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aligned", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := ReadRecords[packedAB](aligned, 0, n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := os.ReadFile(packed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCopyStrided copies fields of every size from 1 to 20 bytes between
// records of several strides, as ReadRecords does, against a plain copy.
func TestCopyStrided(t *testing.T) {
	for size := 1; size <= 20; size++ {
		for _, strides := range [][2]int{{size, size}, {size + 3, size}, {24, 41}, {64, 20 + size}} {
			const n = 37
			dstStride, srcStride := strides[0], strides[1]
			src := make([]byte, (n-1)*srcStride+size)
			for i := range src {
				src[i] = byte(i*7 + size)
			}
			got := make([]byte, (n-1)*dstStride+size)
			want := make([]byte, len(got))
			copyStrided(got, src, size, n, dstStride, srcStride)
			for i := range n {
				copy(want[i*dstStride:i*dstStride+size], src[i*srcStride:])
			}
			if string(got) != string(want) {
				t.Fatalf("size %d, strides %v: copied %v; want %v", size, strides, got, want)
			}
		}
	}
	copyStrided(nil, nil, 8, 0, 8, 8) // nothing to copy
}
