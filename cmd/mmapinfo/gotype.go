package main

import (
	"fmt"
	"go/token"
	"strconv"
	"strings"

	"github.com/typedmmap/mmap/internal/flat"
	"github.com/typedmmap/mmap/internal/npy"
)

// A file's records as a Go program maps them: recordType builds, from a
// header, the flat type whose Array would hold the records, and asks the
// library's own rules (packages flat and npy) whether it exists: whether it
// is flat, and whether the numpy type it stands for is the file's.

// goType is a Go type built from a numpy type, as package flat sees it.
type goType struct {
	kind   flat.Kind
	len    int     // Array
	elem   *goType // Array
	fields []flat.Field
}

func (t *goType) Kind() flat.Kind        { return t.kind }
func (t *goType) Elem() flat.Type        { return t.elem }
func (t *goType) Len() int               { return t.len }
func (t *goType) NumField() int          { return len(t.fields) }
func (t *goType) Field(i int) flat.Field { return t.fields[i] }

// String spells the type in Go: "[3]float32", "struct { ID int64; _ [4]byte }".
func (t *goType) String() string {
	switch t.kind {
	case flat.Array:
		return "[" + strconv.Itoa(t.len) + "]" + t.elem.String()
	case flat.Struct:
		parts := make([]string, len(t.fields))
		for i, f := range t.fields {
			parts[i] = f.Name + " " + f.Type.String()
			if f.Name == "_" {
				parts[i] = "_ [" + strconv.Itoa(f.Type.Len()) + "]byte"
			}
			if f.Tag != "" {
				parts[i] += " `" + f.Tag + "`"
			}
		}
		return "struct { " + strings.Join(parts, "; ") + " }"
	}
	return t.kind.String()
}

// numberKinds maps the type strings of flat numbers, in either byte order
// or the native one ('='), to their kinds, as npy.FromLayout writes them.
// Open refuses all but this host's order with ErrByteOrder, not ErrType.
var numberKinds = func() map[string]flat.Kind {
	m := map[string]flat.Kind{}
	for k := flat.Invalid; k <= flat.Interface; k++ {
		if !k.Number() {
			continue
		}
		for _, order := range []byte{'<', '>', '='} {
			if d, _, err := npy.FromLayout(&flat.Layout{Kind: k, Size: k.Size()}, order); err == nil {
				m[d.Str] = k
			}
		}
	}
	return m
}()

// typeProblem says why no Go type maps a file's records.
type typeProblem struct {
	byteOrder bool   // the only difference is the byte order: Open fails with ErrByteOrder
	msg       string // the field at fault and why
}

// recordType returns the flat type that holds one record of a file with
// header h, a record of size bytes (-1 if that overflows), or why there is
// none. A file in the other byte order has one, and a problem: Open
// refuses it on this host.
func recordType(h *npy.Header, size int64) (*goType, *typeProblem) {
	t, p := fromDType(h.DType, "")
	if p != nil {
		return nil, p
	}
	if size < 0 || size != int64(int(size)) {
		return nil, &typeProblem{msg: "a record is too large for a Go type: its size in bytes overflows"}
	}
	for i := len(h.Shape) - 1; i >= 1; i-- {
		if h.Shape[i] != int64(int(h.Shape[i])) {
			return nil, &typeProblem{msg: fmt.Sprintf("records of shape %v are too large for a Go array", h.Shape[1:])}
		}
		t = &goType{kind: flat.Array, len: int(h.Shape[i]), elem: t}
	}
	l, ferr := flat.Check(t)
	if ferr != nil {
		// The fix flat proposes is for a Go type; the file's layout is fixed.
		why, _, _ := strings.Cut(ferr.Problem, "; ")
		return nil, &typeProblem{msg: "no flat Go type lays the fields out as the file does: " + why}
	}
	want, _, err := npy.FromLayout(l, npy.HostOrder)
	if err != nil {
		return nil, &typeProblem{msg: err.Error()}
	}
	if path, why, other := npy.Mismatch(h.DType, want); path != "" {
		p := &typeProblem{byteOrder: other, msg: path + ": " + why}
		if !other {
			return nil, p
		}
		return t, p
	}
	return t, nil
}

// fromDType returns the Go type of numpy type d, the type of the field at
// path ("" for the record).
func fromDType(d npy.DType, path string) (*goType, *typeProblem) {
	if !d.Structured() {
		if k, ok := numberKinds[d.Str]; ok {
			return &goType{kind: k}, nil
		}
		why := d.Unmappable()
		if why == "" {
			why = "a numpy type that no flat Go type maps"
		}
		return nil, &typeProblem{msg: fmt.Sprintf("%s%s is %s", inField(path), strconv.Quote(d.Str), why)}
	}
	t := &goType{kind: flat.Struct}
	used := map[string]bool{}
	for i, f := range d.Fields {
		if f.Padding() {
			pad := &goType{kind: flat.Array, len: f.Type.Itemsize(), elem: &goType{kind: flat.Uint8}}
			t.fields = append(t.fields, flat.Field{Name: "_", Type: pad})
			continue
		}
		if f.Name == "" {
			return nil, &typeProblem{msg: fmt.Sprintf("%sfield %d has no name, which no Go field has", inField(path), i)}
		}
		fpath := strings.TrimPrefix(path+"."+f.Name, ".")
		ft, p := fromDType(f.Type, fpath+strings.Repeat("[i]", len(f.Shape)))
		if p != nil {
			return nil, p
		}
		for j := len(f.Shape) - 1; j >= 0; j-- {
			ft = &goType{kind: flat.Array, len: f.Shape[j], elem: ft}
		}
		name, tag := goName(f.Name, i, used)
		used[name] = true
		t.fields = append(t.fields, flat.Field{Name: name, Tag: tag, Type: ft})
	}
	return t, nil
}

// goName is the name of a Go field for numpy field name, field i of its
// struct, whose fields before it have the Go names used: the same, or F<i>
// (with as many _ after it as make it new) with an npy tag that gives the
// numpy name.
func goName(name string, i int, used map[string]bool) (string, string) {
	if token.IsIdentifier(name) && name != "_" && !used[name] {
		return name, ""
	}
	g := "F" + strconv.Itoa(i)
	for used[g] {
		g += "_"
	}
	return g, "npy:" + strconv.Quote(name)
}

func inField(path string) string {
	if path == "" {
		return ""
	}
	return "field " + path + ": "
}
