package mmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/typedmmap/mmap/internal/flat"
)

// point is a flat record with explicit padding.
type point struct {
	X, Y  float64
	Label [3]byte
	Kind  uint8
	_     [4]byte
}

type celsius float64

type nested struct {
	ID    uint64
	Pos   struct{ X, Y, Z float32 }
	Flags uint32
	Tags  [2]struct{ A, B int16 }
}

// admission runs CheckType on T as a table entry.
type admission struct {
	name  string
	check func() error
	typ   reflect.Type
}

func admit[T any](name string) admission {
	return admission{name, CheckType[T], reflect.TypeFor[T]()}
}

func TestCheckTypeAccepts(t *testing.T) {
	for _, c := range []admission{
		admit[int8]("int8"), admit[uint16]("uint16"), admit[int32]("int32"), admit[uint64]("uint64"),
		admit[float32]("float32"), admit[float64]("float64"),
		admit[complex64]("complex64"), admit[complex128]("complex128"),
		admit[celsius]("a named float64"),
		admit[[3]float64]("an array"),
		admit[point]("a struct with explicit padding"),
		admit[nested]("nested structs and arrays of structs"),
		admit[[2]point]("an array of structs"),
		admit[struct {
			A int32
			_ uint32
			B int64
		}]("padding written as a blank uint32"),
		admit[struct {
			a int32
			c complex64
		}]("unexported fields and a 4-aligned complex64"),
		admit[struct{ A [5]byte }]("an odd-sized byte array"),
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(); err != nil {
				t.Fatalf("CheckType[%v]: %v", c.typ, err)
			}
			checkSameLayoutEverywhere(t, c.typ)
		})
	}
}

// checkSameLayoutEverywhere checks that t's layout is the same with 4- and
// 8-byte maximum alignment (32- and 64-bit targets), and that the offsets
// the running platform gives (reflect) are those offsets.
func checkSameLayoutEverywhere(t *testing.T, typ reflect.Type) {
	t.Helper()
	l8, err8 := flat.CheckAligned(reflectType{typ}, 8)
	l4, err4 := flat.CheckAligned(reflectType{typ}, 4)
	if err8 != nil || err4 != nil || l8.Size != l4.Size || l8.String() != l4.String() {
		t.Fatalf("layout differs between 8- and 4-byte maximum alignment: %v (%v) vs %v (%v)", l8, err8, l4, err4)
	}
	if got := reflectDesc(typ); got != l8.String() || typ.Size() != uintptr(l8.Size) {
		t.Errorf("this platform lays %v out as size %d %q; the check computed size %d %q", typ, typ.Size(), got, l8.Size, l8)
	}
}

// reflectDesc describes t like flat.Layout.String does, but with the offsets
// that reflect reports for the running platform.
func reflectDesc(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), reflectDesc(t.Elem()))
	case reflect.Struct:
		var b strings.Builder
		b.WriteString("{")
		for i := range t.NumField() {
			f := t.Field(i)
			d := reflectDesc(f.Type)
			if f.Name == "_" {
				d = fmt.Sprintf("_%d", f.Type.Size())
			}
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%d:%s", f.Offset, d)
		}
		return b.String() + "}"
	}
	return codes[t.Kind()]
}

func TestCheckTypeRejects(t *testing.T) {
	for _, c := range []struct {
		admission
		field string   // the field path the error must name
		want  []string // what the message must say
	}{
		{admit[int]("int"), "", []string{"cannot map int", "32- and 64-bit", "use int64"}},
		{admit[uint]("uint"), "", []string{"use uint64"}},
		{admit[uintptr]("uintptr"), "", []string{"use uint64"}},
		{admit[bool]("bool"), "", []string{"not every byte is a valid bool", "use uint8"}},
		{admit[string]("string"), "", []string{"[N]byte"}},
		{admit[*int]("pointer"), "", []string{"pointer", "[N]byte"}},
		{admit[unsafe.Pointer]("unsafe.Pointer"), "", []string{"pointer"}},
		{admit[[]byte]("slice"), "", []string{"[N]uint8 array"}},
		{admit[map[int]int]("map"), "", []string{"map"}},
		{admit[chan int]("chan"), "", []string{"chan"}},
		{admit[func()]("func"), "", []string{"func"}},
		{admit[any]("interface"), "", []string{"interface"}},
		{admit[struct{}]("empty struct"), "", []string{"size 0"}},
		{admit[[0]int64]("empty array"), "", []string{"size 0"}},
		{admit[[4]bool]("array of bool"), "[i]", []string{"field [i] is bool"}},
		{admit[struct {
			ID   int64
			Name string
		}]("string field"), "Name", []string{"field Name is string", "[N]byte"}},
		{admit[struct {
			Inner struct{ P *point }
		}]("pointer in a nested struct"), "Inner.P", []string{"field Inner.P is *mmap.point"}},
		{admit[struct {
			Pts [4]struct {
				X int
				Y int64
			}
		}]("int in an array of structs"), "Pts[i].X", []string{"field Pts[i].X is int", "use int64"}},
		{admit[struct {
			A int32
			B int64
		}]("padding between fields"), "A", []string{"4 bytes of implicit padding after field A", "add `_ [4]byte` after field A"}},
		{admit[struct {
			A int64
			B int32
		}]("padding at the end"), "B", []string{"add `_ [4]byte` after field B"}},
		{admit[struct {
			In struct {
				A int64
				B int8
			}
			C int64
		}]("padding at the end of a nested struct"), "In.B", []string{"add `_ [7]byte` after field In.B"}},
		{admit[struct {
			A int8
			C complex128
		}]("padding before a complex128"), "A", []string{"add `_ [7]byte` after field A"}},
		{admit[struct {
			A int64
			Z [0]int64
		}]("a zero-size field"), "Z", []string{"field Z has size 0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.check()
			var te *TypeError
			if !errors.Is(err, ErrType) || !errors.As(err, &te) {
				t.Fatalf("CheckType[%v]: got %v; want a *TypeError", c.typ, err)
			}
			if te.Field != c.field || te.Type != c.typ.String() {
				t.Errorf("got type %q, field %q; want %q, %q", te.Type, te.Field, c.typ.String(), c.field)
			}
			msg := err.Error()
			for _, w := range append(c.want, "mmap: cannot map "+c.typ.String()) {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestCheckTypeIsCached(t *testing.T) {
	a, errA := layoutFor[point]()
	b, errB := layoutFor[point]()
	if a != b || errA != nil || errB != nil {
		t.Errorf("two lookups gave %p (%v) and %p (%v); want the same cached layout", a, errA, b, errB)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = CheckType[nested]() }); allocs != 0 {
		t.Errorf("CheckType of a checked type allocates %v times; want 0", allocs)
	}
}

// codes name the kinds of numbers as flat.Layout.String does.
var codes = map[reflect.Kind]string{
	reflect.Int8: "i8", reflect.Int16: "i16", reflect.Int32: "i32", reflect.Int64: "i64",
	reflect.Uint8: "u8", reflect.Uint16: "u16", reflect.Uint32: "u32", reflect.Uint64: "u64",
	reflect.Float32: "f32", reflect.Float64: "f64", reflect.Complex64: "c64", reflect.Complex128: "c128",
}

// writeRecords writes recs with encoding/binary in host byte order, the
// reference a mapped view must agree with.
func writeRecords[T any](t *testing.T, recs []T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.NativeEndian, recs); err != nil {
		t.Fatal(err)
	}
	return newFile(t, buf.Bytes())
}

func samplePoints(n int) []point {
	pts := make([]point, n)
	for i := range pts {
		pts[i] = point{X: float64(i) * 1.5, Y: -float64(i), Label: [3]byte{'p', byte('a' + i%26), '0'}, Kind: uint8(i)}
	}
	return pts
}

func TestMapSliceMatchesEncodingBinary(t *testing.T) {
	want := samplePoints(1000)
	path := writeRecords(t, want)
	s, err := MapSlice[point](openFile(t, path, os.O_RDONLY), RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unmap()
	if !slices.Equal(s, want) {
		t.Fatalf("mapped records differ from those encoding/binary wrote")
	}

	var n nested
	n.ID, n.Pos.Y, n.Flags, n.Tags[1].B = 1<<60+3, 2.5, 0xdeadbeef, -7
	nests := []nested{n, {ID: 9}}
	ns, err := MapSlice[nested](openFile(t, writeRecords(t, nests), os.O_RDONLY), RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Unmap()
	if !slices.Equal(ns, nests) {
		t.Errorf("mapped nested records: got %+v; want %+v", ns, nests)
	}
}

func TestSliceWritesReachFileAsEncodingBinaryReadsThem(t *testing.T) {
	pts := samplePoints(300)
	path := writeRecords(t, pts)
	s, err := MapSlice[point](openFile(t, path, os.O_RDWR), RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	s[7].X, s[299].Kind = 42, 99
	pts[7].X, pts[299].Kind = 42, 99
	b := s.Bytes()
	if got := binary.NativeEndian.Uint64(b[7*int(unsafe.Sizeof(point{})):]); got != 0x4045000000000000 {
		t.Errorf("Bytes: X of record 7 is %#x; want the bits of 42.0", got)
	}
	if err := s[7:8].Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s[299:].Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmap(); err != nil || s != nil {
		t.Fatalf("Unmap: %v, s=%v", err, len(s))
	}
	got := make([]point, len(pts))
	if err := binary.Read(bytes.NewReader(fileBytes(t, path)), binary.NativeEndian, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, pts) {
		t.Error("file read back with encoding/binary differs from what was written through the view")
	}
}

func TestMapSliceRegion(t *testing.T) {
	pts := samplePoints(100)
	path := writeRecords(t, pts)
	f := openFile(t, path, os.O_RDONLY)
	size := int64(unsafe.Sizeof(point{}))
	for _, c := range []struct {
		name  string
		n     int
		first int
	}{
		{"all", -1, 0},
		{"three from the start", 3, 0},
		{"from record 10 to the end", -1, 10},
		{"one from record 99", 1, 99},
		{"none at the end", 0, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := MapSliceRegion[point](f, c.n, RDONLY, 0, int64(c.first)*size)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Unmap()
			want := pts[c.first:]
			if c.n >= 0 {
				want = want[:c.n]
			}
			if !slices.Equal(s, want) || s == nil {
				t.Errorf("got %d records (nil: %t); want records %d..%d", len(s), s == nil, c.first, c.first+len(want))
			}
		})
	}
}

func TestMapSliceRegionErrors(t *testing.T) {
	path := newFile(t, pattern(1000))
	f := openFile(t, path, os.O_RDONLY)
	before := liveMappings()
	for _, c := range []struct {
		name string
		err  error
		kind error
		want string
	}{
		{"misaligned offset", errOf(MapSliceRegion[point](f, 1, RDONLY, 0, 4)),
			ErrAlignment, "offset 4 is 4-byte aligned; mmap.point needs 8"},
		{"misaligned odd offset", errOf(MapSliceRegion[uint16](f, -1, RDONLY, 0, 7)),
			ErrAlignment, "offset 7 is 1-byte aligned; uint16 needs 2"},
		{"length not a multiple", errOf(MapSlice[point](f, RDONLY, 0)),
			ErrSize, "1000 bytes are not a whole number of mmap.point (24 bytes each): 16 bytes left over"},
		{"rest of the file not a multiple", errOf(MapSliceRegion[[3]uint64](f, -1, RDONLY, 0, 8)),
			ErrSize, "992 bytes"},
		{"count past the end", errOf(MapSliceRegion[point](f, 42, RDONLY, 0, 0)),
			ErrRange, "length 1008"},
		{"count overflowing an int", errOf(MapSliceRegion[point](f, maxInt/16, RDONLY, 0, 0)),
			ErrRange, "overflow an int"},
		{"negative offset", errOf(MapSliceRegion[point](f, 1, RDONLY, 0, -8)),
			ErrRange, "negative offset"},
		{"type that is not flat", errOf(MapSlice[string](f, RDONLY, 0)),
			ErrType, "cannot map string"},
		{"ANON with no count", errOf(MapSlice[point](nil, RDWR, ANON)),
			ErrInvalid, "ANON"},
	} {
		if !errSays(c.err, c.kind, c.want) {
			t.Errorf("%s: got %v; want %v saying %q", c.name, c.err, c.kind, c.want)
		}
	}
	if liveMappings() != before {
		t.Errorf("live mappings: got %d; want %d (nothing mapped)", liveMappings(), before)
	}
}

func TestMapSliceEmptyFile(t *testing.T) {
	s, err := MapSlice[point](openFile(t, newFile(t, nil), os.O_RDONLY), RDONLY, 0)
	if err != nil || s == nil || len(s) != 0 {
		t.Fatalf("got %v (nil: %t), %v; want an empty non-nil Slice", len(s), s == nil, err)
	}
	if err := s.Unmap(); err != nil {
		t.Errorf("Unmap: %v", err)
	}
}

func TestMapSliceAnon(t *testing.T) {
	s, err := MapSliceRegion[nested](nil, 1000, RDWR, ANON, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1000 || s[999] != (nested{}) {
		t.Fatalf("got %d records, last %+v; want 1000 zero records", len(s), s[999])
	}
	s[500].ID = 5
	if err := s.Unmap(); err != nil {
		t.Fatal(err)
	}
}

func TestSliceIsAPlainSlice(t *testing.T) {
	vals := []uint64{9, 3, 7, 1, 8, 2}
	path := writeRecords(t, vals)
	s, err := MapSlice[uint64](openFile(t, path, os.O_RDWR), RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s)
	if i, found := slices.BinarySearch(s, 7); !found || i != 3 {
		t.Errorf("BinarySearch(7): got %d, %t; want 3, true", i, found)
	}
	var sum uint64
	for _, v := range s {
		sum += v
	}
	if sum != 30 {
		t.Errorf("range sum: got %d; want 30", sum)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmap(); err != nil {
		t.Fatal(err)
	}
	got := make([]uint64, len(vals))
	if err := binary.Read(bytes.NewReader(fileBytes(t, path)), binary.NativeEndian, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint64{1, 2, 3, 7, 8, 9}) {
		t.Errorf("file after sorting the view: got %v", got)
	}
}

func TestSliceUnmap(t *testing.T) {
	path := writeRecords(t, samplePoints(10))
	s, err := MapSlice[point](openFile(t, path, os.O_RDONLY), RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []Slice[point]{s[1:], s[:9], s[2:5]} {
		n := len(sub)
		if err := sub.Unmap(); !errors.Is(err, ErrInvalid) || len(sub) != n {
			t.Errorf("Unmap of a %d-record sub-slice: got %v, %d records left; want ErrInvalid and the slice kept", n, err, len(sub))
		}
	}
	if s[9].X != 13.5 {
		t.Errorf("after refused Unmaps: s[9].X is %v; want 13.5", s[9].X)
	}
	if err := s.Unmap(); err != nil || s != nil {
		t.Fatalf("Unmap: got %v, %d records; want nil, nil slice", err, len(s))
	}
}

func TestView(t *testing.T) {
	pts := samplePoints(4)
	raw := fileBytes(t, writeRecords(t, pts))
	buf := alignedBytes(len(raw) + 8)
	copy(buf, raw)

	v, err := View[point](buf[:len(raw)])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v, pts) {
		t.Errorf("View: got %+v; want %+v", v, pts)
	}
	v[2].Y = 77
	if got := binary.NativeEndian.Uint64(buf[2*24+8:]); got != 0x4053400000000000 {
		t.Errorf("write through the view: bytes hold %#x; want the bits of 77.0", got)
	}
	if err := v.Unmap(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Unmap of a view of heap memory: got %v; want ErrInvalid", err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		kind error
		want string
	}{
		{"misaligned", buf[2 : 2+24], ErrAlignment, fmt.Sprintf("is 2-byte aligned; mmap.point needs %d", unsafe.Alignof(point{}))},
		{"length not a multiple", buf[:40], ErrSize, "16 bytes left over"},
	} {
		if _, err := View[point](c.b); !errSays(err, c.kind, c.want) {
			t.Errorf("%s: got %v; want %v saying %q", c.name, err, c.kind, c.want)
		}
	}
	if _, err := View[[]int](buf); !errors.Is(err, ErrType) {
		t.Errorf("View of a slice type: got %v; want ErrType", err)
	}
	if e, err := View[point](nil); e != nil || err != nil {
		t.Errorf("View of nil: got %v, %v; want nil, nil", e, err)
	}
}

func TestViewOfMappingUnmaps(t *testing.T) {
	path := writeRecords(t, samplePoints(8))
	m, err := Map(openFile(t, path, os.O_RDONLY), RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := View[point](m)
	if err != nil {
		t.Fatal(err)
	}
	if part := v[1:]; !errors.Is(part.Unmap(), ErrInvalid) {
		t.Errorf("Unmap of a view of part of a mapping succeeded; want ErrInvalid")
	}
	if err := v.Unmap(); err != nil {
		t.Errorf("Unmap of a view of a whole mapping: %v", err)
	}
}

func TestSliceOfTypeThatIsNotFlat(t *testing.T) {
	x := 1
	s := Slice[*int]{&x}
	if b := s.Bytes(); b != nil {
		t.Errorf("Bytes: got %d bytes; want nil", len(b))
	}
	for name, op := range map[string]func() error{"Flush": s.Flush, "Lock": s.Lock, "Unlock": s.Unlock, "Unmap": s.Unmap} {
		if err := op(); !errSays(err, ErrInvalid, "not mapped by this package") {
			t.Errorf("%s: got %v; want ErrInvalid: such a Slice was not mapped", name, err)
		}
	}
	if len(s) != 1 {
		t.Error("a refused Unmap cleared the Slice")
	}
}

// TestMapSliceOfANPYFile maps an Array file with MapSlice: its header is not
// records, so mapping it from offset 0 is refused with a pointer to Open;
// from the data offset on, and as bytes, it maps; View does not look.
func TestMapSliceOfANPYFile(t *testing.T) {
	path := arrayPath(t)
	writeArray(t, path, 4)
	f := openFile(t, path, os.O_RDONLY)
	for _, c := range []struct {
		name string
		err  error
	}{
		{"MapSlice", errOf(MapSlice[uint64](f, RDONLY, 0))},
		{"MapSliceRegion at 0", errOf(MapSliceRegion[rec](f, 1, RDONLY, 0, 0))},
	} {
		if !errSays(c.err, ErrInvalid, "starts with a .npy header") || !strings.Contains(c.err.Error(), "; Open[") || !strings.Contains(c.err.Error(), path) {
			t.Errorf("%s: got %v; want ErrInvalid naming the file and Open", c.name, c.err)
		}
	}
	r := mustOpen[rec](t, path, RDONLY)
	s, err := MapSliceRegion[rec](f, 4, RDONLY, 0, r.Offset())
	if err != nil {
		t.Fatalf("MapSliceRegion at the data offset: %v", err)
	}
	if !slices.Equal(s, r.Items()) {
		t.Errorf("MapSliceRegion at the data offset: got %v; want the records %v", s, r.Items())
	}
	if err := s.Unmap(); err != nil {
		t.Fatal(err)
	}
	m := mustMap(t, f, -1, RDONLY, 0, 0)
	if v, err := View[uint64](alignedCopy(m[:64])); err != nil || len(v) != 8 {
		t.Errorf("View of the header's bytes: %d elements, %v; want 8, since View does not look at content", len(v), err)
	}
}

// alignedCopy returns a copy of b at an 8-byte aligned address.
func alignedCopy(b []byte) []byte {
	c := alignedBytes(len(b))
	copy(c, b)
	return c
}
