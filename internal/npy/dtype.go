package npy

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DType is a numpy data type as the descr of a .npy header writes it: a
// plain type, named by its type string ("<f8", "|u1", "<U10", "|V4"), or a
// structured type, a list of fields.
type DType struct {
	Str    string  // a plain type's type string; "" for a structured type
	Fields []Field // a structured type's fields, in order
}

// Field is one field of a structured type. Fields lie one after another;
// gaps are fields named "" of a void type ("|V4"), which numpy treats as
// padding.
type Field struct {
	Name  string
	Type  DType
	Shape []int // the dimensions of a subarray field, or nil
}

// HostOrder is this host's byte order, as a type string writes it: '<' or
// '>'.
var HostOrder = func() byte {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return '<'
	}
	return '>'
}()

// OrderName names the byte order o, '<' or '>'.
func OrderName(o byte) string {
	if o == '>' {
		return "big-endian"
	}
	return "little-endian"
}

// Structured reports whether d is a structured type.
func (d DType) Structured() bool { return d.Str == "" }

// Padding reports whether f is padding.
func (f Field) Padding() bool {
	return f.Name == "" && !f.Type.Structured() && f.Type.kind() == 'V' && f.Shape == nil
}

// order, kind and size split a plain type string: "<f8" is '<', 'f', 8.
// Types without a size ("|O") have size 0 here.
func (d DType) order() byte {
	if d.Str != "" && strings.IndexByte("<>|=", d.Str[0]) >= 0 {
		return d.Str[0]
	}
	return '|'
}

func (d DType) kind() byte {
	s := strings.TrimLeft(d.Str, "<>|=")
	if s == "" {
		return 0
	}
	return s[0]
}

func (d DType) size() int {
	s := strings.TrimLeft(d.Str, "<>|=")
	if s == "" {
		return 0
	}
	s = s[1:]
	if i := strings.IndexByte(s, '['); i >= 0 {
		s = s[:i] // the unit of a datetime: "M8[ns]"
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Itemsize is the size in bytes of one element of d.
func (d DType) Itemsize() int {
	if !d.Structured() {
		switch d.kind() {
		case 'U':
			return 4 * d.size()
		case 'O':
			return 8
		case '?':
			return 1
		}
		return d.size()
	}
	n := 0
	for _, f := range d.Fields {
		n += f.Type.Itemsize() * product(f.Shape)
	}
	return n
}

func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// String is d as numpy writes it in a header: Python's repr of its descr.
func (d DType) String() string {
	var b strings.Builder
	d.repr(&b)
	return b.String()
}

func (d DType) repr(b *strings.Builder) {
	if !d.Structured() {
		b.WriteString(Quote(d.Str))
		return
	}
	b.WriteString("[")
	for i, f := range d.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		b.WriteString(Quote(f.Name))
		b.WriteString(", ")
		f.Type.repr(b)
		if f.Shape != nil {
			b.WriteString(", ")
			b.WriteString(tupleRepr(f.Shape))
		}
		b.WriteString(")")
	}
	b.WriteString("]")
}

// tupleRepr is Python's repr of a tuple of ints: "(3,)", "(2, 3)".
func tupleRepr[N int | int64](dims []N) string {
	if len(dims) == 1 {
		return "(" + strconv.FormatInt(int64(dims[0]), 10) + ",)"
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(int64(d), 10)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Quote is Python 3's repr of a str: single quotes unless the text holds a
// single quote and no double quote, and escapes for what is not printable.
func Quote(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(quote):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// dtypeOf reads a descr: a type string or a list of fields. Its nesting
// needs no bound of its own: each level of fields is a list and a tuple,
// and the parser refuses containers nested more than maxDepth deep.
func dtypeOf(v value) (DType, error) {
	switch v.kind {
	case strValue:
		if err := checkTypeString(v.str); err != nil {
			return DType{}, err
		}
		return DType{Str: v.str}, nil
	case listValue:
		d := DType{Fields: []Field{}}
		names := map[string]bool{}
		for _, item := range v.items {
			f, err := fieldOf(item)
			if err != nil {
				return DType{}, err
			}
			if f.Name != "" && names[f.Name] {
				return DType{}, fmt.Errorf("descr names field %q twice", f.Name)
			}
			names[f.Name] = true
			d.Fields = append(d.Fields, f)
		}
		return d, nil
	}
	return DType{}, fmt.Errorf("descr is %v; want a type string or a list of fields", v.kind)
}

// fieldOf reads one field of a descr: (name, type) or (name, type, shape),
// where name may be a (title, name) pair.
func fieldOf(v value) (Field, error) {
	if v.kind != tupleValue || len(v.items) < 2 || len(v.items) > 3 {
		return Field{}, fmt.Errorf("descr field %s: want (name, type) or (name, type, shape)", v.kind)
	}
	name := v.items[0]
	if name.kind == tupleValue && len(name.items) == 2 {
		name = name.items[1] // (title, name)
	}
	if name.kind != strValue {
		return Field{}, fmt.Errorf("descr field name is %v; want a string", name.kind)
	}
	t, err := dtypeOf(v.items[1])
	if err != nil {
		return Field{}, fmt.Errorf("field %q: %w", name.str, err)
	}
	f := Field{Name: name.str, Type: t}
	if len(v.items) == 3 {
		if f.Shape, err = shapeOf(v.items[2]); err != nil {
			return Field{}, fmt.Errorf("field %q: %w", name.str, err)
		}
	}
	return f, nil
}

// shapeOf reads a shape: a tuple of non-negative integers, or one integer.
func shapeOf(v value) ([]int, error) {
	items := v.items
	switch v.kind {
	case intValue:
		items = []value{v}
	case tupleValue:
	default:
		return nil, fmt.Errorf("shape is %v; want a tuple of integers", v.kind)
	}
	dims := make([]int, len(items))
	for i, d := range items {
		if d.kind != intValue || d.int < 0 || d.int > 1<<31-1 {
			return nil, fmt.Errorf("shape %s: want non-negative integers", tupleText(items))
		}
		dims[i] = int(d.int)
	}
	return dims, nil
}

func tupleText(items []value) string {
	parts := make([]string, len(items))
	for i, d := range items {
		parts[i] = fmt.Sprint(d.int)
		if d.kind != intValue {
			parts[i] = d.kind.String()
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// checkTypeString refuses what is not a numpy type string: an optional
// byte order, a kind, a size, and for datetimes a unit ("<M8[ns]").
func checkTypeString(s string) error {
	rest := strings.TrimLeft(s, "<>|=")
	if len(s)-len(rest) > 1 || rest == "" || !strings.ContainsRune("biufcmMOSUVa?", rune(rest[0])) {
		return fmt.Errorf("type string %q is not numpy's", s)
	}
	size := rest[1:]
	if i := strings.IndexByte(size, '['); i >= 0 && (rest[0] == 'M' || rest[0] == 'm') && strings.HasSuffix(size, "]") {
		size = size[:i]
	}
	if strings.Trim(size, "0123456789") != "" {
		return fmt.Errorf("type string %q is not numpy's", s)
	}
	if size == "" && rest[0] != 'O' && rest[0] != '?' {
		return fmt.Errorf("type string %q has no size", s)
	}
	return nil
}

// Merged returns d with adjacent padding fields joined into one, at every
// level, as numpy writes a descr.
func (d DType) Merged() DType {
	if !d.Structured() {
		return d
	}
	out := DType{Fields: make([]Field, 0, len(d.Fields))}
	for _, f := range d.Fields {
		f.Type = f.Type.Merged()
		if n := len(out.Fields); n > 0 && f.Padding() && out.Fields[n-1].Padding() {
			out.Fields[n-1].Type = Void(out.Fields[n-1].Type.size() + f.Type.size())
			continue
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

// Void is the void type of n bytes, which numpy uses for padding.
func Void(n int) DType { return DType{Str: "|V" + strconv.Itoa(n)} }

// ASCII reports whether every name in d is ASCII, so that a header of
// version 1.0 can hold it.
func (d DType) ASCII() bool {
	for _, f := range d.Fields {
		if !isASCII(f.Name) || !f.Type.ASCII() {
			return false
		}
	}
	return isASCII(d.Str)
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Parts splits a plain type string into its byte order ('|' if it has
// none), its kind and its size as written (characters for 'U'): "<f8" is
// '<', 'f', 8.
func (d DType) Parts() (order, kind byte, size int) { return d.order(), d.kind(), d.size() }
