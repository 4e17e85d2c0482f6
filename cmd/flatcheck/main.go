// Flatcheck reports, as the program is built, the types that
// github.com/typedmmap/mmap would refuse at run time: every instantiation
// of MapSlice, MapSliceRegion, View, CheckType, Create, Open, Descr,
// Array[T] and Slice[T] with a T that is not a flat type (see the package
// doc). It applies the same rules as the run-time check and reports the
// same message, at the instantiation:
//
//	main.go:12:27: mmap: cannot map main.Rec: 4 bytes of implicit padding after field ID; add `_ [4]byte` after field ID
//
// A T that is a type parameter, or is made of one, cannot be judged where it
// is written; flatcheck says nothing about it, and the run-time check stays.
//
// Run it through go vet, or on its own:
//
//	go install github.com/typedmmap/mmap/cmd/flatcheck
//	go vet -vettool=$(go env GOPATH)/bin/flatcheck ./...
//
//	go run github.com/typedmmap/mmap/cmd/flatcheck ./...
package main

import "golang.org/x/tools/go/analysis/singlechecker"

func main() { singlechecker.Main(Analyzer) }
