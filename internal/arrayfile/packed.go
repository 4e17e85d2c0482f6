package arrayfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/typedmmap/mmap/internal/npy"
)

// Records that a Go type holds with other offsets than the file's: numpy's
// packed records (np.dtype without align=True), which put fields where
// their Go types cannot be. They cannot be mapped; they can be copied,
// field by field, into the Go type's layout.

// Run is one stretch of bytes that a copy moves from a file's record to a
// Go record: Size bytes from offset File of the one to offset Go of the
// other.
type Run struct{ File, Go, Size int }

// Plan returns how to copy an element of numpy type file into one of the
// Go type t (a record, or for an array type, one of its values): the runs,
// adjacent ones joined. The two must have the
// same fields, named alike, of the same types and shapes, in the same
// order, at any offsets; padding does not count. Otherwise the refusal
// says where they differ (OtherType, or OtherOrder).
func Plan(file npy.DType, t Type) ([]Run, *Refusal) {
	var got, want []leaf
	leaves(file, "", 0, &got)
	leaves(recordOf(file, t.DType), "", 0, &want)
	for i := range max(len(got), len(want)) {
		var d difference
		switch {
		case i >= len(got):
			d = difference{path: want[i].path, why: "the Go type has it, the file does not"}
		case i >= len(want):
			d = difference{path: got[i].path, why: "the file has it, the Go type does not"}
		case got[i].path != want[i].path:
			d = difference{path: want[i].path, why: fmt.Sprintf("the file has field %s in its place", got[i].path)}
		case !slices.Equal(got[i].shape, want[i].shape):
			d = difference{path: want[i].path, why: otherShape(got[i].typ, got[i].shape, want[i].typ, want[i].shape)}
		default:
			d = mismatch(got[i].typ, want[i].typ, want[i].path)
		}
		if d.path != "" {
			reason := OtherType
			if d.otherOrder {
				reason = OtherOrder
			}
			return nil, refuse(reason, "holds records of %s, which %s does not hold with other offsets: %s: %s", file, t.Name, d.path, d.why)
		}
	}
	var runs []Run
	for i, g := range got {
		runs = appendRun(runs, Run{File: g.off, Go: want[i].off, Size: g.typ.Itemsize() * product(g.shape)})
	}
	return runs, nil
}

// appendRun appends r to runs, joined to the last one if it follows it in
// both records.
func appendRun(runs []Run, r Run) []Run {
	if n := len(runs) - 1; n >= 0 && runs[n].File+runs[n].Size == r.File && runs[n].Go+runs[n].Size == r.Go {
		runs[n].Size += r.Size
		return runs
	}
	return append(runs, r)
}

// repeat returns the runs of a record of n elements, each copied by runs,
// fileSize bytes apart in the file and goSize apart in Go.
func repeat(runs []Run, n, fileSize, goSize int) []Run {
	var out []Run
	for k := range n {
		for _, r := range runs {
			out = appendRun(out, Run{File: r.File + k*fileSize, Go: r.Go + k*goSize, Size: r.Size})
		}
	}
	return out
}

// maxElems bounds the elements of a subarray of structs whose fields are
// copied one by one; a larger one is one leaf, copied whole, which the two
// records must lay out alike.
const maxElems = 1 << 12

// leaf is a field of a record that is not padding and not a struct of
// fields itself, at offset off. The structs of a subarray are leaves each,
// up to maxElems of them.
type leaf struct {
	path  string
	typ   npy.DType
	shape []int
	off   int
}

// leaves appends the leaves of d, at offset off of a record, to out.
func leaves(d npy.DType, path string, off int, out *[]leaf) {
	if !d.Structured() {
		*out = append(*out, leaf{path: orRecord(path), typ: d, off: off})
		return
	}
	for _, f := range d.Fields {
		fpath := strings.TrimPrefix(path+"."+f.Name, ".")
		n := product(f.Shape)
		switch {
		case f.Padding():
		case f.Type.Structured() && len(f.Shape) == 0:
			leaves(f.Type, fpath, off, out)
		case f.Type.Structured() && n <= maxElems:
			for k := range n {
				leaves(f.Type, fmt.Sprintf("%s[%d]", fpath, k), off+k*f.Type.Itemsize(), out)
			}
		default:
			*out = append(*out, leaf{path: fpath, typ: f.Type.Merged(), shape: f.Shape, off: off})
		}
		off += f.Type.Itemsize() * product(f.Shape)
	}
}

func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// Aligned is numpy's type d as np.dtype(d, align=True) lays it out: every
// field at a multiple of its alignment, padding before it where needed,
// and each struct padded to a multiple of its largest alignment, as a Go
// struct is.
func Aligned(d npy.DType) npy.DType {
	a, _ := aligned(d)
	return a.Merged()
}

// aligned is Aligned, and the alignment of the result.
func aligned(d npy.DType) (npy.DType, int) {
	if !d.Structured() {
		_, kind, size := d.Parts()
		switch kind {
		case 'c':
			return d, max(size/2, 1)
		case 'S', 'a', 'V', 'b', '?':
			return d, 1
		case 'U':
			return d, 4
		}
		return d, max(min(size, 8), 1)
	}
	out := npy.DType{Fields: []npy.Field{}}
	at, align := 0, 1
	for _, f := range d.Fields {
		if f.Padding() {
			continue
		}
		t, a := aligned(f.Type)
		if pad := (at+a-1)/a*a - at; pad > 0 {
			out.Fields = append(out.Fields, npy.Field{Type: npy.Void(pad)})
			at += pad
		}
		out.Fields = append(out.Fields, npy.Field{Name: f.Name, Type: t, Shape: f.Shape})
		at += t.Itemsize() * product(f.Shape)
		align = max(align, a)
	}
	if pad := (at+align-1)/align*align - at; pad > 0 {
		out.Fields = append(out.Fields, npy.Field{Type: npy.Void(pad)})
	}
	return out, align
}
