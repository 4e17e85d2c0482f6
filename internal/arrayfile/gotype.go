package arrayfile

import (
	"fmt"
	"go/token"
	"strconv"
	"strings"

	"github.com/typedmmap/mmap/internal/flat"
	"github.com/typedmmap/mmap/internal/npy"
)

// The other way, from a file to Go: the flat type whose Array would hold a
// file's records, built from its header and checked by the rules of
// package flat and of match.go, or why there is none. Tools that read any
// file (cmd/mmapinfo) go by it.

// GoType is a Go type built from a numpy type, as package flat sees it.
type GoType struct {
	kind   flat.Kind
	name   string  // a number's name, if not its kind's: "byte", "rune"
	len    int     // Array
	elem   *GoType // Array
	fields []flat.Field
}

func (t *GoType) Kind() flat.Kind        { return t.kind }
func (t *GoType) Elem() flat.Type        { return t.elem }
func (t *GoType) Len() int               { return t.len }
func (t *GoType) NumField() int          { return len(t.fields) }
func (t *GoType) Field(i int) flat.Field { return t.fields[i] }

// String spells the type in Go: "[3]float32", "struct { ID int64; _ [4]byte }".
func (t *GoType) String() string {
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
	if t.name != "" {
		return t.name
	}
	return t.kind.String()
}

// numberKinds maps the type strings of flat numbers, in either byte order
// or the native one ('='), to their kinds, as FromLayout writes them.
var numberKinds = func() map[string]flat.Kind {
	m := map[string]flat.Kind{}
	for k := flat.Invalid; k <= flat.Interface; k++ {
		if !k.Number() {
			continue
		}
		for _, order := range []byte{'<', '>', '='} {
			if d, _, err := FromLayout(&flat.Layout{Kind: k, Size: k.Size()}, order); err == nil {
				m[d.Str] = k
			}
		}
	}
	return m
}()

// GoTypeOf returns the flat type that holds one record of a file whose
// header is h, and that type as an array file holds it, in this host's
// byte order: a file of the other byte order has one, which Check then
// refuses as such. If there is none, the refusal (NoGoType) says why.
func GoTypeOf(h *npy.Header) (*GoType, Type, *Refusal) {
	t, why := fromDType(h.DType, "")
	if why != "" {
		return nil, Type{}, refuse(NoGoType, "holds records of %s, which no flat Go type holds: %s", h.DType, why)
	}
	if n, ok := RecordSize(h); !ok || n != int64(int(n)) {
		return nil, Type{}, refuse(NoGoType, "holds records of %s, which no Go type holds: a record's size in bytes overflows", h.DType)
	}
	for i := len(h.Shape) - 1; i >= 1; i-- {
		if h.Shape[i] != int64(int(h.Shape[i])) {
			return nil, Type{}, refuse(NoGoType, "holds records of shape %v, too large for a Go array", h.Shape[1:])
		}
		t = &GoType{kind: flat.Array, len: int(h.Shape[i]), elem: t}
	}
	l, ferr := flat.Check(t)
	if ferr != nil {
		if why := packed(t, h.DType, "", 0); why != "" {
			if g, _ := fromDType(Aligned(h.DType), ""); g != nil {
				if _, err := flat.Check(g); err == nil {
					why += fmt.Sprintf(", and map it as %s; or read this file as it is with ReadRecords into that type, which copies each record", g)
				}
			}
			return nil, Type{}, refuse(NoGoType, "holds packed records of %s, which no flat Go type lays out as the file does: %s", h.DType, why)
		}
		// The fix flat proposes is for a Go type; the file's layout is fixed.
		why, _, _ := strings.Cut(ferr.Problem, "; ")
		return nil, Type{}, refuse(NoGoType, "holds records of %s, which no flat Go type lays out as the file does: %s", h.DType, why)
	}
	typ, err := TypeOf(l, t.String())
	if err != nil {
		return nil, Type{}, refuse(NoGoType, "holds records of %s, which no Go type holds: %v", h.DType, err)
	}
	return t, typ, nil
}

// fromDType returns the Go type of numpy type d, the type of the field at
// path ("" for the record), or why there is none. A record of a plain type
// that only a tagged field holds is a struct of that field (recordOf).
func fromDType(d npy.DType, path string) (*GoType, string) {
	if !d.Structured() {
		if k, ok := numberKinds[d.Str]; ok {
			return &GoType{kind: k}, ""
		}
		if ft, as := asGoType(d); ft != nil && path == "" {
			name, tag := goName("", 0, nil, as)
			return &GoType{kind: flat.Struct, fields: []flat.Field{{Name: name, Tag: tag, Type: ft}}}, ""
		}
		why := Unmappable(d)
		switch _, kind, size := d.Parts(); {
		case why != "":
		case kind == 'V':
			why = fmt.Sprintf("raw bytes (numpy's void), which a Go type holds only as unnamed padding, a `_ [%d]byte` field, named '' in numpy", size)
		default:
			why = "a numpy type that no flat Go type maps"
		}
		return nil, fmt.Sprintf("%s%s is %s", inField(path), npy.Quote(d.Str), why)
	}
	t := &GoType{kind: flat.Struct}
	used := map[string]bool{}
	for i, f := range d.Fields {
		if f.Padding() {
			pad := &GoType{kind: flat.Array, len: f.Type.Itemsize(), elem: &GoType{kind: flat.Uint8}}
			t.fields = append(t.fields, flat.Field{Name: "_", Type: pad})
			continue
		}
		if f.Name == "" {
			return nil, fmt.Sprintf("%sfield %d has no name, which no Go field has", inField(path), i)
		}
		fpath := strings.TrimPrefix(path+"."+f.Name, ".")
		ft, as := asGoType(f.Type)
		if ft == nil || f.Shape != nil {
			var why string
			if ft, why = fromDType(f.Type, fpath+strings.Repeat("[i]", len(f.Shape))); why != "" {
				return nil, why
			}
			as = ""
		}
		for j := len(f.Shape) - 1; j >= 0; j-- {
			ft = &GoType{kind: flat.Array, len: f.Shape[j], elem: ft}
		}
		name, tag := goName(f.Name, i, used, as)
		used[name] = true
		t.fields = append(t.fields, flat.Field{Name: name, Tag: tag, Type: ft})
	}
	return t, ""
}

// asGoType is the Go type of a field that holds the plain numpy type d by
// asking for it in its tag (AsOf), and what the tag asks for; nil if d is
// none of those types.
func asGoType(d npy.DType) (*GoType, string) {
	as, _ := AsOf(d)
	_, _, size := d.Parts()
	switch as {
	case "":
		return nil, ""
	case "?":
		return &GoType{kind: flat.Uint8}, as
	case "S":
		return &GoType{kind: flat.Array, len: size, elem: &GoType{kind: flat.Uint8, name: "byte"}}, as
	case "U":
		return &GoType{kind: flat.Array, len: size, elem: &GoType{kind: flat.Int32, name: "rune"}}, as
	}
	return &GoType{kind: flat.Int64}, as
}

// goName is the name of a Go field for numpy field name, field i of its
// struct, whose fields before it have the Go names used, and its tag, which
// asks for the numpy type as if that is not "": the same name, or F<i>
// (with as many _ after it as make it new) with an npy tag that gives the
// numpy name.
func goName(name string, i int, used map[string]bool, as string) (string, string) {
	g, tagName := name, ""
	if !token.IsIdentifier(name) || name == "_" || used[name] {
		g, tagName = "F"+strconv.Itoa(i), name
		for used[g] {
			g += "_"
		}
	}
	switch {
	case as != "" || strings.Contains(tagName, ","):
		return g, "npy:" + strconv.Quote(tagName+","+as)
	case tagName != "":
		return g, "npy:" + strconv.Quote(tagName)
	}
	return g, ""
}

func inField(path string) string {
	if path == "" {
		return ""
	}
	return "field " + path + ": "
}

// packed says where the record t, built from the numpy type d and lying at
// offset off of a record, puts a field at an offset that its Go type cannot
// be at, as numpy's packed records do (np.dtype without align=True), and
// how to fix it; "" if nowhere.
func packed(t *GoType, d npy.DType, path string, off int) string {
	if t.kind != flat.Struct {
		return ""
	}
	at, align := off, 1
	fields := d.Fields // one for each of t's, as fromDType built them
	for i, f := range t.fields {
		fpath := strings.TrimPrefix(path+"."+fields[i].Name, ".")
		fl, err := flat.Check(f.Type)
		if err != nil {
			if inner, ok := f.Type.(*GoType); ok {
				if why := packed(inner, fields[i].Type, fpath, at); why != "" {
					return why
				}
			}
			return ""
		}
		if f.Name != "_" && at%fl.Align != 0 {
			return fmt.Sprintf("field %s (%s) is at offset %d of a record, and a Go %s needs a multiple of %d; %s", fpath, fields[i].Type, at, f.Type, fl.Align, alignTrue)
		}
		at += fl.Size
		align = max(align, fl.Align)
	}
	if size := at - off; size%align != 0 {
		return fmt.Sprintf("%s is %d bytes, not a multiple of %d, the alignment of its fields, so the next one in an array would not be aligned; %s", orRecord(path), size, align, alignTrue)
	}
	return ""
}

// alignTrue is the fix for a packed record.
const alignTrue = "save the array from numpy with align=True (np.dtype([...], align=True)), which pads records as Go lays them out"
