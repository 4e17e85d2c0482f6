package main

import (
	"cmp"
	"go/ast"
	"go/types"
	"slices"
	"strings"

	"github.com/typedmmap/mmap/internal/flat"
	"golang.org/x/tools/go/analysis"
)

// Analyzer reports instantiations of the mmap package's generic API with a
// type that is not flat.
var Analyzer = &analysis.Analyzer{
	Name: "flatcheck",
	Doc: `report mmap instantiations with a type that is not flat

flatcheck reports every instantiation of MapSlice, MapSliceRegion, View,
CheckType, Create, Open, Descr, Array[T] and Slice[T] of
github.com/typedmmap/mmap whose T is not a flat type, with the message that
the run-time check would return. A T made of type parameters is left to the
run-time check.`,
	Run: run,
}

// mmapPath is the import path of the package whose API flatcheck checks.
const mmapPath = "github.com/typedmmap/mmap"

// checked are the generic functions and types of package mmap whose type
// argument must be flat.
var checked = map[string]bool{
	"MapSlice": true, "MapSliceRegion": true, "View": true, "CheckType": true,
	"Create": true, "Open": true, "Descr": true, "Array": true, "Slice": true,
}

func run(pass *analysis.Pass) (any, error) {
	var n *namer // made on first use: most packages instantiate nothing of mmap's
	for _, site := range instantiations(pass) {
		if n == nil {
			n = newNamer(pass.Pkg, pass.Files, pass.TypesInfo)
		}
		if n.hasTypeParam(site.typ) {
			continue
		}
		if _, err := flat.Check(goType{t: site.typ, n: n.inTest(isTestFile(pass, site.id))}); err != nil {
			pass.Reportf(site.id.Pos(), "%s", flat.Message(err.Type, err.Problem))
		}
	}
	return nil, nil
}

// site is an instantiation of a checked function or type with typ.
type site struct {
	id  *ast.Ident // the function's or type's name where it is instantiated
	typ types.Type
}

// instantiations returns the package's instantiations of the checked
// functions and types, and of generic aliases of the checked types, in
// source order.
func instantiations(pass *analysis.Pass) []site {
	var sites []site
	for id, inst := range pass.TypesInfo.Instances {
		switch named, _ := types.Unalias(inst.Type).(*types.Named); {
		case isChecked(pass.TypesInfo.Uses[id]) && inst.TypeArgs.Len() == 1:
			sites = append(sites, site{id: id, typ: inst.TypeArgs.At(0)})
		case named != nil && isChecked(named.Obj()): // type S[T any] = mmap.Slice[T]; S[string]
			sites = append(sites, site{id: id, typ: named.TypeArgs().At(0)})
		}
	}
	slices.SortFunc(sites, func(a, b site) int { return cmp.Compare(a.id.Pos(), b.id.Pos()) })
	return sites
}

// isChecked reports whether obj is one of the checked functions or types.
func isChecked(obj types.Object) bool {
	return obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == mmapPath && checked[obj.Name()] &&
		obj.Parent() == obj.Pkg().Scope()
}

// isTestFile reports whether id lies in a _test.go file.
func isTestFile(pass *analysis.Pass, id *ast.Ident) bool {
	return strings.HasSuffix(pass.Fset.Position(id.Pos()).Filename, "_test.go")
}
