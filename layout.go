package mmap

import (
	"reflect"
	"sync"

	"github.com/typedmmap/mmap/internal/flat"
)

// layout is what the package knows about a type after checking it.
type layout struct {
	name    string       // the type as Go prints it
	size    int          // unsafe.Sizeof
	align   int          // natural alignment: the same on every target, never less than Go's
	goAlign int          // Go's alignment on this target
	flat    *flat.Layout // the layout, fields and all; nil if the type is not flat
	err     error        // a *TypeError if the type is not flat
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
// that [MapSlice], [View] and [Array] apply. The error is a [*TypeError]
// naming the field at fault and the fix. The result is cached per type.
func CheckType[T any]() error {
	_, err := layoutFor[T]()
	return err
}

func checkLayout(t reflect.Type) *layout {
	l := &layout{name: t.String(), size: int(t.Size()), goAlign: t.Align()}
	fl, err := flat.Check(reflectType{t})
	if err != nil {
		l.err = &TypeError{Type: err.Type, Field: err.Field, Problem: err.Problem}
		return l
	}
	l.flat, l.align = fl, fl.Align
	return l
}

// reflectType shows a reflect.Type to the rules of package flat.
type reflectType struct{ reflect.Type }

func (t reflectType) Kind() flat.Kind { return reflectKinds[t.Type.Kind()] }

func (t reflectType) Elem() flat.Type { return reflectType{t.Type.Elem()} }

func (t reflectType) Field(i int) flat.Field {
	f := t.Type.Field(i)
	return flat.Field{Name: f.Name, Tag: string(f.Tag), Type: reflectType{f.Type}}
}

var reflectKinds = [...]flat.Kind{
	reflect.Int8: flat.Int8, reflect.Int16: flat.Int16, reflect.Int32: flat.Int32, reflect.Int64: flat.Int64,
	reflect.Uint8: flat.Uint8, reflect.Uint16: flat.Uint16, reflect.Uint32: flat.Uint32, reflect.Uint64: flat.Uint64,
	reflect.Float32: flat.Float32, reflect.Float64: flat.Float64,
	reflect.Complex64: flat.Complex64, reflect.Complex128: flat.Complex128,
	reflect.Array: flat.Array, reflect.Struct: flat.Struct,
	reflect.Int: flat.Int, reflect.Uint: flat.Uint, reflect.Uintptr: flat.Uintptr, reflect.Bool: flat.Bool,
	reflect.String: flat.String, reflect.Slice: flat.Slice, reflect.Pointer: flat.Pointer,
	reflect.UnsafePointer: flat.UnsafePointer, reflect.Map: flat.Map, reflect.Chan: flat.Chan,
	reflect.Func: flat.Func, reflect.Interface: flat.Interface,
}
