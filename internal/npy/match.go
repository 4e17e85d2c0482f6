package npy

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/typedmmap/mmap/internal/flat"
)

// How a flat Go type and a numpy type meet: the numpy type of a flat
// layout, and the comparison of a file's type with it.

// FromLayout returns the numpy type of the flat type laid out as l, in the
// byte order order ('<' or '>'), and the shape of one record: nil for a
// number or a struct, the dimensions for an array. A field's name is its Go
// name, or the name its `npy:"name"` tag gives; blank fields are padding.
func FromLayout(l *flat.Layout, order byte) (DType, []int, error) {
	d, dims, err := fromLayout(l, order)
	return d.Merged(), dims, err
}

// fromLayout is FromLayout with the padding left as the fields lay it out,
// for FromLayout to merge once, at every level.
func fromLayout(l *flat.Layout, order byte) (DType, []int, error) {
	var dims []int
	for l.Kind == flat.Array {
		dims = append(dims, l.Len)
		l = l.Elem
	}
	if l.Kind != flat.Struct {
		return numberType(l.Kind, order), dims, nil
	}
	d := DType{Fields: make([]Field, 0, len(l.Fields))}
	names := map[string]bool{}
	for _, f := range l.Fields {
		if f.Blank() {
			d.Fields = append(d.Fields, Field{Type: voidType(f.Size)})
			continue
		}
		name := f.Name
		if tag, ok := reflect.StructTag(f.Tag).Lookup("npy"); ok && tag != "" {
			name = tag
		}
		if names[name] {
			return DType{}, nil, fmt.Errorf("two fields are named %q in numpy; rename one with an `npy:\"name\"` tag", name)
		}
		names[name] = true
		t, fdims, err := fromLayout(f.Layout, order)
		if err != nil {
			return DType{}, nil, err
		}
		d.Fields = append(d.Fields, Field{Name: name, Type: t, Shape: fdims})
	}
	return d, dims, nil
}

// numberType is the numpy type string of a flat number kind.
func numberType(k flat.Kind, order byte) DType {
	code := map[flat.Kind]byte{
		flat.Int8: 'i', flat.Int16: 'i', flat.Int32: 'i', flat.Int64: 'i',
		flat.Uint8: 'u', flat.Uint16: 'u', flat.Uint32: 'u', flat.Uint64: 'u',
		flat.Float32: 'f', flat.Float64: 'f', flat.Complex64: 'c', flat.Complex128: 'c',
	}[k]
	if k.Size() == 1 {
		order = '|'
	}
	return DType{Str: string(order) + string(code) + strconv.Itoa(k.Size())}
}

// Mismatch compares got, a file's type, with want: "" if they are the same
// type (padding merged), or the path of the first field that differs and
// how. otherOrder reports that the only difference is the byte order.
func Mismatch(got, want DType) (path, why string, otherOrder bool) {
	return mismatch(got.Merged(), want.Merged(), "")
}

func mismatch(got, want DType, path string) (string, string, bool) {
	if got.Structured() != want.Structured() {
		if got.Structured() {
			return orRecord(path), "the file has a struct, the Go type a number", false
		}
		return orRecord(path), "the file has a number, the Go type a struct", false
	}
	if !got.Structured() {
		if got.Str == want.Str {
			return "", "", false
		}
		why := fmt.Sprintf("the file has %s, the Go type %s", pyRepr(got.Str), pyRepr(want.Str))
		if note := got.Unmappable(); note != "" {
			why += " (" + note + ")"
		}
		other := got.kind() == want.kind() && got.size() == want.size() && got.order() != want.order()
		return orRecord(path), why, other
	}
	if len(got.Fields) != len(want.Fields) {
		return orRecord(path), fmt.Sprintf("the file has %d fields, the Go type %d", len(got.Fields), len(want.Fields)), false
	}
	for i, g := range got.Fields {
		w := want.Fields[i]
		fpath := strings.TrimPrefix(path+"."+w.Name, ".")
		if w.Padding() {
			fpath = strings.TrimPrefix(fmt.Sprintf("%s.(padding %d)", path, i), ".")
		}
		switch {
		case g.Name != w.Name:
			return fpath, fmt.Sprintf("field %d is named %s in the file, %s in the Go type", i, pyRepr(g.Name), pyRepr(w.Name)), false
		case !slices.Equal(g.Shape, w.Shape):
			return fpath, fmt.Sprintf("the file has shape %v, the Go type %v", g.Shape, w.Shape), false
		}
		if p, why, other := mismatch(g.Type, w.Type, fpath); p != "" {
			return p, why, other
		}
	}
	return "", "", false
}

func orRecord(path string) string {
	if path == "" {
		return "the record"
	}
	return path
}

// Unmappable says what d is if it is a plain type that no flat Go type
// maps ("a unicode string, which no flat Go type maps"), or returns "".
func (d DType) Unmappable() string {
	what := ""
	switch k, n := d.kind(), d.size(); {
	case k == 'O':
		what = "Python objects"
	case k == 'U':
		what = "a unicode string"
	case k == 'S' || k == 'a':
		what = "a byte string"
	case k == 'b' || k == '?':
		what = "numpy's bool"
	case k == 'M' || k == 'm':
		what = "a datetime"
	case k == 'f' && n == 2:
		what = "a half-precision float"
	case k == 'f' && n > 8, k == 'c' && n > 16:
		what = "an extended-precision float"
	default:
		return ""
	}
	return what + ", which no flat Go type maps"
}
