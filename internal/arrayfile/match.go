package arrayfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/typedmmap/mmap/internal/flat"
	"github.com/typedmmap/mmap/internal/npy"
)

// How a flat Go type and a numpy type meet: the numpy type of a flat
// layout, and the comparison of a file's type with it.

// Type is a flat Go type as an array file holds records of it.
type Type struct {
	Name  string    // the Go type, as Go prints it
	DType npy.DType // its numpy type, in this host's byte order, padding merged
	Rows  []int     // the shape of one record: nil, or an array type's dimensions
	Size  int       // the size of a record in bytes
	Align int       // its natural alignment (flat.Layout's), the same on every target
}

// TypeOf returns the numpy type of the flat type laid out as l, named name,
// in this host's byte order. It fails when numpy could not tell two of its
// fields apart.
func TypeOf(l *flat.Layout, name string) (Type, error) {
	d, rows, err := FromLayout(l, npy.HostOrder)
	if err != nil {
		return Type{}, fmt.Errorf("%s: %v", name, err)
	}
	return Type{Name: name, DType: d, Rows: rows, Size: l.Size, Align: l.Align}, nil
}

// FromLayout returns the numpy type of the flat type laid out as l, in the
// byte order order ('<' or '>'), and the shape of one record: nil for a
// number or a struct, the dimensions for an array. A field's name is its Go
// name, or the name its `npy:"name"` tag gives; blank fields are padding.
func FromLayout(l *flat.Layout, order byte) (npy.DType, []int, error) {
	d, dims, err := fromLayout(l, order)
	return d.Merged(), dims, err
}

// fromLayout is FromLayout with the padding left as the fields lay it out,
// for FromLayout to merge once, at every level.
func fromLayout(l *flat.Layout, order byte) (npy.DType, []int, error) {
	var dims []int
	for l.Kind == flat.Array {
		dims = append(dims, l.Len)
		l = l.Elem
	}
	if l.Kind != flat.Struct {
		return numberType(l.Kind, order), dims, nil
	}
	d := npy.DType{Fields: make([]npy.Field, 0, len(l.Fields))}
	names := map[string]bool{}
	for _, f := range l.Fields {
		if f.Blank() {
			d.Fields = append(d.Fields, npy.Field{Type: npy.Void(f.Size)})
			continue
		}
		name, as := flat.NumpyTag(f.Tag)
		if name == "" {
			name = f.Name
		}
		if names[name] {
			return npy.DType{}, nil, fmt.Errorf("two fields are named %q in numpy; rename one with an `npy:\"name\"` tag", name)
		}
		names[name] = true
		t, fdims, err := fromLayout(f.Layout, order)
		if err != nil {
			return npy.DType{}, nil, err
		}
		if as != "" {
			t, fdims = asType(as, f.Layout, order)
		}
		d.Fields = append(d.Fields, npy.Field{Name: name, Type: t, Shape: fdims})
	}
	return d, dims, nil
}

// asType is the numpy type that a field laid out as l asks for in its tag,
// as, which package flat has checked against l, and the field's shape:
// "M8[ns]" on an int64 is '<M8[ns]', "S" on a [8]byte is '|S8' (no shape).
func asType(as string, l *flat.Layout, order byte) (npy.DType, []int) {
	switch as {
	case "?":
		return npy.DType{Str: "|b1"}, nil
	case "S":
		return npy.DType{Str: "|S" + strconv.Itoa(l.Len)}, nil
	case "U":
		return npy.DType{Str: string(order) + "U" + strconv.Itoa(l.Len)}, nil
	}
	return npy.DType{Str: string(order) + as}, nil
}

// numberType is the numpy type string of a flat number kind.
func numberType(k flat.Kind, order byte) npy.DType {
	code := map[flat.Kind]byte{
		flat.Int8: 'i', flat.Int16: 'i', flat.Int32: 'i', flat.Int64: 'i',
		flat.Uint8: 'u', flat.Uint16: 'u', flat.Uint32: 'u', flat.Uint64: 'u',
		flat.Float32: 'f', flat.Float64: 'f', flat.Complex64: 'c', flat.Complex128: 'c',
	}[k]
	if k.Size() == 1 {
		order = '|'
	}
	return npy.DType{Str: string(order) + string(code) + strconv.Itoa(k.Size())}
}

// A difference between a file's type and a Go type's, as Mismatch finds it.
type difference struct {
	path       string // the field that differs, or "the record"
	why        string // how
	otherOrder bool   // the only difference is the byte order
}

// mismatch compares got, a file's type, with want, both with their padding
// merged, at the field path: no difference if they are the same type, or
// the first field that differs and how.
func mismatch(got, want npy.DType, path string) difference {
	if got.Structured() != want.Structured() {
		if got.Structured() {
			return difference{path: orRecord(path), why: "the file has a struct, the Go type a number"}
		}
		return difference{path: orRecord(path), why: "the file has a number, the Go type a struct"}
	}
	if !got.Structured() {
		if sameNumber(got, want) {
			return difference{}
		}
		why := fmt.Sprintf("the file has %s, the Go type %s", npy.Quote(got.Str), npy.Quote(want.Str))
		if note := Unmappable(got); note != "" {
			why += " (" + note + ")"
		}
		gOrder, gKind, gSize := got.Parts()
		wOrder, wKind, wSize := want.Parts()
		other := gKind == wKind && gSize == wSize && gOrder != wOrder
		return difference{path: orRecord(path), why: why, otherOrder: other}
	}
	if len(got.Fields) != len(want.Fields) {
		return difference{path: orRecord(path), why: fmt.Sprintf("the file has %d fields, the Go type %d", len(got.Fields), len(want.Fields))}
	}
	for i, g := range got.Fields {
		w := want.Fields[i]
		fpath := strings.TrimPrefix(path+"."+w.Name, ".")
		if w.Padding() {
			fpath = strings.TrimPrefix(fmt.Sprintf("%s.(padding %d)", path, i), ".")
		}
		switch {
		case g.Name != w.Name && g.Name != "" && !w.Padding():
			return difference{path: fpath, why: fmt.Sprintf("field %d is named %s in the file, %s in the Go type; give the Go field the file's name with a tag, `npy:%s`", i, npy.Quote(g.Name), npy.Quote(w.Name), strconv.Quote(g.Name))}
		case g.Name != w.Name:
			return difference{path: fpath, why: fmt.Sprintf("field %d is named %s in the file, %s in the Go type", i, npy.Quote(g.Name), npy.Quote(w.Name))}
		case !slices.Equal(g.Shape, w.Shape):
			return difference{path: fpath, why: otherShape(g.Type, g.Shape, w.Type, w.Shape)}
		}
		if d := mismatch(g.Type, w.Type, fpath); d.path != "" {
			return d
		}
	}
	return difference{}
}

// recordOf is want, the numpy type of a Go record, as it holds records of
// the numpy type file: a struct of one field whose tag asks for a plain
// type (AsOf) holds a plain file of that type, as numpy saves a column's
// values, whatever the field's name, for its bytes are the field's, and no
// other Go type holds them. Any other want is itself.
func recordOf(file, want npy.DType) npy.DType {
	if file.Structured() || len(want.Fields) != 1 || want.Fields[0].Shape != nil {
		return want
	}
	if as, _ := AsOf(want.Fields[0].Type); as == "" {
		return want
	}
	return want.Fields[0].Type
}

// otherShape says how a field of numpy type got in shape gotShape differs
// from a Go field of numpy type want in shape wantShape, and how to ask for
// the file's string when the Go field holds it untagged: a [n]byte for
// 'S<n>', a [n]rune, [n]int32 or [n]uint32 for 'U<n>'.
func otherShape(got npy.DType, gotShape []int, want npy.DType, wantShape []int) string {
	why := fmt.Sprintf("the file has shape %v, the Go type %v", gotShape, wantShape)
	as, _ := AsOf(got)
	_, _, n := got.Parts()
	_, kind, size := want.Parts()
	holds := false // whether the Go field's elements are the string's
	switch as {
	case "S":
		holds = kind == 'u' && size == 1
	case "U":
		holds = (kind == 'i' || kind == 'u') && size == 4
	}
	if holds && gotShape == nil && slices.Equal(wantShape, []int{n}) {
		why += " (" + Unmappable(got) + ")"
	}
	return why
}

// sameNumber reports whether got and want, plain types, are the same as
// numpy reads them: a size with leading zeros ('|V02') is the size ('|V2'),
// and a type of single bytes has no byte order ('<V2' is '|V2').
func sameNumber(got, want npy.DType) bool {
	if got.Str == want.Str {
		return true
	}
	gOrder, gKind, gSize := got.Parts()
	wOrder, wKind, wSize := want.Parts()
	bytewise := strings.IndexByte("VSab?", gKind) >= 0 || (gKind == 'i' || gKind == 'u') && gSize == 1
	return gSize > 0 && (gOrder == wOrder || bytewise) && gKind == wKind && gSize == wSize && unitOf(got.Str) == unitOf(want.Str)
}

// unitOf returns the unit of a datetime64 or timedelta64 type ("[ns]" of
// "<M8[ns]"), or "".
func unitOf(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		return s[i:]
	}
	return ""
}

func orRecord(path string) string {
	if path == "" {
		return "the record"
	}
	return path
}

// AsOf returns what a Go field asks for in its tag to hold the plain
// numpy type d ("M8[ns]", "?", "S", "U"; flat.NumpyTag), and the Go type
// of that field ("int64", "uint8", "[8]byte", "[4]rune"); "" if d is none
// of these, as a Go field writes it (asType) in either byte order.
func AsOf(d npy.DType) (as, goType string) {
	if d.Structured() {
		return "", ""
	}
	order, kind, size := d.Parts()
	if order != '|' && order != '<' && order != '>' {
		return "", ""
	}
	switch kind {
	case 'M', 'm':
		_, unit, _ := strings.Cut(d.Str, "[")
		as, goType = string(kind)+"8["+unit, "int64"
	case 'b':
		as, goType = "?", "uint8"
	case 'S':
		as, goType = "S", "["+strconv.Itoa(size)+"]byte"
	case 'U':
		as, goType = "U", "["+strconv.Itoa(size)+"]rune"
	default:
		return "", ""
	}
	if t, _ := asType(as, &flat.Layout{Len: size}, order); size <= 0 || t.Str != d.Str || order == '|' && kind != 'S' && kind != 'b' {
		return "", ""
	}
	if (kind == 'M' || kind == 'm') && flatAsks(as) != "" {
		return "", ""
	}
	return as, goType
}

// flatAsks is what package flat says of a datetime tag on an int64: ""
// if its unit is one numpy has.
func flatAsks(as string) string {
	_, err := flat.Check(&GoType{kind: flat.Struct, fields: []flat.Field{{Name: "T", Tag: `npy:",` + as + `"`, Type: &GoType{kind: flat.Int64}}}})
	if err != nil {
		return err.Problem
	}
	return ""
}

// Unmappable says what d is if it is a plain type that no flat Go type
// maps as it is ("Python objects, which no flat Go type maps"), or that a
// Go field maps only when its tag asks for it (AsOf), or returns "".
func Unmappable(d npy.DType) string {
	if d.Structured() {
		return ""
	}
	what := ""
	switch _, k, n := d.Parts(); {
	case k == 'O':
		what = "Python objects"
	case k == 'U':
		what = "a unicode string"
	case k == 'S' || k == 'a':
		what = "a byte string"
	case k == 'b' || k == '?':
		what = "numpy's bool"
	case k == 'M':
		what = "a datetime64"
	case k == 'm':
		what = "a timedelta64"
	case k == 'f' && n == 2:
		what = "a half-precision float"
	case k == 'f' && n > 8, k == 'c' && n > 16:
		what = "an extended-precision float"
	default:
		return ""
	}
	if as, g := AsOf(d); as != "" {
		return fmt.Sprintf("%s, which a field of a Go struct holds as %s tagged `npy:\",%s\"`", what, g, as)
	}
	return what + ", which no flat Go type maps"
}
