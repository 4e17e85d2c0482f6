package main

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/typedmmap/mmap"
)

// The table of types that both checks judge: the run-time check
// (mmap.CheckType) in the test binary, and flatcheck over this file's
// source (TestSameVerdictsAsRunTime). It must stay in a file of its own.

type tRec struct { // the package doc's example
	ID    int32
	Value float64
}

type tPoint struct {
	X, Y  float64
	Label [3]byte
	Kind  uint8
	_     [4]byte
}

type tPair[A, B any] struct {
	First  A
	Second B
}

type tBox[T any] struct{ V T }

type (
	tCelsius float64
	tList    []int32
	tGrid    [2][3]tPoint
	tIface   interface {
		M(int) (string, error)
		n()
	}
	tAliasOfInt = int
)

// tableRow is one type of the table: check is mmap.CheckType of it, and
// want is "" if it is flat, or what the message must say.
type tableRow struct {
	name  string
	check func() error
	want  string
}

func flatTable() []tableRow {
	type tLocal struct {
		A int8
		B int16
	}
	type tLocalOK struct{ A, B int16 }
	type tLocalBox[T any] struct{ V T }
	return []tableRow{
		// Admitted.
		{"int8", mmap.CheckType[int8], ""},
		{"uint16", mmap.CheckType[uint16], ""},
		{"int32", mmap.CheckType[int32], ""},
		{"uint64", mmap.CheckType[uint64], ""},
		{"float32", mmap.CheckType[float32], ""},
		{"float64", mmap.CheckType[float64], ""},
		{"complex64", mmap.CheckType[complex64], ""},
		{"complex128", mmap.CheckType[complex128], ""},
		{"a named float64", mmap.CheckType[tCelsius], ""},
		{"a named type of another package", mmap.CheckType[time.Duration], ""},
		{"an array", mmap.CheckType[[3]float64], ""},
		{"a named array of structs", mmap.CheckType[tGrid], ""},
		{"a struct with explicit padding", mmap.CheckType[tPoint], ""},
		{"nested structs and arrays of structs", mmap.CheckType[struct {
			ID    uint64
			Pos   struct{ X, Y, Z float32 }
			Flags uint32
			Tags  [2]struct{ A, B int16 }
		}], ""},
		{"padding written as a blank uint32", mmap.CheckType[struct {
			A int32
			_ uint32
			B int64
		}], ""},
		{"unexported fields and a 4-aligned complex64", mmap.CheckType[struct {
			a int32
			c complex64
		}], ""},
		{"an odd-sized byte array", mmap.CheckType[struct{ A [5]byte }], ""},
		{"a generic struct of flat types", mmap.CheckType[tPair[int32, uint32]], ""},
		{"a generic struct of a generic struct", mmap.CheckType[tPair[tBox[int64], float64]], ""},
		{"a function-scope type", mmap.CheckType[tLocalOK], ""},
		{"a function-scope generic type", mmap.CheckType[tLocalBox[tPair[tLocalOK, tLocalOK]]], ""},
		{"numpy types asked for in tags", mmap.CheckType[struct {
			Time  int64 `npy:"time,M8[ns]"`
			Took  int64 `npy:",m8[us]"`
			OK    uint8 `npy:",?"`
			Sign  int8  `npy:",?"`
			_     [6]byte
			Code  [8]byte   `npy:"code,S"`
			Name  [4]rune   `npy:",U"`
			Label [2]uint32 `npy:",U"`
		}], ""},

		// Numpy types asked for on the wrong Go type, or unknown.
		{"a datetime on an int32", mmap.CheckType[struct {
			T int32 `npy:"t,M8[ns]"`
		}], "field T is int32 and asks for numpy type M8[ns] in its tag, which needs an int64"},
		{"a datetime without a unit", mmap.CheckType[struct {
			T int64 `npy:",M8"`
		}], "field T asks for numpy type \"M8\" in its tag; a datetime64 or timedelta64 needs a unit"},
		{"a datetime of an unknown unit", mmap.CheckType[struct {
			T int64 `npy:",m8[5s]"`
		}], "needs a unit, one of Y M W D h m s ms us ns ps fs as: m8[ns], say"},
		{"a bool on a uint16", mmap.CheckType[struct {
			B uint16 `npy:",?"`
		}], "field B is uint16 and asks for numpy type ? in its tag, which needs a uint8 (or an int8)"},
		{"bytes on an int8 array", mmap.CheckType[struct {
			S [4]int8 `npy:",S"`
		}], "field S is [4]int8 and asks for numpy type S in its tag, which needs a [n]byte array"},
		{"unicode on a byte array", mmap.CheckType[struct {
			U [4]byte `npy:",U"`
		}], "field U is [4]uint8 and asks for numpy type U in its tag, which needs a [n]rune or [n]uint32 array"},
		{"a numpy type no field can ask for", mmap.CheckType[struct {
			F float64 `npy:",f2"`
		}], "field F asks for numpy type \"f2\" in its tag, which is none a Go field can ask for"},

		// Kinds that are never flat.
		{"int", mmap.CheckType[int], "it is int: its size differs"},
		{"uint", mmap.CheckType[uint], "use uint64"},
		{"uintptr", mmap.CheckType[uintptr], "use uint64"},
		{"an alias of int", mmap.CheckType[tAliasOfInt], "cannot map int:"},
		{"bool", mmap.CheckType[bool], "not every byte is a valid bool"},
		{"string", mmap.CheckType[string], "a string holds a pointer"},
		{"a slice", mmap.CheckType[[]byte], "use a [N]uint8 array"},
		{"a named slice", mmap.CheckType[tList], "it is main.tList: a slice"},
		{"a pointer", mmap.CheckType[*int32], "it is *int32 (ptr)"},
		{"a pointer to a struct", mmap.CheckType[*tPoint], "it is *main.tPoint (ptr)"},
		{"unsafe.Pointer", mmap.CheckType[unsafe.Pointer], "(unsafe.Pointer)"},
		{"a map", mmap.CheckType[map[string][]tPoint], "(map)"},
		{"a channel", mmap.CheckType[chan (<-chan int)], "(chan)"},
		{"a send channel", mmap.CheckType[chan<- <-chan int], "(chan)"},
		{"a func", mmap.CheckType[func(int, ...string) (bool, error)], "(func)"},
		{"a func of one result", mmap.CheckType[func([]byte) error], "(func)"},
		{"the empty interface", mmap.CheckType[any], "interface {} (interface)"},
		{"error", mmap.CheckType[error], "it is error (interface)"},
		{"an interface literal", mmap.CheckType[interface {
			Z()
			M(x int) string
			a()
		}], "(interface)"},
		{"a named interface with an unexported method", mmap.CheckType[tIface], "(interface)"},

		// Size 0.
		{"the empty struct", mmap.CheckType[struct{}], "size 0"},
		{"an empty array", mmap.CheckType[[0]int64], "size 0"},
		{"a zero-size field", mmap.CheckType[struct {
			A int64
			Z [0]int64
		}], "field Z has size 0"},
		{"an empty struct field", mmap.CheckType[struct {
			A int64
			E struct{}
		}], "field E has size 0"},

		// Fields that are not flat, named by their path.
		{"a string field", mmap.CheckType[struct {
			ID   int64
			Name string
		}], "field Name is string"},
		{"a pointer in a nested struct", mmap.CheckType[struct {
			Inner struct{ P *tPoint }
		}], "field Inner.P is *main.tPoint"},
		{"an int in an array of structs", mmap.CheckType[struct {
			Pts [4]struct {
				X int
				Y int64
			}
		}], "field Pts[i].X is int"},
		{"an array of bool", mmap.CheckType[[4]bool], "field [i] is bool"},
		{"a blank field that is not flat", mmap.CheckType[struct {
			_ string
			A int64
		}], "field _ is string"},
		{"a func field", mmap.CheckType[struct{ F func(x int) }], "field F is func(int)"},
		{"an interface field", mmap.CheckType[struct{ I interface{ M() } }], "field I is interface { M() }"},
		{"a struct of another package", mmap.CheckType[struct{ W sync.WaitGroup }], "field W.noCopy"},
		{"time.Time", mmap.CheckType[time.Time], "it is time.Time: it holds a pointer (its *time.Location), which means nothing in a file; store the time as int64 Unix nanoseconds"},
		{"a time.Time field", mmap.CheckType[struct {
			At    time.Time
			Value float64
		}], "field At is time.Time: it holds a pointer (its *time.Location), which means nothing in a file; store the time as int64 Unix nanoseconds (t.UnixNano(), time.Unix(0, n))"},
		{"a slice of int", mmap.CheckType[struct{ S []int }], "field S is []int: a slice holds a pointer, which means nothing in a file; use a [N]int64 array"},
		{"a slice of arrays of bool", mmap.CheckType[[][2]bool], "use a [N][2]uint8 array"},
		{"an embedded struct", mmap.CheckType[struct {
			tPoint
			S []tPoint
		}], "field S is []main.tPoint"},

		// Implicit padding.
		{"padding between fields", mmap.CheckType[tRec], "4 bytes of implicit padding after field ID; add `_ [4]byte` after field ID"},
		{"padding at the end", mmap.CheckType[struct {
			A int64
			B int32
		}], "add `_ [4]byte` after field B"},
		{"padding at the end of a nested struct", mmap.CheckType[struct {
			In struct {
				A int64
				B int8
			}
			C int64
		}], "add `_ [7]byte` after field In.B"},
		{"padding before a complex128", mmap.CheckType[struct {
			A int8
			C complex128
		}], "add `_ [7]byte` after field A"},
		{"padding in an array of structs", mmap.CheckType[struct {
			Pts [2]struct {
				X int64
				Y int16
			}
		}], "after field Pts[i].Y"},
		{"a function-scope type with padding", mmap.CheckType[tLocal], "cannot map main.tLocal: 1 bytes"},

		// Generic types: their arguments are named as the linker names them.
		{"a generic struct with padding", mmap.CheckType[tPair[int64, float32]], "cannot map main.tPair[int64,float32]: 4 bytes"},
		{"a generic struct of a struct with padding", mmap.CheckType[tPair[tRec, int64]], "after field First.ID"},
		{"type arguments of other packages", mmap.CheckType[tPair[time.Duration, string]], "main.tPair[time.Duration,string]"},
		{"type arguments of this package", mmap.CheckType[tPair[[2]tPoint, *tPoint]], "field Second is *main.tPoint"},
		{"a map type argument", mmap.CheckType[tPair[struct{ A int32 }, map[string]time.Time]], "(map)"},
		{"a generic type argument", mmap.CheckType[tPair[tPair[int8, uint8], int]], "field Second is int"},
		{"a generic type argument of another package", mmap.CheckType[tBox[atomic.Pointer[tPoint]]], "field V._[i] is *main.tPoint"},
		{"a generic type of another package", mmap.CheckType[atomic.Pointer[tRec]], "field _[i] is *main.tRec"},
		{"interface type arguments", mmap.CheckType[tPair[any, interface {
			M()
			m()
		}]], "(interface)"},
		{"func and chan type arguments", mmap.CheckType[tPair[func(int, ...string) (bool, error), chan<- int]], "(func)"},
		{"a type argument with unexported and blank fields", mmap.CheckType[tPair[struct {
			x int32
			_ [4]byte
			Y int64
		}, bool]], "field Second is bool"},
		{"a type argument with a tag", mmap.CheckType[tPair[struct {
			A int32 `npy:"a"`
		}, uint]], "field Second is uint"},
		{"a type argument with embedded fields", mmap.CheckType[tPair[struct {
			int32
			_ [4]byte
			tPoint
			*tRec
		}, int]], "field First.tRec is *main.tRec"},
		{"a type argument embedding a generic type", mmap.CheckType[tPair[struct{ tBox[int8] }, uintptr]], "field Second is uintptr"},
		{"a type argument embedding an alias", mmap.CheckType[tPair[struct{ tAliasOfInt }, int8]], "field First.tAliasOfInt is int"},
		{"a named type argument", mmap.CheckType[tPair[tList, tIface]], "field First is main.tList"},
		{"a function-scope type argument", mmap.CheckType[tPair[tLocal, int8]], "padding after field First.A"},
		{"a function-scope generic type of a string", mmap.CheckType[tLocalBox[string]], "cannot map main.tLocalBox[string]: field V is string"},
		{"a function-scope generic type argument", mmap.CheckType[tPair[tLocalBox[int8], string]], "field Second is string"},
		{"a type argument embedding a function-scope type", mmap.CheckType[tPair[struct {
			tLocal
			tLocalBox[int32]
		}, bool]], "field First.tLocal.A"},
	}
}
