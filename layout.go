package mmap

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// layout is what the package knows about a type after checking it.
type layout struct {
	name        string // the type as Go prints it
	size        int    // unsafe.Sizeof
	align       int    // natural alignment: the same on every target, never less than Go's
	goAlign     int    // Go's alignment on this target
	desc        string // canonical description of the layout, without names
	fingerprint uint64 // FNV-1a of desc
	err         error  // non-nil if the type is not flat
}

// layouts caches one *layout per reflect.Type.
var layouts sync.Map

// layoutFor returns the layout of T, checking T the first time.
func layoutFor[T any]() (*layout, error) {
	return layoutOf(reflect.TypeFor[T]())
}

func layoutOf(t reflect.Type) (*layout, error) {
	if l, ok := layouts.Load(t); ok {
		return l.(*layout), l.(*layout).err
	}
	l, _ := layouts.LoadOrStore(t, checkLayout(t))
	return l.(*layout), l.(*layout).err
}

// CheckType reports whether T is a flat type (see the package doc), the test
// that [MapSlice], [View] and [Array] apply. The error is a [*TypeError] naming the field at
// fault and the fix. The result is cached per type.
func CheckType[T any]() error {
	_, err := layoutFor[T]()
	return err
}

func checkLayout(t reflect.Type) *layout {
	l := &layout{name: t.String(), size: int(t.Size()), goAlign: t.Align()}
	w := walker{root: t, maxAlign: 8}
	size, align, desc, err := w.walk(t, "")
	if err == nil && size == 0 {
		err = &TypeError{Type: l.name, Problem: "it has size 0, so a file of it holds nothing"}
	}
	if err != nil {
		l.err = err
		return l
	}
	h := fnv.New64a()
	h.Write([]byte(desc))
	l.align, l.desc, l.fingerprint = int(align), desc, h.Sum64()
	return l
}

// walker computes a type's layout with every value aligned to its own size,
// capped at maxAlign, and rejects what a flat type may not hold.
type walker struct {
	root     reflect.Type
	maxAlign uintptr
}

// walk returns t's size, alignment and canonical description; path names t
// inside the root type ("" for the root itself).
func (w walker) walk(t reflect.Type, path string) (size, align uintptr, desc string, err error) {
	switch k := t.Kind(); k {
	case reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16,
		reflect.Int32, reflect.Uint32, reflect.Int64, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return t.Size(), min(t.Size(), w.maxAlign), kindCode[k], nil
	case reflect.Complex64, reflect.Complex128:
		return t.Size(), min(t.Size()/2, w.maxAlign), kindCode[k], nil
	case reflect.Array:
		size, align, desc, err = w.walk(t.Elem(), path+"[i]")
		return size * uintptr(t.Len()), align, "[" + strconv.Itoa(t.Len()) + "]" + desc, err
	case reflect.Struct:
		return w.walkStruct(t, path)
	}
	return 0, 0, "", w.reject(t, path)
}

// kindCode names each kind a flat type may hold, in canonical descriptions.
var kindCode = map[reflect.Kind]string{
	reflect.Int8: "i8", reflect.Int16: "i16", reflect.Int32: "i32", reflect.Int64: "i64",
	reflect.Uint8: "u8", reflect.Uint16: "u16", reflect.Uint32: "u32", reflect.Uint64: "u64",
	reflect.Float32: "f32", reflect.Float64: "f64",
	reflect.Complex64: "c64", reflect.Complex128: "c128",
}

// walkStruct lays out t's fields in order. Blank fields describe as padding
// of their size, so that `_ [4]byte` and `_ uint32` are the same layout;
// nested structs are described in place, so that only offsets, kinds and
// sizes count, never names.
func (w walker) walkStruct(t reflect.Type, path string) (size, align uintptr, desc string, err error) {
	var b strings.Builder
	b.WriteString("{")
	align = 1
	for i := range t.NumField() {
		f := t.Field(i)
		fpath := joinPath(path, f.Name)
		fsize, falign, fdesc, err := w.walk(f.Type, fpath)
		if err != nil {
			return 0, 0, "", err
		}
		if fsize == 0 {
			return 0, 0, "", &TypeError{Type: w.root.String(), Field: fpath, Problem: "field " + fpath + " has size 0; remove it"}
		}
		if pad := roundUp(size, falign) - size; pad > 0 {
			return 0, 0, "", w.padding(t, i-1, path, pad)
		}
		if f.Name == "_" {
			fdesc = "_" + strconv.FormatUint(uint64(fsize), 10)
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%d:%s", size, fdesc)
		size += fsize
		align = max(align, falign)
	}
	if pad := roundUp(size, align) - size; pad > 0 {
		return 0, 0, "", w.padding(t, t.NumField()-1, path, pad)
	}
	b.WriteString("}")
	return size, align, b.String(), nil
}

// padding reports pad bytes of implicit padding after field i of t.
func (w walker) padding(t reflect.Type, i int, path string, pad uintptr) error {
	fpath := joinPath(path, t.Field(i).Name)
	return &TypeError{
		Type:    w.root.String(),
		Field:   fpath,
		Problem: fmt.Sprintf("%d bytes of implicit padding after field %s; add `_ [%d]byte` after field %s", pad, fpath, pad, fpath),
	}
}

// reject explains why a kind that is not flat cannot be mapped.
func (w walker) reject(t reflect.Type, path string) error {
	var why string
	switch t.Kind() {
	case reflect.Int, reflect.Uint, reflect.Uintptr:
		want := "uint64"
		if t.Kind() == reflect.Int {
			want = "int64"
		}
		why = fmt.Sprintf("%s: its size differs between 32- and 64-bit targets; use %s", t, want)
	case reflect.Bool:
		why = fmt.Sprintf("%s: not every byte is a valid bool; use uint8", t)
	case reflect.String:
		why = fmt.Sprintf("%s: a string holds a pointer, which means nothing in a file; use a [N]byte array", t)
	case reflect.Slice:
		why = fmt.Sprintf("%s: a slice holds a pointer, which means nothing in a file; use a [N]%s array", t, t.Elem())
	default:
		why = fmt.Sprintf("%s (%s): it holds a pointer, which means nothing in a file; use a [N]byte array or an index", t, t.Kind())
	}
	if path == "" {
		return &TypeError{Type: w.root.String(), Problem: "it is " + why}
	}
	return &TypeError{Type: w.root.String(), Field: path, Problem: "field " + path + " is " + why}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func roundUp(n, align uintptr) uintptr { return (n + align - 1) / align * align }
