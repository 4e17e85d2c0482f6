package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/boot"
	"github.com/typedmmap/mmap/internal/fileid"
	"github.com/typedmmap/mmap/internal/npy"
)

// Files for the tests, written by hand with package npy as the library
// writes them, and damaged as a crash, another program or the disk would.
//
// The .npy files in testdata were written by numpy 1.24:
//
//	structured.npy      np.save of 3 records of [('id','<u4'), ('pos', [('x','<f4'),('y','<f4')], (2,)),
//	                    ('name','S5'), ('label','<U3'), ('ok','?'), ('when','<M8[s]')]
//	fortran.npy         np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3))
//	scalar.npy          np.float64(3.5)
//	objects.npy         np.array([1, 'a', None], dtype=object), allow_pickle=True
//	big-endian.npy      np.arange(4, dtype='>i4')
//	special-floats.npy  [('h','<f2'),('c','<c8')]: 0.1, nan, inf, -inf; 1+2j, nan-infj, 0, -1.5j
//	matrix.npy          np.arange(6, dtype='<f4').reshape(3, 2) / 4
//
// and the repository's testdata/little-endian.npy holds 5 records of
// [('I', '<u8'), ('Gen', '<u4'), ('', '|V4'), ('Sum', '<u8')].

// f8 is float64 in this host's byte order, the records of most tests.
var f8 = npy.DType{Str: string(npy.HostOrder) + "f8"}

// header returns the header numpy writes for count records of d.
func header(t *testing.T, d npy.DType, rows []int, count int64) []byte {
	t.Helper()
	h, err := npy.Build(d, rows, count)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// floats returns n float64 records, 0, 1.5, 3, …, in this host's order.
func floats(n int) []byte {
	b := make([]byte, 8*n)
	for i := range n {
		binary.NativeEndian.PutUint64(b[8*i:], math.Float64bits(float64(i)*1.5))
	}
	return b
}

// tempDir returns a new directory that is removed when the test ends. Unlike
// t.TempDir, it removes entries one by one with os.Remove, which works under
// Wine.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mmapinfo-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Error(err)
		}
		for _, e := range entries {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Errorf("cleanup: %v (a file still open?)", err)
			}
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

// writeFile writes the concatenation of parts to a new file in a new
// directory and returns its path.
func writeFile(t *testing.T, parts ...[]byte) string {
	t.Helper()
	path := filepath.Join(tempDir(t), "data.npy")
	if err := os.WriteFile(path, bytes.Join(parts, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// identity returns the file's identity, which a sidecar records.
func identity(t *testing.T, path string) (dev, ino uint64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, err := fileid.Stat(f)
	if err != nil {
		t.Skipf("no file identity on this platform: %v", err)
	}
	return id.Dev, id.Ino
}

// sidecar is a sidecar to write next to a file.
type sidecar struct {
	slots  [2]arrayfile.Slot // a slot with no header stays empty
	stale  bool              // record another file's identity
	damage func(b []byte, c arrayfile.Control)
}

// write writes the sidecar of the file at path.
func (s sidecar) write(t *testing.T, path string) {
	t.Helper()
	dev, ino := identity(t, path)
	if s.stale {
		ino++
	}
	hlen := max(len(s.slots[0].Header), len(s.slots[1].Header))
	c := arrayfile.Control{Dev: dev, Ino: ino, SlotSize: arrayfile.SlotSize(hlen)}
	b := make([]byte, arrayfile.SidecarSize(c.SlotSize))
	arrayfile.PutControl(b, c)
	for i, slot := range s.slots {
		if slot.Header != nil {
			arrayfile.PutSlot(b[c.SlotOffset(i):], slot)
		}
	}
	// The live area of a writer of this boot; a damaged sidecar is what a
	// crash of the machine leaves, and its live area is of an earlier boot.
	live := arrayfile.Live{Count: max(s.slots[0].Count, s.slots[1].Count), Boot: boot.ID()}
	if s.damage != nil {
		live.Boot[0]++
	}
	arrayfile.PutLive(b, live, binary.NativeEndian)
	if s.damage != nil {
		s.damage(b, c)
	}
	if err := os.WriteFile(path+".meta", b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// longHeaders returns the headers of 999 and 1000 records of a type with
// many fields, whose count straddles the first 512-byte sector: a write of
// the second torn between the sectors leaves neither count. mixed is that
// torn header.
func longHeaders(t *testing.T) (d npy.DType, old, cur, mixed []byte) {
	t.Helper()
	d = npy.DType{Fields: []npy.Field{{Name: "a", Type: f8}}}
	for i := range 20 {
		d.Fields = append(d.Fields, npy.Field{Name: "field" + string(rune('A'+i)), Type: f8})
	}
	for range 512 {
		cur = header(t, d, nil, 1000)
		if at := bytes.Index(cur, []byte("'shape': (")) + len("'shape': ("); at == 510 {
			old = header(t, d, nil, 999)
			mixed = append(bytes.Clone(cur[:512]), old[512:]...)
			return d, old, cur, mixed
		}
		d.Fields[0].Name += "a"
	}
	t.Fatal("no field name puts the count across the sector boundary")
	return
}

// damageSlot flips a byte of slot i's header, as a torn write would.
func damageSlot(i int) func([]byte, arrayfile.Control) {
	return func(b []byte, c arrayfile.Control) { b[c.SlotOffset(i)+40] ^= 0xff }
}

// bigHeader is a header of version 2.0 that claims more than numpy reads.
func bigHeader() []byte {
	b := []byte(npy.Magic + "\x02\x00")
	b = binary.LittleEndian.AppendUint32(b, npy.MaxHeaderLen+1)
	return append(b, strings.Repeat(" ", 64)...)
}

// tightHeader is a header of version 1.0 with the dict as it is, padded to
// 64 bytes: as an older numpy, or another program, writes it, with little
// room for the count to grow.
func tightHeader(dict string) []byte {
	b := []byte(npy.Magic + "\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, 64-10)
	return append(b, dict+strings.Repeat(" ", 64-10-1-len(dict))+"\n"...)
}
