package main

import (
	"go/types"
	"math"
	"slices"

	"github.com/typedmmap/mmap/internal/flat"
)

// goType shows a go/types type to the rules of package flat, named by n.
type goType struct {
	t types.Type
	n *namer
}

func (g goType) with(t types.Type) goType { return goType{t: t, n: g.n} }

func (g goType) Kind() flat.Kind {
	switch u := g.t.Underlying().(type) {
	case *types.Basic:
		return basicKinds[u.Kind()]
	case *types.Array:
		return flat.Array
	case *types.Struct:
		return flat.Struct
	case *types.Slice:
		return flat.Slice
	case *types.Pointer:
		return flat.Pointer
	case *types.Map:
		return flat.Map
	case *types.Chan:
		return flat.Chan
	case *types.Signature:
		return flat.Func
	case *types.Interface:
		return flat.Interface
	}
	return flat.Invalid
}

var basicKinds = map[types.BasicKind]flat.Kind{
	types.Int8: flat.Int8, types.Int16: flat.Int16, types.Int32: flat.Int32, types.Int64: flat.Int64,
	types.Uint8: flat.Uint8, types.Uint16: flat.Uint16, types.Uint32: flat.Uint32, types.Uint64: flat.Uint64,
	types.Float32: flat.Float32, types.Float64: flat.Float64,
	types.Complex64: flat.Complex64, types.Complex128: flat.Complex128,
	types.Int: flat.Int, types.Uint: flat.Uint, types.Uintptr: flat.Uintptr, types.Bool: flat.Bool,
	types.String: flat.String, types.UnsafePointer: flat.UnsafePointer,
}

func (g goType) String() string { return g.n.name(g.t) }

func (g goType) Elem() flat.Type {
	if e, ok := g.t.Underlying().(interface{ Elem() types.Type }); ok {
		return g.with(e.Elem())
	}
	return nil
}

func (g goType) Len() int {
	n := g.t.Underlying().(*types.Array).Len()
	if n != int64(int(n)) {
		return math.MaxInt // no such array compiles for this host; its size overflows either way
	}
	return int(n)
}

func (g goType) NumField() int { return g.t.Underlying().(*types.Struct).NumFields() }

func (g goType) Field(i int) flat.Field {
	s := g.t.Underlying().(*types.Struct)
	return flat.Field{Name: s.Field(i).Name(), Tag: s.Tag(i), Type: g.with(s.Field(i).Type())}
}

// hasTypeParam reports whether t is made of a type parameter, anywhere: then
// neither its layout nor its name is known before it is instantiated.
func (n *namer) hasTypeParam(t types.Type) bool {
	return n.typeParamIn(t, map[*types.Named]bool{})
}

func (n *namer) typeParamIn(t types.Type, seen map[*types.Named]bool) bool {
	in := func(ts ...types.Type) bool {
		return slices.ContainsFunc(ts, func(t types.Type) bool { return n.typeParamIn(t, seen) })
	}
	vars := func(vs ...*types.Var) bool {
		return slices.ContainsFunc(vs, func(v *types.Var) bool { return in(v.Type()) })
	}
	switch t := types.Unalias(t).(type) {
	case *types.TypeParam:
		return true
	case *types.Named:
		if seen[t] {
			return false
		}
		seen[t] = true
		return n.local[t.Obj()].generic || in(slices.Collect(t.TypeArgs().Types())...) || in(t.Underlying())
	case *types.Map:
		return in(t.Key(), t.Elem())
	case interface{ Elem() types.Type }: // a pointer, array, slice or channel
		return in(t.Elem())
	case *types.Struct:
		return vars(slices.Collect(t.Fields())...)
	case *types.Signature:
		return vars(slices.Collect(t.Params().Variables())...) || vars(slices.Collect(t.Results().Variables())...)
	case *types.Interface:
		return slices.ContainsFunc(slices.Collect(t.Methods()), func(m *types.Func) bool { return in(m.Type()) })
	}
	return false
}
