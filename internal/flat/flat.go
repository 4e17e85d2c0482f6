// Package flat holds the one definition of a flat type: the rules that
// decide whether every value of a type can live in a file and be read back
// by mapping it, and the layout such a type has. The mmap package applies
// them to reflect types at run time; cmd/flatcheck applies them to the
// types of a program being built. Both describe a type through [Type].
package flat

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Kind is the kind of a type, as far as the rules care.
type Kind int

// The kinds. The numbers and Array and Struct can be flat; the others never
// are.
const (
	Invalid Kind = iota
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
	Float32
	Float64
	Complex64
	Complex128
	Array
	Struct
	Int
	Uint
	Uintptr
	Bool
	String
	Slice
	Pointer
	UnsafePointer
	Map
	Chan
	Func
	Interface
)

// kindNames are the names reflect gives the kinds, which messages use.
var kindNames = [...]string{
	Invalid: "invalid", Int8: "int8", Int16: "int16", Int32: "int32", Int64: "int64",
	Uint8: "uint8", Uint16: "uint16", Uint32: "uint32", Uint64: "uint64",
	Float32: "float32", Float64: "float64", Complex64: "complex64", Complex128: "complex128",
	Array: "array", Struct: "struct", Int: "int", Uint: "uint", Uintptr: "uintptr",
	Bool: "bool", String: "string", Slice: "slice", Pointer: "ptr",
	UnsafePointer: "unsafe.Pointer", Map: "map", Chan: "chan", Func: "func", Interface: "interface",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind" + strconv.Itoa(int(k))
	}
	return kindNames[k]
}

// Number reports whether k is a sized number kind.
func (k Kind) Number() bool { return k >= Int8 && k <= Complex128 }

// Size is the size in bytes of a number kind.
func (k Kind) Size() int {
	switch k {
	case Int8, Uint8:
		return 1
	case Int16, Uint16:
		return 2
	case Int32, Uint32, Float32:
		return 4
	case Int64, Uint64, Float64, Complex64:
		return 8
	case Complex128:
		return 16
	}
	return 0
}

// Type is a Go type as the rules see it.
type Type interface {
	Kind() Kind
	// String is the type as reflect prints it: "main.Rec", "[4]int32",
	// "*main.Point".
	String() string
	// Elem is the element type of an array or slice.
	Elem() Type
	// Len is the length of an array.
	Len() int
	// NumField and Field describe the fields of a struct.
	NumField() int
	Field(i int) Field
}

// Field is one field of a struct.
type Field struct {
	Name string // "_" for a blank field
	Tag  string // the struct tag, unparsed
	Type Type
}

// Layout is the layout of a flat type: the same on every target.
type Layout struct {
	Kind  Kind // a number kind, Array or Struct
	Size  int  // in bytes
	Align int  // natural alignment: every number aligned to its size (a complex number to half of it)

	Len  int     // Array: the number of elements
	Elem *Layout // Array: the element

	Fields []FieldLayout // Struct: the fields, in order
}

// FieldLayout is one field of a struct layout.
type FieldLayout struct {
	Name   string // "_" for explicit padding
	Tag    string
	Offset int
	As     string // the numpy type the field asks for in its tag (NumpyTag), checked against its layout
	*Layout
}

// Blank reports whether the field is explicit padding.
func (f FieldLayout) Blank() bool { return f.Name == "_" }

// String describes the layout canonically, without names: "i64", "[3]f32",
// "{0:i64,8:f64,16:u16,18:_6}". Blank fields describe as padding of their
// size, so that `_ [4]byte` and `_ uint32` are the same layout.
func (l *Layout) String() string {
	var b strings.Builder
	l.describe(&b)
	return b.String()
}

func (l *Layout) describe(b *strings.Builder) {
	switch l.Kind {
	case Array:
		fmt.Fprintf(b, "[%d]", l.Len)
		l.Elem.describe(b)
	case Struct:
		b.WriteString("{")
		for i, f := range l.Fields {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(b, "%d:", f.Offset)
			if f.Blank() {
				fmt.Fprintf(b, "_%d", f.Size)
			} else {
				f.describe(b)
			}
			if f.As != "" {
				fmt.Fprintf(b, " as %s", f.As)
			}
		}
		b.WriteString("}")
	default:
		b.WriteString(codes[l.Kind])
	}
}

// codes name the number kinds in canonical descriptions.
var codes = map[Kind]string{
	Int8: "i8", Int16: "i16", Int32: "i32", Int64: "i64",
	Uint8: "u8", Uint16: "u16", Uint32: "u32", Uint64: "u64",
	Float32: "f32", Float64: "f64", Complex64: "c64", Complex128: "c128",
}

// Error says why a type is not flat.
type Error struct {
	Type    string // the type, as reflect prints it
	Field   string // path of the field at fault ("Pos.X", "Tags[i]"), or "" for the type itself
	Problem string // what is wrong, and the fix
}

// Message is the text of the error for a type that is not flat, the same
// at run time and at build time: "mmap: " and Detail.
func Message(typ, problem string) string { return "mmap: " + Detail(typ, problem) }

// Detail is Message without the package's name, for an error that names a
// file before it.
func Detail(typ, problem string) string { return "cannot map " + typ + ": " + problem }

func (e *Error) Error() string { return Message(e.Type, e.Problem) }

// Check applies the rules to t with the alignments of a 64-bit target and
// returns its layout, or why it is not flat.
func Check(t Type) (*Layout, *Error) { return CheckAligned(t, 8) }

// CheckAligned is Check with numbers aligned to at most maxAlign bytes, as a
// target with a smaller maximum alignment lays them out. A flat type has
// the same layout for every maxAlign of 4 or more.
func CheckAligned(t Type, maxAlign int) (*Layout, *Error) {
	w := walker{root: t, maxAlign: maxAlign}
	l, err := w.walk(t, "")
	if err == nil && l.Size == 0 {
		err = &Error{Type: t.String(), Problem: "it has size 0, so a file of it holds nothing"}
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// walker lays a type out with every number aligned to its own size, capped
// at maxAlign, and rejects what a flat type may not hold.
type walker struct {
	root     Type
	maxAlign int
}

// walk lays out t; path names t inside the root type ("" for the root).
func (w walker) walk(t Type, path string) (*Layout, *Error) {
	switch k := t.Kind(); {
	case k.Number():
		align := k.Size()
		if k == Complex64 || k == Complex128 {
			align /= 2
		}
		return &Layout{Kind: k, Size: k.Size(), Align: min(align, w.maxAlign)}, nil
	case k == Array:
		elem, err := w.walk(t.Elem(), path+"[i]")
		if err != nil {
			return nil, err
		}
		return &Layout{Kind: Array, Size: elem.Size * t.Len(), Align: elem.Align, Len: t.Len(), Elem: elem}, nil
	case k == Struct && t.String() == "time.Time":
		return nil, w.fault(path, "time.Time: it holds a pointer (its *time.Location), which means nothing in a file; store the time as int64 Unix nanoseconds (t.UnixNano(), time.Unix(0, n))")
	case k == Struct:
		return w.walkStruct(t, path)
	}
	return nil, w.reject(t, path)
}

// walkStruct lays out t's fields in order and refuses implicit padding.
func (w walker) walkStruct(t Type, path string) (*Layout, *Error) {
	l := &Layout{Kind: Struct, Align: 1}
	for i := range t.NumField() {
		f := t.Field(i)
		fpath := joinPath(path, f.Name)
		fl, err := w.walk(f.Type, fpath)
		if err != nil {
			return nil, err
		}
		if fl.Size == 0 {
			return nil, &Error{Type: w.root.String(), Field: fpath, Problem: "field " + fpath + " has size 0; remove it"}
		}
		if pad := roundUp(l.Size, fl.Align) - l.Size; pad > 0 {
			return nil, w.padding(t, i-1, path, pad)
		}
		_, as := NumpyTag(f.Tag)
		if why := asks(as, f.Type, fl); why != "" {
			return nil, &Error{Type: w.root.String(), Field: fpath, Problem: "field " + fpath + " " + why}
		}
		l.Fields = append(l.Fields, FieldLayout{Name: f.Name, Tag: f.Tag, Offset: l.Size, As: as, Layout: fl})
		l.Size += fl.Size
		l.Align = max(l.Align, fl.Align)
	}
	if pad := roundUp(l.Size, l.Align) - l.Size; pad > 0 {
		return nil, w.padding(t, t.NumField()-1, path, pad)
	}
	return l, nil
}

// NumpyTag splits the `npy` key of a struct field's tag, at its last
// comma, into the numpy name it gives the field ("" for its Go name) and
// the numpy type it asks for ("" for the one its Go type has):
// `npy:"time,M8[ns]"` is "time" and "M8[ns]". A name with a comma in it
// takes one more after it: `npy:"a,b,"` names the field "a,b".
func NumpyTag(tag string) (name, as string) {
	v, _ := reflect.StructTag(tag).Lookup("npy")
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[:i], v[i+1:]
	}
	return v, ""
}

// Datetime units are the units numpy writes a datetime64 or timedelta64
// in: "M8[ns]".
var DatetimeUnits = []string{"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"}

// Asks lists what a field's tag may ask for, with the Go types that may.
const Asks = "M8[unit] or m8[unit] (datetime64, timedelta64) on an int64, ? (bool) on a uint8 or int8, S (bytes) on a [n]byte, U (unicode) on a [n]rune or [n]uint32"

// asks says what is wrong with a field of Go type t, laid out as l, that
// asks for numpy type as in its tag, or "" if nothing is.
func asks(as string, t Type, l *Layout) string {
	need := ""
	switch kind, unit, _ := strings.Cut(as, "["); {
	case as == "":
		return ""
	case kind == "M8" || kind == "m8":
		if !strings.HasSuffix(unit, "]") || !slices.Contains(DatetimeUnits, strings.TrimSuffix(unit, "]")) {
			return fmt.Sprintf("asks for numpy type %q in its tag; a datetime64 or timedelta64 needs a unit, one of %s: %s[ns], say", as, strings.Join(DatetimeUnits, " "), kind)
		}
		if l.Kind == Int64 {
			return ""
		}
		need = "an int64"
	case as == "?":
		if l.Kind == Uint8 || l.Kind == Int8 {
			return ""
		}
		need = "a uint8 (or an int8) that holds 0 or 1"
	case as == "S":
		if l.Kind == Array && l.Elem.Kind == Uint8 {
			return ""
		}
		need = "a [n]byte array"
	case as == "U":
		if l.Kind == Array && (l.Elem.Kind == Uint32 || l.Elem.Kind == Int32) {
			return ""
		}
		need = "a [n]rune or [n]uint32 array"
	default:
		return fmt.Sprintf("asks for numpy type %q in its tag, which is none a Go field can ask for: %s", as, Asks)
	}
	return fmt.Sprintf("is %s and asks for numpy type %s in its tag, which needs %s", t, as, need)
}

// padding reports pad bytes of implicit padding after field i of t.
func (w walker) padding(t Type, i int, path string, pad int) *Error {
	fpath := joinPath(path, t.Field(i).Name)
	return &Error{
		Type:    w.root.String(),
		Field:   fpath,
		Problem: fmt.Sprintf("%d bytes of implicit padding after field %s; add `_ [%d]byte` after field %s", pad, fpath, pad, fpath),
	}
}

// reject explains why a kind that is not flat cannot be mapped.
func (w walker) reject(t Type, path string) *Error {
	var why string
	switch t.Kind() {
	case Int, Uint, Uintptr:
		want := "uint64"
		if t.Kind() == Int {
			want = "int64"
		}
		why = fmt.Sprintf("%s: its size differs between 32- and 64-bit targets; use %s", t, want)
	case Bool:
		why = fmt.Sprintf("%s: not every byte is a valid bool; use uint8", t)
	case String:
		why = fmt.Sprintf("%s: a string holds a pointer, which means nothing in a file; use a [N]byte array", t)
	case Slice:
		why = fmt.Sprintf("%s: a slice holds a pointer, which means nothing in a file; use a [N]%s array", t, flatName(t.Elem()))
	default:
		why = fmt.Sprintf("%s (%s): it holds a pointer, which means nothing in a file; use a [N]byte array or an index", t, t.Kind())
	}
	return w.fault(path, why)
}

// fault is the Error for the type at path: "it is " or "field path is ",
// then why.
func (w walker) fault(path, why string) *Error {
	if path == "" {
		return &Error{Type: w.root.String(), Problem: "it is " + why}
	}
	return &Error{Type: w.root.String(), Field: path, Problem: "field " + path + " is " + why}
}

// flatName names the flat type to use for t in a fix: t itself, or the
// sized number or byte array that stands for what is not flat in it.
func flatName(t Type) string {
	switch t.Kind() {
	case Int:
		return "int64"
	case Uint, Uintptr:
		return "uint64"
	case Bool:
		return "uint8"
	case String:
		return "[N]byte"
	case Array:
		return "[" + strconv.Itoa(t.Len()) + "]" + flatName(t.Elem())
	}
	return t.String()
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func roundUp(n, align int) int { return (n + align - 1) / align * align }
