package mmap

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/typedmmap/mmap/internal/npy"
)

// FuzzMapRegion maps arbitrary regions of a file with arbitrary prot and
// flags. Either the error is of the kind the arguments call for, or the
// mapping holds exactly the file's bytes at that offset (up to the file's
// end, for a region that runs past it where the OS maps that); the file's
// size and content never change.
func FuzzMapRegion(f *testing.F) {
	f.Fuzz(func(t *testing.T, size uint32, offset int64, length int, prot, flags int) {
		size %= 3<<16 + 4096 // bound the file: a few allocation granules
		if length > 1<<20 {
			length %= 1 << 20 // bound the mapping too: anonymous memory, or a region past the end
		}
		data := pattern(int(size))
		path := newFile(t, data)
		file := openFile(t, path, os.O_RDWR)
		before := liveMappings()

		m, err := MapRegion(file, length, prot, flags, offset)
		n := int64(length)
		if length < 0 {
			n = int64(size) - offset
		}
		anon := flags&ANON != 0
		pastEnd := !anon && offset >= 0 && offset <= int64(size) && n >= 0 && n > int64(size)-offset
		switch {
		case prot&^knownProt != 0 || flags&^knownFlags != 0 || anon && (length <= 0 || offset != 0):
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v; want ErrInvalid", err)
			}
		case !anon && (offset < 0 || offset > int64(size) || n < 0) || pastEnd && !reserveBeyondEOF:
			if !errors.Is(err, ErrRange) {
				t.Fatalf("got %v; want ErrRange", err)
			}
		case pastEnd:
			// The file's bytes, then pages that fault.
			if err != nil || int64(len(m)) != n {
				t.Fatalf("a region past the end: got %d bytes, %v; want %d bytes", len(m), err, n)
			}
			checkBytes(t, "the part of the mapping in the file", m[:int64(size)-offset], data[offset:])
		case err != nil:
			t.Fatalf("valid region refused: %v", err)
		case anon:
			checkBytes(t, "anonymous mapping", m, make([]byte, length))
		default:
			checkBytes(t, "mapping", m, data[offset:offset+n])
		}
		if err != nil && (m != nil || liveMappings() != before) {
			t.Fatalf("refused, yet %d bytes mapped and %d live mappings (was %d)", len(m), liveMappings(), before)
		}
		if err := m.Unmap(); err != nil {
			t.Fatal(err)
		}
		checkBytes(t, "file after mapping", fileBytes(t, path), data)
	})
}

// FuzzView views arbitrary parts of an 8-aligned buffer as one of several
// flat types. It fails exactly when the start is misaligned for the type or
// the length is not a multiple of its size; otherwise the view covers exactly
// those bytes.
func FuzzView(f *testing.F) {
	f.Fuzz(func(t *testing.T, offset, length uint16, typ uint8) {
		buf := alignedBytes(1024)
		off := int(offset) % len(buf)
		b := buf[off : off+int(length)%(len(buf)-off+1)]
		viewChecks[int(typ)%len(viewChecks)](t, b, off)
	})
}

// viewChecks are checkView for each type FuzzView tries.
var viewChecks = []func(t *testing.T, b []byte, off int){
	checkView[uint16], checkView[uint32], checkView[float64], checkView[[3]byte],
	checkView[complex64], checkView[point], checkView[nested],
}

// checkView checks View[T] of b, which starts off bytes into 8-aligned
// memory.
func checkView[T any](t *testing.T, b []byte, off int) {
	var zero T
	size, align := int(unsafe.Sizeof(zero)), int(unsafe.Alignof(zero))
	v, err := View[T](b)
	switch {
	case len(b) > 0 && off%align != 0:
		if !errors.Is(err, ErrAlignment) {
			t.Fatalf("View[%T] at offset %d: got %v; want ErrAlignment", zero, off, err)
		}
	case len(b)%size != 0:
		if !errors.Is(err, ErrSize) {
			t.Fatalf("View[%T] of %d bytes: got %v; want ErrSize", zero, len(b), err)
		}
	case err != nil:
		t.Fatalf("View[%T] of %d bytes at offset %d: %v", zero, len(b), off, err)
	default:
		vb := v.Bytes()
		if len(v)*size != len(b) || len(vb) != len(b) || len(b) > 0 && &vb[0] != &b[0] {
			t.Fatalf("View[%T] of %d bytes: %d elements over %d bytes, not the same memory", zero, len(b), len(v), len(vb))
		}
		if len(v) > 0 {
			b[len(b)-1] ^= 0xff
			if vb[len(vb)-1] != b[len(b)-1] {
				t.Fatal("a change to the bytes does not show through the view")
			}
		}
	}
}

// fuzzLeaves are the field types FuzzLayout builds structs from; the last
// two are not flat.
var fuzzLeaves = []reflect.Type{
	reflect.TypeFor[int8](), reflect.TypeFor[uint16](), reflect.TypeFor[int32](),
	reflect.TypeFor[uint64](), reflect.TypeFor[float32](), reflect.TypeFor[float64](),
	reflect.TypeFor[complex64](), reflect.TypeFor[complex128](),
	reflect.TypeFor[[1]byte](), reflect.TypeFor[[2]byte](), reflect.TypeFor[[3]byte](),
	reflect.TypeFor[[4]byte](), reflect.TypeFor[[7]byte](), reflect.TypeFor[[2]int32](),
	reflect.TypeFor[bool](), reflect.TypeFor[int](),
}

// buildStruct makes a struct type from a recipe: each byte picks a leaf
// field, opens a nested struct (0xfe) or closes one (0xff).
func buildStruct(recipe []byte) reflect.Type {
	t, _ := buildFields(recipe, 0)
	return t
}

func buildFields(recipe []byte, depth int) (reflect.Type, []byte) {
	var fields []reflect.StructField
	for len(recipe) > 0 && len(fields) < 12 {
		c := recipe[0]
		recipe = recipe[1:]
		var ft reflect.Type
		switch {
		case c == 0xff && depth > 0:
			return reflect.StructOf(fields), recipe
		case c == 0xfe && depth < 3:
			ft, recipe = buildFields(recipe, depth+1)
		default:
			ft = fuzzLeaves[int(c)%len(fuzzLeaves)]
		}
		fields = append(fields, reflect.StructField{Name: "F" + strconv.Itoa(len(fields)), Type: ft})
	}
	return reflect.StructOf(fields), recipe
}

// FuzzLayout builds random struct types and checks the verdict against the
// field offsets reflect reports: an admitted type has no gaps anywhere and
// the same layout under 4- and 8-byte maximum alignment; a type refused for
// padding has a gap (on 64-bit targets, where Go aligns naturally); a type
// refused for anything else holds a field that is not flat or has size 0.
func FuzzLayout(f *testing.F) {
	f.Fuzz(func(t *testing.T, recipe []byte) {
		typ := buildStruct(recipe)
		l := checkLayout(typ)
		var te *TypeError
		switch {
		case l.err == nil:
			if gap := reflectGap(typ); gap != "" || typ.Size() == 0 {
				t.Fatalf("%v admitted, but reflect shows %q (size %d)", typ, gap, typ.Size())
			}
			checkSameLayoutEverywhere(t, typ)
		case !errors.As(l.err, &te):
			t.Fatalf("%v: got %v; want a *TypeError", typ, l.err)
		case strings.Contains(te.Problem, "implicit padding"):
			if gap := reflectGap(typ); gap == "" && strconv.IntSize == 64 {
				t.Fatalf("%v refused for padding (%v), but reflect shows no gap", typ, l.err)
			}
		default:
			if !holdsNonFlat(typ) && typ.Size() != 0 {
				t.Fatalf("%v refused (%v), but holds only flat fields", typ, l.err)
			}
		}
	})
}

// reflectGap describes the first gap between or after fields in t as reflect
// lays it out, or returns "".
func reflectGap(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Array:
		return reflectGap(t.Elem())
	case reflect.Struct:
		var end uintptr
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Offset != end {
				return fmt.Sprintf("gap before field %s at %d", f.Name, end)
			}
			if g := reflectGap(f.Type); g != "" {
				return f.Name + ": " + g
			}
			end += f.Type.Size()
		}
		if end != t.Size() {
			return fmt.Sprintf("gap at the end, from %d to %d", end, t.Size())
		}
	}
	return ""
}

// holdsNonFlat reports whether t holds a bool, an int, or an empty struct.
func holdsNonFlat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int:
		return true
	case reflect.Array:
		return holdsNonFlat(t.Elem())
	case reflect.Struct:
		if t.Size() == 0 {
			return true
		}
		for i := range t.NumField() {
			if holdsNonFlat(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// FuzzOpen opens arbitrary bytes as an array file of rec. Either Open
// refuses them with an error of the package's kinds, or every record can be
// read, and a record can be appended (unless the header has no room to count
// it, which Append must say) and the file reopens with it, a valid .npy.
func FuzzOpen(f *testing.F) {
	good := "{'descr': " + strings.ReplaceAll(recDescr, "<", string(npy.HostOrder)) + ", 'fortran_order': False, 'shape': (2,), }"
	for _, seed := range [][]byte{
		npyFile("\x01\x00", good, 48),
		npyFile("\x03\x00", good, 48),
		npyFile("\x01\x00", strings.Replace(good, "(2,)", "(3,)", 1), 48),
		npyFile("\x01\x00", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16),
		[]byte("\x89TMA\r\n\x1a\n"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		path := newFile(t, data)
		a, err := Open[rec](path, RDONLY)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrType) && !errors.Is(err, ErrByteOrder) && !errors.Is(err, ErrAlignment) {
				t.Fatalf("Open: got %v; want ErrFormat, ErrType, ErrByteOrder or ErrAlignment", err)
			}
			return
		}
		n := a.Len()
		var sum uint64
		for _, r := range a.Items() {
			sum += r.I + r.Sum
		}
		if room := (len(data) - a.h.Len) / 24; n > room {
			t.Fatalf("Len %d, but the file has room for %d records", n, room)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		w, err := Open[rec](path, RDWR)
		if err != nil {
			t.Fatalf("Open for writing a file that opened read-only: %v", err)
		}
		if err := w.Append(mkrec(uint64(n), 1)); err != nil {
			if errSays(err, ErrRange, "the header has room") {
				w.Close()
				return
			}
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open[rec](path, RDONLY)
		if err != nil {
			t.Fatalf("reopen after Append: %v", err)
		}
		defer r.Close()
		if r.Len() != n+1 || r.Items()[n] != mkrec(uint64(n), 1) {
			t.Fatalf("after Append: Len %d (want %d), last record %+v", r.Len(), n+1, r.Items()[r.Len()-1])
		}
		if _, err := npy.Parse(fileBytes(t, path)); err != nil {
			t.Fatalf("after Append, the header does not parse: %v", err)
		}
	})
}
