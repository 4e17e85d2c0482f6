package main

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// A namer names the types of one package as reflect's Type.String does in
// the program that the package is built into, so that flatcheck's message
// is the run-time check's to the byte.
//
// reflect writes a type in one form, and the type arguments of a generic
// type, inside its brackets, in another, the linker's:
//
//	form       defined type       unexported field   function-scope type
//	reflect    main.Rec           x                  main.Local
//	argument   example.com/p.Rec  example.com/p.x    example.com/p.Local·3
//
// In the argument form a package is named by its import path (the dots of
// its last element and a few other bytes escaped), a command's own package
// by "main"; unexported field and method names carry their package; an
// embedded field whose name is not its type's name is written "Name = T";
// and a type declared in a function carries its number among the
// package's function-scope types, which the compiler counts over the
// package's files in order.
type namer struct {
	pkg   *types.Package
	self  string // pkg's path in the argument form
	local map[*types.TypeName]localType
}

// localType is what the namer knows of a type declared in a function.
type localType struct {
	gen     int  // its number among the package's function-scope types, from 1
	generic bool // declared in a generic function or method: its name holds that one's type arguments
}

// newNamer returns the namer of pkg, whose files are files, in the order
// the compiler gets them.
func newNamer(pkg *types.Package, files []*ast.File, info *types.Info) *namer {
	n := &namer{pkg: pkg, self: pathToPrefix(pkg.Path()), local: map[*types.TypeName]localType{}}
	gen := 0
	for _, f := range files {
		ast.PreorderStack(f, nil, func(node ast.Node, stack []ast.Node) bool {
			spec, ok := node.(*ast.TypeSpec)
			if !ok || spec.Assign.IsValid() || !slices.ContainsFunc(stack, isBlock) {
				return true
			}
			gen++
			if obj, ok := info.Defs[spec.Name].(*types.TypeName); ok {
				n.local[obj] = localType{gen: gen, generic: slices.ContainsFunc(stack, isGenericFunc(info))}
			}
			return true
		})
	}
	return n
}

// inTest returns the namer for types instantiated in a test file or not. A
// command's package is named "main", except in its test binary, which
// builds it as a library, under its import path: the test files run there.
func (n *namer) inTest(test bool) *namer {
	c := *n
	if n.pkg.Name() == "main" && !test {
		c.self = "main"
	}
	return &c
}

func isBlock(node ast.Node) bool {
	_, ok := node.(*ast.BlockStmt)
	return ok
}

// isGenericFunc returns whether a node is a generic function or a method
// of a generic type.
func isGenericFunc(info *types.Info) func(ast.Node) bool {
	return func(node ast.Node) bool {
		decl, ok := node.(*ast.FuncDecl)
		if !ok {
			return false
		}
		fn, ok := info.Defs[decl.Name].(*types.Func)
		return ok && (fn.Signature().TypeParams().Len() > 0 || fn.Signature().RecvTypeParams().Len() > 0)
	}
}

// name returns t as reflect's Type.String does.
func (n *namer) name(t types.Type) string {
	var b strings.Builder
	n.write(&b, t, false)
	return b.String()
}

// write writes t in reflect's form, or in the argument form if arg.
func (n *namer) write(b *strings.Builder, t types.Type, arg bool) {
	elem := func(prefix string, t types.Type) {
		b.WriteString(prefix)
		n.write(b, t, arg)
	}
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		b.WriteString(basicName(t))
	case *types.Named:
		n.writeNamed(b, t, arg)
	case *types.Pointer:
		elem("*", t.Elem())
	case *types.Array:
		elem("["+strconv.FormatInt(t.Len(), 10)+"]", t.Elem())
	case *types.Slice:
		elem("[]", t.Elem())
	case *types.Map:
		elem("map[", t.Key())
		elem("]", t.Elem())
	case *types.Chan:
		n.writeChan(b, t, arg)
	case *types.Signature:
		b.WriteString("func")
		n.writeSignature(b, t, arg)
	case *types.Interface:
		n.writeInterface(b, t, arg)
	case *types.Struct:
		n.writeStruct(b, t, arg)
	default: // a type parameter: never judged (see hasTypeParam)
		b.WriteString(t.String())
	}
}

// basicName is the name of a basic type, byte and rune being uint8 and
// int32.
func basicName(t *types.Basic) string {
	if t.Kind() == types.UnsafePointer {
		return "unsafe.Pointer"
	}
	return types.Typ[t.Kind()].Name()
}

// writeNamed writes a defined type: its package, then its name.
func (n *namer) writeNamed(b *strings.Builder, t *types.Named, arg bool) {
	obj := t.Obj()
	if obj.Pkg() == nil { // error
		b.WriteString(obj.Name())
		return
	}
	b.WriteString(n.qualifier(obj.Pkg(), arg))
	b.WriteString(".")
	b.WriteString(n.symName(t, arg))
}

// symName is a defined type's name without its package, with its type
// arguments: "Pair[int8,int8]", and in the argument form "Local·3" for a
// function-scope type.
func (n *namer) symName(t *types.Named, arg bool) string {
	var b strings.Builder
	b.WriteString(t.Obj().Name())
	if args := t.TypeArgs(); args.Len() > 0 {
		b.WriteString("[")
		for i := range args.Len() {
			if i > 0 {
				b.WriteString(",")
			}
			n.write(&b, args.At(i), true)
		}
		b.WriteString("]")
	}
	if l, ok := n.local[t.Obj()]; ok && arg {
		b.WriteString("·" + strconv.Itoa(l.gen))
	}
	return b.String()
}

// qualifier names pkg: by its name in reflect's form, by its path in the
// argument form.
func (n *namer) qualifier(pkg *types.Package, arg bool) string {
	switch {
	case !arg:
		return pkg.Name()
	case pkg == n.pkg:
		return n.self
	}
	return pathToPrefix(pkg.Path())
}

// pathToPrefix escapes an import path as the linker writes it in symbol
// names: bytes up to space, '%', '"', bytes from 0x7f, and the dots of the
// last element become %xx.
func pathToPrefix(path string) string {
	slash := strings.LastIndexByte(path, '/')
	var b strings.Builder
	for i := range len(path) {
		c := path[i]
		if c <= ' ' || c == '.' && i > slash || c == '%' || c == '"' || c >= 0x7f {
			b.WriteString("%" + strconv.FormatUint(uint64(c>>4), 16) + strconv.FormatUint(uint64(c&0xf), 16))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (n *namer) writeChan(b *strings.Builder, t *types.Chan, arg bool) {
	switch t.Dir() {
	case types.RecvOnly:
		b.WriteString("<-chan ")
	case types.SendOnly:
		b.WriteString("chan<- ")
	default:
		b.WriteString("chan ")
		// chan (<-chan int): without the parentheses it would read as
		// chan<- (chan int).
		if e, ok := types.Unalias(t.Elem()).(*types.Chan); ok && e.Dir() == types.RecvOnly {
			b.WriteString("(")
			n.write(b, e, arg)
			b.WriteString(")")
			return
		}
	}
	n.write(b, t.Elem(), arg)
}

// writeSignature writes a function's parameters and results, without names.
func (n *namer) writeSignature(b *strings.Builder, sig *types.Signature, arg bool) {
	b.WriteString("(")
	params := sig.Params()
	for i := range params.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		if t := params.At(i).Type(); sig.Variadic() && i == params.Len()-1 {
			b.WriteString("...")
			n.write(b, t.(*types.Slice).Elem(), arg)
		} else {
			n.write(b, t, arg)
		}
	}
	b.WriteString(")")
	switch res := sig.Results(); res.Len() {
	case 0:
	case 1:
		b.WriteString(" ")
		n.write(b, res.At(0).Type(), arg)
	default:
		b.WriteString(" (")
		for i := range res.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			n.write(b, res.At(i).Type(), arg)
		}
		b.WriteString(")")
	}
}

// writeInterface writes an interface with all its methods, the exported
// ones first, each group by name.
func (n *namer) writeInterface(b *strings.Builder, t *types.Interface, arg bool) {
	if t.NumMethods() == 0 {
		b.WriteString("interface {}")
		return
	}
	methods := slices.SortedFunc(t.Methods(), func(x, y *types.Func) int {
		if x.Exported() != y.Exported() {
			if x.Exported() {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x.Name(), y.Name()); c != 0 || x.Exported() {
			return c
		}
		return strings.Compare(x.Pkg().Path(), y.Pkg().Path())
	})
	b.WriteString("interface {")
	for i, m := range methods {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" ")
		if !m.Exported() {
			b.WriteString(n.qualifier(m.Pkg(), arg) + ".")
		}
		b.WriteString(m.Name())
		n.writeSignature(b, m.Signature(), arg)
	}
	b.WriteString(" }")
}

func (n *namer) writeStruct(b *strings.Builder, t *types.Struct, arg bool) {
	b.WriteString("struct {")
	for i := range t.NumFields() {
		f := t.Field(i)
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" ")
		b.WriteString(n.fieldName(f, arg))
		n.write(b, f.Type(), arg)
		if tag := t.Tag(i); tag != "" {
			b.WriteString(" " + strconv.Quote(tag))
		}
	}
	if t.NumFields() > 0 {
		b.WriteString(" ")
	}
	b.WriteString("}")
}

// fieldName is what comes before a field's type: "Name ", nothing for an
// embedded field, and in the argument form "example.com/p.name " for an
// unexported field and "Name = " for an embedded field named otherwise than
// its type.
func (n *namer) fieldName(f *types.Var, arg bool) string {
	name, sep := f.Name(), " "
	if f.Embedded() {
		if !arg || n.namedAfterType(f) {
			return ""
		}
		sep = " = "
	}
	if arg && !token.IsExported(name) {
		name = n.qualifier(f.Pkg(), arg) + "." + name
	}
	return name + sep
}

// namedAfterType reports whether embedded field f has its type's name as
// the argument form writes it: not so for a generic type ("Pair" and
// "Pair[int8,int8]"), a function-scope type ("Local" and "Local·3"), a
// predeclared type or one that f names through an alias.
func (n *namer) namedAfterType(f *types.Var) bool {
	t := types.Unalias(f.Type())
	if p, ok := t.(*types.Pointer); ok {
		t = types.Unalias(p.Elem())
	}
	var name string
	var pkg *types.Package
	switch t := t.(type) {
	case *types.Named:
		name, pkg = n.symName(t, true), t.Obj().Pkg()
	case *types.Basic:
		name = basicName(t)
	}
	return name == f.Name() && (token.IsExported(name) || pkg == f.Pkg())
}
