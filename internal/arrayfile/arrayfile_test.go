package arrayfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/flat"
	"github.com/typedmmap/mmap/internal/npy"
)

func TestFromLayout(t *testing.T) {
	i32 := &flat.Layout{Kind: flat.Int32, Size: 4, Align: 4}
	f64 := &flat.Layout{Kind: flat.Float64, Size: 8, Align: 8}
	u8 := &flat.Layout{Kind: flat.Uint8, Size: 1, Align: 1}
	pad := func(n int) *flat.Layout { return &flat.Layout{Kind: flat.Array, Len: n, Elem: u8, Size: n, Align: 1} }
	arr := func(n int, e *flat.Layout) *flat.Layout {
		return &flat.Layout{Kind: flat.Array, Len: n, Elem: e, Size: n * e.Size, Align: e.Align}
	}
	point := &flat.Layout{Kind: flat.Struct, Size: 16, Align: 8, Fields: []flat.FieldLayout{
		{Name: "X", Offset: 0, Layout: i32}, {Name: "_", Offset: 4, Layout: pad(2)}, {Name: "_", Offset: 6, Layout: pad(2)},
		{Name: "Y", Tag: `npy:"y" json:"why"`, Offset: 8, Layout: f64},
	}}
	for _, c := range []struct {
		name  string
		l     *flat.Layout
		order byte
		want  string
		dims  []int
	}{
		{"a number", f64, '<', "'<f8'", nil},
		{"a big-endian number", i32, '>', "'>i4'", nil},
		{"a byte has no order", u8, '>', "'|u1'", nil},
		{"an array of arrays", arr(4, arr(3, f64)), '<', "'<f8'", []int{4, 3}},
		{"a struct: merged padding, a tag", point, '<', "[('X', '<i4'), ('', '|V4'), ('y', '<f8')]", nil},
		{"an array of structs", arr(2, point), '<', "[('X', '<i4'), ('', '|V4'), ('y', '<f8')]", []int{2}},
		{"a struct of arrays and structs", &flat.Layout{Kind: flat.Struct, Size: 48, Align: 8, Fields: []flat.FieldLayout{
			{Name: "P", Layout: arr(2, point)}, {Name: "M", Offset: 32, Layout: arr(2, i32)}, {Name: "Q", Offset: 40, Layout: f64},
		}}, '<', "[('P', [('X', '<i4'), ('', '|V4'), ('y', '<f8')], (2,)), ('M', '<i4', (2,)), ('Q', '<f8')]", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, dims, err := FromLayout(c.l, c.order)
			if err != nil || d.String() != c.want || !slices.Equal(dims, c.dims) {
				t.Errorf("got %s, %v, %v; want %s, %v", d, dims, err, c.want, c.dims)
			}
		})
	}
	twice := &flat.Layout{Kind: flat.Struct, Size: 16, Align: 8, Fields: []flat.FieldLayout{
		{Name: "A", Tag: `npy:"x"`, Layout: f64}, {Name: "B", Tag: `npy:"x"`, Offset: 8, Layout: f64},
	}}
	outer := &flat.Layout{Kind: flat.Struct, Size: 24, Align: 8, Fields: []flat.FieldLayout{
		{Name: "A", Layout: f64}, {Name: "In", Offset: 8, Layout: twice},
	}}
	for _, l := range []*flat.Layout{twice, outer, arr(2, twice)} {
		if _, _, err := FromLayout(l, '<'); err == nil || !strings.Contains(err.Error(), `two fields are named "x"`) {
			t.Errorf("%s: two fields tagged with one name: got %v", l, err)
		}
	}
}

func TestMismatch(t *testing.T) {
	parse := func(s string) npy.DType {
		h, err := npy.Parse(header("{'descr': "+s+", 'fortran_order': False, 'shape': (1,)}", 1))
		if err != nil {
			t.Fatal(err)
		}
		return h.DType
	}
	for _, c := range []struct {
		name, got, want string
		path, why       string
		otherOrder      bool
	}{
		{"the same", "[('a', '<f8'), ('', '|V2'), ('', '|V2')]", "[('a', '<f8'), ('', '|V4')]", "", "", false},
		{"another size", "'<f4'", "'<f8'", "the record", "the file has '<f4', the Go type '<f8'", false},
		{"the other byte order", "[('a', [('b', '>f8')])]", "[('a', [('b', '<f8')])]", "a.b", "'>f8'", true},
		{"a name", "[('a', '<f8'), ('c', '<f8')]", "[('a', '<f8'), ('b', '<f8')]", "b", "named 'c' in the file", false},
		{"a name another case", "[('time', '<i8')]", "[('Time', '<i8')]", "Time", "field 0 is named 'time' in the file, 'Time' in the Go type; give the Go field the file's name with a tag, `npy:\"time\"`", false},
		{"a name where the Go type has padding", "[('a', '<f8'), ('v', '|V4')]", "[('a', '<f8'), ('', '|V4')]", "(padding 1)", "named 'v' in the file, '' in the Go type", false},
		{"a subarray", "[('a', '<f8', (3,))]", "[('a', '<f8', (4,))]", "a", "shape [3]", false},
		{"structured and plain", "[('a', '<f8')]", "'<f8'", "the record", "the file has a struct, the Go type a number", false},
		{"plain and structured", "'<f8'", "[('a', '<f8')]", "the record", "the file has a number, the Go type a struct", false},
		{"objects", "[('a', '|O')]", "[('a', '<i8')]", "a", "Python objects, which no flat Go type maps", false},
		{"a unicode string in an untagged [4]rune", "[('s', '<U4')]", "[('s', '<i4', (4,))]", "s", "the file has shape [], the Go type [4] (a unicode string, which a field of a Go struct holds as [4]rune tagged `npy:\",U\"`)", false},
		{"a unicode string in an untagged [4]uint32", "[('s', '<U4')]", "[('s', '<u4', (4,))]", "s", "the Go type [4] (a unicode string, which a field of a Go struct holds as [4]rune tagged `npy:\",U\"`)", false},
		{"a byte string in an untagged [8]byte", "[('s', '|S8')]", "[('s', '|u1', (8,))]", "s", "the file has shape [], the Go type [8] (a byte string, which a field of a Go struct holds as [8]byte tagged `npy:\",S\"`)", false},
		{"numpy's bool", "'|b1'", "'|u1'", "the record", "numpy's bool", false},
		{"fewer fields", "[('a', '<f8')]", "[('a', '<f8'), ('b', '<f8')]", "the record", "1 fields, the Go type 2", false},
		{"padding of another size", "[('a', '|u1'), ('', '|V3')]", "[('a', '|u1'), ('', '|V7')]", "(padding 1)", "'|V3'", false},
		{"sizes with leading zeros, which numpy reads as the sizes", "[('a', '<i08'), ('s', [('b', '|u1'), ('', '|V07')])]", "[('a', '<i8'), ('s', [('b', '|u1'), ('', '|V7')])]", "", "", false},
		{"single bytes, whose byte order numpy drops", "[('a', '<u1'), ('', '>V3'), ('s', '<S4')]", "[('a', '|u1'), ('', '|V3'), ('s', '|S4')]", "", "", false},
		{"a unit with a size with a leading zero", "[('t', '<M08[us]')]", "[('t', '<M8[ns]')]", "t", "the file has '<M08[us]', the Go type '<M8[ns]'", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := mismatch(parse(c.got).Merged(), parse(c.want).Merged(), "")
			path, why, other := d.path, d.why, d.otherOrder
			if path != c.path || !strings.Contains(why, c.why) || other != c.otherOrder {
				t.Errorf("got %q, %q, %v; want %q, %q, %v", path, why, other, c.path, c.why, c.otherOrder)
			}
		})
	}
	// A Go array that does not hold the string as it is gets no advice to tag it.
	for _, want := range []string{"[('s', '<u4', (5,))]", "[('s', '<u2', (4,))]", "[('s', '<u4', (2, 2))]"} {
		const bare = "the file has shape [], the Go type "
		if d := mismatch(parse("[('s', '<U4')]"), parse(want), ""); !strings.HasPrefix(d.why, bare) || strings.Contains(d.why, "tagged") {
			t.Errorf("'<U4' and %s: got %q; want %q and the Go type's shape alone", want, d.why, bare)
		}
	}
}

func TestSidecarSlots(t *testing.T) {
	c := Control{Dev: 7, Ino: 99, SlotSize: SlotSize(128), Version: SidecarVersion}
	b := make([]byte, SidecarSize(c.SlotSize))
	PutControl(b, c)
	if got, err := ParseControl(b); err != nil || got != c {
		t.Fatalf("ParseControl: got %+v, %v; want %+v", got, err, c)
	}
	hdr := header("{'descr': '<f8', 'fortran_order': False, 'shape': (5,)}", 1)
	PutSlot(b[c.SlotOffset(1):], Slot{Seq: 3, Count: 5, Header: hdr})
	s, err := ParseSlot(b[c.SlotOffset(1) : c.SlotOffset(1)+c.SlotSize])
	if err != nil || s.Seq != 3 || s.Count != 5 || !bytes.Equal(s.Header, hdr) {
		t.Fatalf("ParseSlot: got %+v, %v", s, err)
	}
	if _, err := ParseSlot(b[c.SlotOffset(0) : c.SlotOffset(0)+c.SlotSize]); err == nil {
		t.Error("an empty slot parsed")
	}
	b[c.SlotOffset(1)+40] ^= 1
	if _, err := ParseSlot(b[c.SlotOffset(1) : c.SlotOffset(1)+c.SlotSize]); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a damaged slot: got %v; want a checksum mismatch", err)
	}
	if _, err := ParseSlot(b[c.SlotOffset(1) : c.SlotOffset(1)+slotHead+3]); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a slot too short for its fixed part: got %v", err)
	}
	PutSlot(b[c.SlotOffset(0):], Slot{Seq: 4, Count: -1, Header: hdr})
	if _, err := ParseSlot(b[c.SlotOffset(0) : c.SlotOffset(0)+c.SlotSize]); err == nil || !strings.Contains(err.Error(), "counts 18446744073709551615 records") {
		t.Errorf("a slot whose count is not an int64: got %v", err)
	}
	for _, d := range []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"the magic", func(b []byte) []byte { b[0] = 'x'; return b }, "bad magic"},
		{"a byte under the checksum", func(b []byte) []byte { b[20] ^= 1; return b }, "checksum mismatch"},
		{"a slot size not a multiple of a page", func(b []byte) []byte { PutControl(b, Control{SlotSize: 100}); return b }, "slot size 100: a slot is a multiple of 4096 bytes"},
		{"slots larger than the file", func(b []byte) []byte { PutControl(b, Control{SlotSize: 2 * c.SlotSize}); return b }, "does not fit"},
		{"a page cut short", func(b []byte) []byte { return b[:ControlSize-1] }, "shorter than its control page"},
		{"another version", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8:], 3)
			binary.LittleEndian.PutUint32(b[controlCRCAt:], crc32.Checksum(b[:controlCRCAt], castagnoli))
			return b
		}, "sidecar version 3"},
	} {
		if _, err := ParseControl(d.damage(bytes.Clone(b))); err == nil || !strings.Contains(err.Error(), d.want) {
			t.Errorf("%s: got %v; want an error saying %q", d.name, err, d.want)
		}
	}
}

// tornHeaders returns the headers of 999 and of 1000 records of a type
// whose count straddles a sector boundary, and a mix of the two, as a write
// torn between the sectors leaves it: the first sector new, the second old.
func tornHeaders(t *testing.T) (old, cur, mixed []byte) {
	long := npy.DType{Fields: []npy.Field{{Name: "a", Type: npy.DType{Str: "<f8"}}}}
	for i := 0; i < 40; i++ {
		long.Fields = append(long.Fields, npy.Field{Name: "field" + strings.Repeat("x", i%7) + string(rune('A'+i)), Type: npy.DType{Str: "<f8"}})
	}
	for {
		old, _ = npy.Build(long, nil, 999)
		cur, _ = npy.Build(long, nil, 1000)
		if countAt(cur)%sector == sector-2 {
			break
		}
		long.Fields[0].Name += "a"
	}
	boundary := countAt(cur) + 2
	mixed = bytes.Clone(old)
	copy(mixed[:boundary], cur[:boundary])
	if m, err := npy.Parse(mixed); err == nil && (m.Shape[0] == 999 || m.Shape[0] == 1000) {
		t.Fatalf("the mixed header counts %d; the test needs one that lies", m.Shape[0])
	}
	return old, cur, mixed
}

// countAt is where the count lies in header b, the first of its shape.
func countAt(b []byte) int { return bytes.Index(b, []byte("'shape': (")) + len("'shape': (") }

func TestRecover(t *testing.T) {
	old, cur, mixed := tornHeaders(t)
	torn := bytes.Clone(cur)
	torn[0] ^= 1
	foreign := recount(t, cur, 5)
	slots := []Slot{{Seq: 8, Count: 999, Header: old}, {Seq: 9, Count: 1000, Header: cur}}
	for _, c := range []struct {
		name  string
		file  []byte
		slots []Slot
		ok    bool
	}{
		{"the newest slot's header", cur, slots, true},
		{"the newest slot's header, then records", append(bytes.Clone(cur), 1, 2, 3), slots, true},
		{"the older slot's header: the crash came before the header was written", old, slots, true},
		{"a mix of the two, sector by sector: a torn write", mixed, slots, true},
		{"a sector that is neither", torn, slots, false},
		{"another count: the file is not the one the sidecar describes", foreign, slots, false},
		{"only the newest slot, and the older header", old, slots[1:], false},
		{"an older slot whose header has another length", cur, []Slot{{Seq: 8, Count: 999, Header: old[:64]}, slots[1]}, true},
		{"an older slot whose header has another length, and the older header", old, []Slot{{Seq: 8, Count: 999, Header: old[:64]}, slots[1]}, false},
		{"no slots", cur, nil, false},
		{"a file shorter than the newest slot's header", cur[:len(cur)-64], slots, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := Recover(c.file, c.slots)
			if ok != c.ok || ok && s.Count != 1000 {
				t.Errorf("got %d, %v; want ok %v with count 1000", s.Count, ok, c.ok)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	old, cur, mixed := tornHeaders(t)
	foreign := recount(t, cur, 5)
	slots := []Slot{{Seq: 8, Count: 999, Header: old}, {Seq: 9, Count: 1000, Header: cur}}
	decide := func(file []byte, slots []Slot) (State, error) {
		st, r := Decide(file, slots)
		if r != nil {
			return st, r
		}
		return st, nil
	}
	for _, c := range []struct {
		name   string
		file   []byte
		slots  []Slot
		header []byte
		count  int64
		seq    uint64
		torn   bool
	}{
		{"the newest slot's header", cur, slots, cur, 1000, 9, false},
		{"the older slot's header", old, slots, cur, 1000, 9, true},
		{"a torn header", mixed, slots, cur, 1000, 9, true},
		{"a stale sidecar: the file's header holds", foreign, slots, foreign, 5, 0, false},
		{"no sidecar", old, nil, old, 999, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := append(bytes.Clone(c.file), make([]byte, 100)...)
			st, err := decide(file, c.slots)
			if err != nil || !bytes.Equal(st.Header, c.header) || st.H.Len != len(c.header) || st.H.Shape[0] != c.count ||
				st.Count != c.count || st.Seq != c.seq || st.Torn != c.torn {
				t.Errorf("got %d records (header counts %v), seq %d, torn %v, %v; want %d, seq %d, torn %v",
					st.Count, st.H, st.Seq, st.Torn, err, c.count, c.seq, c.torn)
			}
		})
	}
	damaged := bytes.Clone(cur)
	damaged[0] ^= 1
	if _, err := decide(damaged, slots); err == nil || !strings.Contains(err.Error(), "not a .npy file") {
		t.Errorf("a damaged header that no slot accounts for: got %v; want the header's parse error", err)
	}
	lying := []Slot{{Seq: 9, Count: 1001, Header: cur}}
	if _, err := decide(cur, lying); err == nil || !strings.Contains(err.Error(), "does not count its 1001 records") {
		t.Errorf("a slot whose header counts other records: got %v", err)
	}
	if st, err := decide(header("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", 1), nil); err != nil || st.Count != 0 {
		t.Errorf("a 0-d array: got %d records, %v; want 0", st.Count, err)
	}
}

// recount returns header b with its count set to n.
func recount(t *testing.T, b []byte, n int64) []byte {
	t.Helper()
	h, err := npy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Rewrite(b, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSidecarSizesOutOfRange hands ParseControl and ParseSlot sizes that
// pass their checksums but are larger than any sidecar's: they must be
// refused before anything of that size is read, on 32-bit targets too,
// where such a size overflows an int.
func TestSidecarSizesOutOfRange(t *testing.T) {
	if MaxSlotSize != 12288 || MaxSidecarSize != 28672 {
		t.Errorf("MaxSlotSize %d, MaxSidecarSize %d; want 12288 and 28672, the sizes for a header of %d bytes", MaxSlotSize, MaxSidecarSize, npy.Prefix)
	}
	b := make([]byte, SidecarSize(ControlSize))
	for _, size := range []int{MaxSlotSize + ControlSize, 1 << 30, 1<<31 - ControlSize} {
		PutControl(b, Control{SlotSize: size})
		if c, err := ParseControl(b); err == nil || !strings.Contains(err.Error(), "at most 12288") {
			t.Errorf("a slot size of %d: got %+v, %v; want an error saying a slot has at most 12288 bytes", size, c, err)
		}
	}
	slot := make([]byte, MaxSlotSize)
	for _, hlen := range []uint32{npy.Prefix + 1, 1<<32 - slotHead} {
		n := slotHead + int(int32(hlen)) // wraps to 0 for the second, on every target
		if n > len(slot)-4 || n < 0 {
			n = 0
		}
		binary.LittleEndian.PutUint32(slot[16:], hlen)
		binary.LittleEndian.PutUint32(slot[n:], crc32.Checksum(slot[:n], castagnoli))
		if s, err := ParseSlot(slot); err == nil || !strings.Contains(err.Error(), "a header has 1 to 10012") {
			t.Errorf("a header length of %d: got %+v, %v; want an error", hlen, s, err)
		}
	}
	b = make([]byte, SidecarSize(SlotSize(1000)))
	PutControl(b, Control{SlotSize: 2 * SlotSize(1000)})
	if c, err := ParseControl(b); err == nil || !strings.Contains(err.Error(), "does not fit its") {
		t.Errorf("slots larger than the file: got %+v, %v; want an error", c, err)
	}
}

func TestUnmappable(t *testing.T) {
	const none = ", which no flat Go type maps"
	for str, want := range map[string]string{
		"|O": "Python objects" + none, "<U4": "a unicode string, which a field of a Go struct holds as [4]rune tagged `npy:\",U\"`",
		"|S8": "a byte string, which a field of a Go struct holds as [8]byte tagged `npy:\",S\"`",
		"|a8": "a byte string" + none, ">S2": "a byte string" + none, "|U2": "a unicode string" + none, "|M8[s]": "a datetime64" + none,
		"|b1":     "numpy's bool, which a field of a Go struct holds as uint8 tagged `npy:\",?\"`",
		"|?":      "numpy's bool" + none,
		"<M8[ns]": "a datetime64, which a field of a Go struct holds as int64 tagged `npy:\",M8[ns]\"`",
		">m8[s]":  "a timedelta64, which a field of a Go struct holds as int64 tagged `npy:\",m8[s]\"`",
		"<M8[5s]": "a datetime64" + none, "<M8": "a datetime64" + none, "|S0": "a byte string" + none,
		"<f2": "a half-precision float" + none, "<f16": "an extended-precision float" + none, "<c32": "an extended-precision float" + none,
		"<f8": "", "<c16": "", "|u1": "", ">i8": "", "|V4": "",
	} {
		if got := Unmappable(npy.DType{Str: str}); got != want {
			t.Errorf("%s: got %q; want %q", str, got, want)
		}
	}
	if got := Unmappable(npy.DType{Fields: []npy.Field{{Name: "s", Type: npy.DType{Str: "<U4"}}}}); got != "" {
		t.Errorf("a struct: got %q; want \"\": only a plain type is unmappable itself", got)
	}
}

// header wraps a dict's text as a .npy header of the given major version,
// padded as numpy pads it.
func header(dict string, major int) []byte {
	prefix := 10
	if major > 1 {
		prefix = 12
	}
	n := len(dict) + 1
	n += 64 - (prefix+n)%64
	b := append([]byte(npy.Magic), byte(major), 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(n))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	b = append(b, dict...)
	for len(b) < prefix+n-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// TestGoTypeOf builds the Go type of a file's records, or says why there
// is none, as a user who made the file in numpy would want to read it.
func TestGoTypeOf(t *testing.T) {
	for _, c := range []struct {
		descr string
		shape string
		want  string // the Go type, or what the refusal says
	}{
		{"'<f8'", "(2,)", "float64"},
		{"'<f4'", "(2, 3)", "[3]float32"},
		{"[('time', '<i8'), ('', '|V4'), ('v', '<f4')]", "(2,)", "struct { time int64; _ [4]byte; v float32 }"},
		{"[('type', '<i8')]", "(2,)", "struct { F0 int64 `npy:\"type\"` }"},
		{"[('a', '<i4'), ('b', '<i8')]", "(2,)", "field b ('<i8') is at offset 4 of a record, and a Go int64 needs a multiple of 8; save the array from numpy with align=True"},
		{"[('a', '<i8'), ('b', '<i4')]", "(2,)", "the record is 12 bytes, not a multiple of 8, the alignment of its fields"},
		{"[('p', [('x', '<i2'), ('y', '<i4')])]", "(2,)", "field p.y ('<i4') is at offset 2 of a record"},
		{"[('', '|V1'), ('', '|V1'), ('a', '<i2'), ('b', '<i8')]", "(2,)", "field b ('<i8') is at offset 4 of a record"},
		{"[('s', '|S8'), ('u', '<U2'), ('ok', '|b1'), ('', '|V7'), ('t', '<M8[ns]'), ('d', '<m8[us]')]", "(2,)",
			"struct { s [8]byte `npy:\",S\"`; u [2]rune `npy:\",U\"`; ok uint8 `npy:\",?\"`; _ [7]byte; t int64 `npy:\",M8[ns]\"`; d int64 `npy:\",m8[us]\"` }"},
		{"[('type', '<M8[s]'), ('x', '<i8')]", "(2,)", "struct { F0 int64 `npy:\"type,M8[s]\"`; x int64 }"},
		{"[('a,b', '<i8'), (',', '|b1'), ('', '|V7')]", "(2,)", "struct { F0 int64 `npy:\"a,b,\"`; F1 uint8 `npy:\",,?\"`; _ [7]byte }"},
		{"[('s', '|S3', (2,))]", "(2,)", "field s[i]: '|S3' is a byte string, which a field of a Go struct holds as [3]byte tagged `npy:\",S\"`"},
		{"'<M8[ns]'", "(2,)", "struct { F0 int64 `npy:\",M8[ns]\"` }"},
		{"'|S8'", "(2, 3)", "[3]struct { F0 [8]byte `npy:\",S\"` }"},
		{"'<M8[7s]'", "(2,)", "'<M8[7s]' is a datetime64, which no flat Go type maps"},
		{"[('t', '<M8[7s]')]", "(2,)", "field t: '<M8[7s]' is a datetime64, which no flat Go type maps"},
		{"[('v', '|V4')]", "(2,)", "raw bytes (numpy's void), which a Go type holds only as unnamed padding, a `_ [4]byte` field"},
	} {
		d := strings.ReplaceAll(c.descr, "<", string(npy.HostOrder))
		h, err := npy.Parse(header("{'descr': "+d+", 'fortran_order': False, 'shape': "+c.shape+", }", 1))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(c.want, "<", string(npy.HostOrder))
		g, typ, r := GoTypeOf(h)
		switch {
		case r != nil && (r.Reason != NoGoType || !strings.Contains(r.Msg, want)):
			t.Errorf("%s: refused %v; want %q", c.descr, r, want)
		case r == nil && (g.String() != want || typ.Name != want):
			t.Errorf("%s: got %s (%s); want %s", c.descr, g, typ.Name, want)
		case r == nil && recordOf(h.DType, typ.DType).String() != h.DType.Merged().String():
			t.Errorf("%s: the Go type %s is numpy's %s", c.descr, g, typ.DType)
		}
	}
}

func TestPlanOfPackedRecords(t *testing.T) {
	// parse reads descr with '<' as this host's order, and '#' as the other.
	parse := func(descr string) *npy.Header {
		t.Helper()
		descr = strings.ReplaceAll(descr, "<", string(npy.HostOrder))
		descr = strings.ReplaceAll(descr, "#", string(otherOrder()))
		h, err := npy.Parse(header("{'descr': "+descr+", 'fortran_order': False, 'shape': (2,), }", 1))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	const pandas = "[('time', '<M8[ns]'), ('ok', '|b1'), ('n', '<i8'), ('x', '<f8'), ('name', '<U4')]"
	packed := parse(pandas)
	_, _, r := GoTypeOf(packed)
	wantType := "struct { time int64 `npy:\",M8[ns]\"`; ok uint8 `npy:\",?\"`; _ [7]byte; n int64; x float64; name [4]rune `npy:\",U\"` }"
	if r == nil || !strings.Contains(r.Msg, "field n ('"+string(npy.HostOrder)+"i8') is at offset 9") || !strings.Contains(r.Msg, "align=True") ||
		!strings.Contains(r.Msg, "map it as "+wantType+"; or read this file as it is with ReadRecords") {
		t.Fatalf("GoTypeOf of packed records: %v; want the field, its offset, align=True and %s", r, wantType)
	}
	alignedHeader := parse(Aligned(packed.DType).String())
	g, typ, r := GoTypeOf(alignedHeader)
	if r != nil || g.String() != wantType {
		t.Fatalf("GoTypeOf of the aligned records: %v, %v; want %s", g, r, wantType)
	}
	if a := Aligned(packed.DType).Itemsize(); a != 48 {
		t.Errorf("the aligned record is %d bytes; numpy makes it 48", a)
	}
	runs, r := Plan(packed.DType, typ)
	if want := []Run{{0, 0, 9}, {9, 16, 32}}; r != nil || !slices.Equal(runs, want) {
		t.Errorf("Plan: %v, %v; want %v", runs, r, want)
	}
	if runs, r := Plan(alignedHeader.DType, typ); r != nil || !slices.Equal(runs, []Run{{0, 0, 48}}) {
		t.Errorf("Plan of the aligned records: %v, %v; want one run of the whole record, padding and all", runs, r)
	}
	for _, c := range []struct{ descr, says string }{
		{"[('time', '<M8[ns]'), ('ok', '|b1'), ('n', '<i8'), ('x', '<f8')]", "name: the Go type has it, the file does not"},
		{"[('time', '<M8[ns]'), ('ok', '|b1'), ('n', '<i8'), ('x', '<f8'), ('name', '<U4'), ('y', '<f8')]", "y: the file has it, the Go type does not"},
		{"[('time', '<M8[ns]'), ('ok', '|b1'), ('m', '<i8'), ('x', '<f8'), ('name', '<U4')]", "n: the file has field m in its place"},
		{"[('time', '<M8[us]'), ('ok', '|b1'), ('n', '<i8'), ('x', '<f8'), ('name', '<U4')]", "time: the file has '<M8[us]', the Go type '<M8[ns]'"},
		{"[('time', '<M8[ns]'), ('ok', '|b1'), ('n', '<i8', (2,)), ('x', '<f8'), ('name', '<U4')]", "n: the file has shape [2], the Go type []"},
	} {
		says := strings.ReplaceAll(c.says, "<", string(npy.HostOrder))
		if _, r := Plan(parse(c.descr).DType, typ); r == nil || r.Reason != OtherType || !strings.Contains(r.Msg, says) {
			t.Errorf("Plan of %s: %v; want OtherType saying %q", c.descr, r, says)
		}
	}
	if _, r := Plan(parse(strings.ReplaceAll(pandas, "<", "#")).DType, typ); r == nil || r.Reason != OtherOrder {
		t.Errorf("Plan of records of the other byte order: %v; want OtherOrder", r)
	}
}

// TestPlanBounds plans the copy of packed records with many elements into
// their aligned Go type (GoTypeOf of Aligned): element by element up to
// maxRuns runs a record, one run where the two lay an element out alike,
// and a refusal beyond, which costs no more than a plan of one element.
func TestPlanBounds(t *testing.T) {
	plan := func(descr, shape string) ([]Run, *Refusal) {
		t.Helper()
		h, err := npy.Parse(header("{'descr': "+strings.ReplaceAll(descr, "<", string(npy.HostOrder))+", 'fortran_order': False, 'shape': "+shape+", }", 1))
		if err != nil {
			t.Fatal(err)
		}
		aligned := *h
		aligned.DType = Aligned(h.DType)
		_, typ, r := GoTypeOf(&aligned)
		if r != nil {
			t.Fatalf("GoTypeOf of %s aligned: %v", descr, r)
		}
		return Plan(h.DType, typ)
	}
	// 5000 structs of 5 bytes in the file and 8 in Go, from offset 2 and 4:
	// each struct's y is joined to the next one's x.
	want := []Run{{0, 0, 2}, {2, 4, 1}}
	for k := range 4999 {
		want = append(want, Run{3 + 5*k, 8 + 8*k, 5})
	}
	want = append(want, Run{3 + 5*4999, 8 + 8*4999, 4})
	const structs = "[('a', '<i2'), ('p', [('x', '|b1'), ('y', '<U1')], (%s,))]"
	t.Run("a subarray of structs laid out otherwise is copied struct by struct", func(t *testing.T) {
		if runs, r := plan(fmt.Sprintf(structs, "5000"), "(3,)"); r != nil || !slices.Equal(runs, want) {
			t.Errorf("got %d runs, %v; want %d", len(runs), r, len(want))
		}
	})
	t.Run("a row of values laid out alike is one run", func(t *testing.T) {
		if runs, r := plan("'<f4'", "(0, 1000, 1000)"); r != nil || !slices.Equal(runs, []Run{{0, 0, 4e6}}) {
			t.Errorf("got %v, %v; want one run of 4e6 bytes", runs, r)
		}
	})
	for _, c := range []struct{ name, descr, shape, says string }{
		{"a subarray of 10,000,000 structs laid out otherwise is refused", fmt.Sprintf(structs, "10000000"), "(3,)", "p: its 10000000 structs lie at other offsets"},
		{"subarrays of 4096 subarrays of structs are refused", "[('q', " + fmt.Sprintf(structs, "4096") + ", (4096,))]", "(3,)", "q: its 4096 structs lie at other offsets"},
		{"rows of 33,333,333 packed records are refused, though the file has none", "[('a', '<i2'), ('b', '<i8')]", "(0, 33333333)", "the record: its 33333333 values in a row lie at other offsets"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, r := plan(c.descr, c.shape); r == nil || r.Reason != OtherType || !strings.Contains(r.Msg, c.says) || !strings.Contains(r.Msg, alignTrue) {
				t.Errorf("got %v; want OtherType saying %q and %q", r, c.says, alignTrue)
			}
		})
	}
}

// otherOrder is the byte order this host does not have.
func otherOrder() byte {
	if npy.HostOrder == '<' {
		return '>'
	}
	return '<'
}
