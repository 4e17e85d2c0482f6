package mmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// handMadeNPY returns a .npy file of version 1.0 whose records, two of the
// numpy type descr, start at offset dataOffset: the dict, written without
// spaces, then spaces to that length, and a newline. ok is false where the
// dict does not fit.
func handMadeNPY(descr string, dataOffset int, data []byte) (b []byte, ok bool) {
	dict := fmt.Sprintf("{'descr':'%s','fortran_order':False,'shape':(2,)}", descr)
	n := dataOffset - 10 // HEADER_LEN
	if n < len(dict)+1 {
		return nil, false
	}
	b = append([]byte(npy.Magic), 1, 0, byte(n), byte(n>>8))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", n-len(dict)-1)...)
	b = append(b, '\n')
	return append(b, data...), true
}

// TestArrayDataOffsets opens hand-made .npy files whose records start at
// every offset from 10 to 140 bytes, as types of alignment 1, 2, 4 and 8:
// where the offset is aligned for the type, Open maps the records; where it
// is not, Open refuses with ErrAlignment naming the file, the offset and
// the fix, and never hands out misaligned records; where the dict does not
// fit, the file is not a .npy file (ErrFormat).
func TestArrayDataOffsets(t *testing.T) {
	dir := tempDir(t)
	for _, c := range []struct {
		descr string
		align int
		open  func(path string, prot int) ([2]uint64, error)
	}{
		{"|u1", 1, openTwo[uint8]},
		{"<u2", 2, openTwo[uint16]},
		{"<u4", 4, openTwo[uint32]},
		{"<u8", 8, openTwo[uint64]},
	} {
		for off := 10; off <= 140; off++ {
			data := make([]byte, 2*c.align)
			putUint(data[:c.align], 1)
			putUint(data[c.align:], 2)
			b, fits := handMadeNPY(strings.Replace(c.descr, "<", string(rune(npy.HostOrder)), 1), off, data)
			if !fits {
				b, _ = handMadeNPY(c.descr, 140, nil)
				b = b[:off]
			}
			path := filepath.Join(dir, fmt.Sprintf("a%d-%d.npy", c.align, off))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, prot := range []int{RDONLY, RDWR} {
				got, err := c.open(path, prot)
				switch {
				case !fits:
					if !errors.Is(err, ErrFormat) {
						t.Errorf("%s, header of %d bytes, too short for its dict, prot %d: got %v; want ErrFormat", c.descr, off, prot, err)
					}
				case off%c.align != 0:
					want := fmt.Sprintf("mmap: %s: the records start at offset %d, which is", path, off)
					if !errors.Is(err, ErrAlignment) || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "numpy.save") {
						t.Errorf("%s at offset %d, prot %d: got %v; want ErrAlignment, saying %q and the fix", c.descr, off, prot, err, want)
					}
				case err != nil || got != [2]uint64{1, 2}:
					t.Errorf("%s at offset %d, prot %d: got %v, %v; want records 1 and 2", c.descr, off, prot, got, err)
				}
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// putUint writes v into b, a number of len(b) bytes, in the host's order.
func putUint(b []byte, v uint64) {
	var w [8]byte
	binary.NativeEndian.PutUint64(w[:], v)
	if npy.HostOrder == '<' {
		copy(b, w[:len(b)])
	} else {
		copy(b, w[8-len(b):])
	}
}

// openTwo opens the array at path as T and returns its two records, after
// checking that the records are aligned for T.
func openTwo[T uint8 | uint16 | uint32 | uint64](path string, prot int) ([2]uint64, error) {
	a, err := Open[T](path, prot)
	if err != nil {
		return [2]uint64{}, err
	}
	defer a.Close()
	items := a.Items()
	if len(items) != 2 {
		return [2]uint64{}, fmt.Errorf("%d records", len(items))
	}
	if _, err := View[T](items.Bytes()); err != nil {
		return [2]uint64{}, fmt.Errorf("the records are not a valid view: %w", err)
	}
	return [2]uint64{uint64(items[0]), uint64(items[1])}, nil
}

// TestArrayRefusalsForTheType opens a file as types it does not hold: the
// refusals that depend on the Go type asked for (cmd/mmapinfo's tests take
// the facts of the file), each as package arrayfile gives it, in the
// error's chain.
func TestArrayRefusalsForTheType(t *testing.T) {
	path := arrayPath(t)
	a := mustCreate[[3]float64](t, path)
	if err := a.Append([3]float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	mustClose(t, a)
	for _, c := range []struct {
		err    error
		reason arrayfile.Reason
	}{
		{errOf(Open[[3]float32](path, RDONLY)), arrayfile.OtherType},
		{errOf(Open[[4]float64](path, RDONLY)), arrayfile.OtherRows},
		{errOf(Open[float64](path, RDONLY)), arrayfile.OtherRows},
	} {
		var r *arrayfile.Refusal
		if !errors.As(c.err, &r) || r.Reason != c.reason || !errors.Is(c.err, ErrType) || c.err.Error() != "mmap: "+path+": "+r.Msg {
			t.Errorf("got %v; want ErrType, a refusal for %q, and its message", c.err, c.reason)
		}
	}
	for _, reason := range arrayfile.Reasons() {
		if !reason.OfFile() && reason != arrayfile.OtherType && reason != arrayfile.OtherRows {
			t.Errorf("a refusal for the type, %q, that this test does not try", reason)
		}
	}
}
