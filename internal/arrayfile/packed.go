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

// Plan returns how to copy a record of numpy type file into one of the Go
// type t (for an array type, a row of its values): the runs, adjacent ones
// joined. The two must have the same fields, named alike, of the same types
// and shapes, in the same order, at any offsets; padding does not count.
// Otherwise the refusal says where they differ (OtherType, or OtherOrder).
// What the two lay out alike, padding and all, is one run; a record that
// takes more than maxRuns runs is refused (OtherType), with the fix.
func Plan(file npy.DType, t Type) ([]Run, *Refusal) {
	elem, d := plan(file, recordOf(file, t.DType), "")
	var runs []Run
	if d.path == "" {
		n := product(t.Rows) // not 0: package flat refuses a type of size 0
		var ok bool
		if runs, ok = repeat(nil, elem, n, 0, 0, file.Itemsize(), t.Size/n); !ok {
			d = tooMany(orRecord(""), n, "values in a row")
		}
	}
	if d.path != "" {
		reason := OtherType
		if d.otherOrder {
			reason = OtherOrder
		}
		return nil, refuse(reason, "holds records of %s, which %s does not hold with other offsets: %s: %s", file, t.Name, d.path, d.why)
	}
	return runs, nil
}

// maxRuns bounds the runs that copy a record, so that no header, whatever
// shapes it gives, makes Plan take more time or memory than that many
// (1.5 MiB of them); records that need more are better saved aligned.
const maxRuns = 1 << 16

// plan returns the runs that copy an element of numpy type file, the field
// at path, into one of want: one run if they are laid out alike, or the
// first difference.
func plan(file, want npy.DType, path string) ([]Run, difference) {
	if mismatch(file.Merged(), want, path).path == "" {
		return []Run{{Size: file.Itemsize()}}, difference{}
	}
	var got, wants []leaf
	leaves(file, path, 0, &got)
	leaves(want, path, 0, &wants)
	var runs []Run
	for i := range max(len(got), len(wants)) {
		switch {
		case i >= len(got):
			return nil, difference{path: wants[i].path, why: "the Go type has it, the file does not"}
		case i >= len(wants):
			return nil, difference{path: got[i].path, why: "the file has it, the Go type does not"}
		}
		g, w := got[i], wants[i]
		switch {
		case g.path != w.path:
			return nil, difference{path: w.path, why: fmt.Sprintf("the file has field %s in its place", g.path)}
		case !slices.Equal(g.shape, w.shape):
			return nil, difference{path: w.path, why: otherShape(g.typ, g.shape, w.typ, w.shape)}
		}
		elem := []Run{{Size: g.typ.Itemsize()}}
		if g.typ.Structured() && w.typ.Structured() {
			var d difference
			if elem, d = plan(g.typ, w.typ, g.path+"[i]"); d.path != "" {
				return nil, d
			}
		} else if d := mismatch(g.typ, w.typ, w.path); d.path != "" {
			return nil, d
		}
		var ok bool
		n := product(g.shape)
		if runs, ok = repeat(runs, elem, n, g.off, w.off, g.typ.Itemsize(), w.typ.Itemsize()); !ok {
			return nil, tooMany(g.path, n, "structs")
		}
	}
	return runs, difference{}
}

// tooMany is the difference of n elements, what, at path, laid out
// otherwise in the two, whose copy would take more than maxRuns runs.
func tooMany(path string, n int, what string) difference {
	return difference{path: path, why: fmt.Sprintf("its %d %s lie at other offsets in the file than in the Go type, and a record would take more than %d runs of bytes to copy; %s", n, what, maxRuns, alignTrue)}
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

// repeat appends to runs those of n elements, each copied by elem, side by
// side from offset file of a record in the file and goOff in Go, fileSize
// and goSize bytes apart: one run if elem copies an element whole. It
// reports false, appending nothing, if runs would have more than maxRuns.
func repeat(runs, elem []Run, n, file, goOff, fileSize, goSize int) ([]Run, bool) {
	switch {
	case len(elem) == 0:
		return runs, true
	case len(elem) == 1 && elem[0] == Run{Size: fileSize} && fileSize == goSize:
		return appendRun(runs, Run{File: file, Go: goOff, Size: n * fileSize}), true
	case n > (maxRuns-len(runs))/len(elem):
		return runs, false
	}
	for k := range n {
		for _, r := range elem {
			runs = appendRun(runs, Run{File: file + k*fileSize + r.File, Go: goOff + k*goSize + r.Go, Size: r.Size})
		}
	}
	return runs, true
}

// leaf is a field of a record that is not padding and not a struct of
// fields itself, at offset off; a subarray of structs is one leaf, of the
// struct's type and the subarray's shape.
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
		switch {
		case f.Padding():
		case f.Type.Structured() && len(f.Shape) == 0:
			leaves(f.Type, fpath, off, out)
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
