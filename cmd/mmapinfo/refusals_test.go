package main

import (
	"errors"
	"slices"
	"testing"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// refusalFiles make, for each reason that is a fact of the file, a file
// that Open refuses for it, and return its path and Open's error for the
// Go type that would hold the records. TestEveryRefusal fails for a reason
// that has none.
var refusalFiles = map[arrayfile.Reason]func(t *testing.T) (string, error){
	arrayfile.NotNPY: func(t *testing.T) (string, error) {
		path := writeFile(t, []byte("not a .npy file at all"))
		return path, openErr[float64](path)
	},
	arrayfile.BadSlot: func(t *testing.T) (string, error) {
		hdr := header(t, f8, nil, 2)
		path := writeFile(t, hdr, floats(2))
		sidecar{slots: [2]arrayfile.Slot{{Seq: 1, Count: 3, Header: hdr}}}.write(t, path)
		return path, openErr[float64](path)
	},
	arrayfile.NoGoType: func(t *testing.T) (string, error) {
		path := writeFile(t, header(t, npy.DType{Str: "|O"}, nil, 2), make([]byte, 16))
		return path, openErr[uint64](path)
	},
	arrayfile.OtherOrder: func(t *testing.T) (string, error) {
		other := npy.DType{Str: string(rune('<'+'>'-npy.HostOrder)) + "f8"}
		path := writeFile(t, header(t, other, nil, 2), floats(2))
		return path, openErr[float64](path)
	},
	arrayfile.FortranOrder: func(t *testing.T) (string, error) {
		path := writeFile(t, tightHeader("{'descr':'"+f8.Str+"','fortran_order':True,'shape':(2,3)}"), floats(6))
		return path, openErr[[3]float64](path)
	},
	arrayfile.ZeroDim: func(t *testing.T) (string, error) {
		path := writeFile(t, tightHeader("{'descr':'"+f8.Str+"','fortran_order':False,'shape':()}"), floats(1))
		return path, openErr[float64](path)
	},
	arrayfile.Misaligned: func(t *testing.T) (string, error) {
		dict := "{'descr':'" + f8.Str + "','fortran_order':False,'shape':(2,)}"
		b := []byte(npy.Magic + "\x01\x00")
		b = append(b, byte(len(dict)+1), 0)
		b = append(b, dict+"\n"...)
		path := writeFile(t, b, floats(2))
		return path, openErr[float64](path)
	},
	arrayfile.TooShort: func(t *testing.T) (string, error) {
		path := writeFile(t, header(t, f8, nil, 10), floats(2))
		return path, openErr[float64](path)
	},
}

// libraryErrors are the library's errors by the names mmapinfo gives them.
var libraryErrors = map[string]error{
	"ErrFormat": mmap.ErrFormat, "ErrType": mmap.ErrType, "ErrByteOrder": mmap.ErrByteOrder, "ErrAlignment": mmap.ErrAlignment,
}

// openErr returns the error of Open[T] of the file at path, read-only.
func openErr[T any](path string) error {
	a, err := mmap.Open[T](path, mmap.RDONLY)
	if err == nil {
		a.Close()
	}
	return err
}

// TestEveryRefusal takes every reason that package arrayfile gives for
// refusing a file, from the package itself: for each that is a fact of the
// file, Open must refuse a file for that reason, and mmapinfo must report
// it as Open does, with the same error and the same message.
func TestEveryRefusal(t *testing.T) {
	for _, reason := range arrayfile.Reasons() {
		if !reason.OfFile() {
			continue
		}
		t.Run(reason.String(), func(t *testing.T) {
			make, ok := refusalFiles[reason]
			if !ok {
				t.Fatalf("no file for the reason %q: add one to refusalFiles", reason)
			}
			path, err := make(t)
			var r *arrayfile.Refusal
			if !errors.As(err, &r) || r.Reason != reason {
				t.Fatalf("Open: got %v; want a refusal for %q", err, reason)
			}
			kind := reason.Kind().String()
			if !errors.Is(err, libraryErrors[kind]) {
				t.Errorf("Open: %v does not wrap mmap.%s", err, kind)
			}
			v := reportOf(t, path).Verdict
			if v.OpenError != kind || !slices.Contains(v.Problems, r.Msg) {
				t.Errorf("mmapinfo says %s, %q; want %s and Open's message %q", v.OpenError, v.Problems, kind, r.Msg)
			}
		})
	}
}
