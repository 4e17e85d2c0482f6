package main

import (
	"os"

	"github.com/typedmmap/mmap"
)

// Rec is the package doc's example: implicit padding after ID.
type Rec struct {
	ID    int32
	Value float64
}

// Point is flat.
type Point struct {
	X, Y float64
}

// Pair is a generic record.
type Pair[A, B any] struct {
	First  A
	Second B
}

// Named holds a string.
type Named struct {
	Name string
	N    int64
}

// Store keeps arrays in fields.
type Store struct {
	recs   *mmap.Array[Rec] // want `cannot map main\.Rec: 4 bytes of implicit padding after field ID`
	points *mmap.Array[Point]
	names  mmap.Slice[Named] // want `cannot map main\.Named: field Name is string`
}

// Recs is a slice of Rec by another name.
type Recs = mmap.Slice[Rec] // want `cannot map main\.Rec: 4 bytes`

// Column is a generic alias.
type Column[T any] = mmap.Slice[T]

var names Column[string] // want `cannot map string: it is string`

var scratch mmap.Slice[[4]bool] // want `cannot map \[4\]bool: field \[i\] is bool`

func open(path string) (*Store, error) {
	recs, err := mmap.Create[Rec](path) // want `cannot map main\.Rec: 4 bytes`
	if err != nil {
		return nil, err
	}
	points, err := mmap.Open[Point](path+".points", mmap.RDWR)
	if err != nil {
		return nil, err
	}
	return &Store{recs: recs, points: points}, nil
}

func views(f *os.File, b []byte) error {
	if _, err := mmap.MapSlice[int](f, mmap.RDONLY, 0); err != nil { // want `cannot map int: it is int: its size differs between 32- and 64-bit targets; use int64`
		return err
	}
	if _, err := mmap.MapSliceRegion[Pair[int64, float32]](f, 10, mmap.RDONLY, 0, 0); err != nil { // want `cannot map main\.Pair\[int64,float32\]: 4 bytes of implicit padding after field Second`
		return err
	}
	if _, err := mmap.View[*Point](b); err != nil { // want `cannot map \*main\.Point: it is \*main\.Point \(ptr\)`
		return err
	}
	if _, err := mmap.View[Point](b); err != nil {
		return err
	}
	_, err := mmap.Descr[[]float64]() // want `cannot map \[\]float64: it is \[\]float64: a slice holds a pointer, which means nothing in a file; use a \[N\]float64 array`
	return err
}

func each(s mmap.Slice[Named], fn func(Recs)) {} // want `cannot map main\.Named`

// mapAny leaves T to the run-time check: it cannot be judged here.
func mapAny[T any](f *os.File) (mmap.Slice[T], error) {
	return mmap.MapSlice[T](f, mmap.RDONLY, 0)
}

// mapPairs neither: Pair[T, int8] is made of T.
func mapPairs[T any](f *os.File) (mmap.Slice[Pair[T, int8]], error) {
	type local struct{ A T }
	_ = mmap.CheckType[local]()
	return mmap.MapSlice[Pair[T, int8]](f, mmap.RDONLY, 0)
}

var (
	_, _ = mapAny[string](nil) // the instantiation is of mapAny, not of mmap's API
	_, _ = mapPairs[int64](nil)
	_    = open
	_    = views
	_    = each
	_    = scratch
	_    = names
)
