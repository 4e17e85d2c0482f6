package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/flat"
)

// golden are headers that numpy 1.24 writes (format._write_array_header),
// byte for byte.
var golden = []struct {
	name     string
	d        DType
	rowShape []int
	count    int64
	want     string
}{
	{"plain float64, empty", DType{Str: "<f8"}, nil, 0,
		"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }                                                            \n"},
	{"rows of 768 float32", DType{Str: "<f4"}, []int{768}, 5,
		"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (5, 768), }                                                        \n"},
	{"a struct with padding", DType{Fields: []Field{
		{Name: "Time", Type: DType{Str: "<i8"}}, {Name: "X", Type: DType{Str: "<f8"}},
		{Name: "Value", Type: DType{Str: "<f4"}}, {Name: "Sensor", Type: DType{Str: "<u2"}},
		{Name: "f", Type: DType{Str: "|V2"}},
	}}, nil, 7,
		"\x93NUMPY\x01\x00\xb6\x00{'descr': [('Time', '<i8'), ('X', '<f8'), ('Value', '<f4'), ('Sensor', '<u2'), ('f', '|V2')], 'fortran_order': False, 'shape': (7,), }                                               \n"},
	{"subarrays and a nested struct", DType{Fields: []Field{
		{Name: "a", Type: DType{Str: "|u1"}, Shape: []int{3}},
		{Name: "n", Type: DType{Fields: []Field{{Name: "x", Type: DType{Str: "<i4"}}, {Name: "y", Type: DType{Str: "<c8"}}}}},
		{Name: "p", Type: DType{Str: "<f8"}, Shape: []int{2, 3}},
	}}, nil, 2,
		"\x93NUMPY\x01\x00\xb6\x00{'descr': [('a', '|u1', (3,)), ('n', [('x', '<i4'), ('y', '<c8')]), ('p', '<f8', (2, 3))], 'fortran_order': False, 'shape': (2,), }                                                  \n"},
	{"a name that is not ASCII: version 3.0", DType{Fields: []Field{{Name: "名", Type: DType{Str: "<f8"}}}}, nil, 1,
		"\x93NUMPY\x03\x00t\x00\x00\x00{'descr': [('\xe5\x90\x8d', '<f8')], 'fortran_order': False, 'shape': (1,), }                                               \n"},
	{"big-endian, an 11-digit count", DType{Str: ">i2"}, nil, 12345678901,
		"\x93NUMPY\x01\x00v\x00{'descr': '>i2', 'fortran_order': False, 'shape': (12345678901,), }                                                  \n"},
}

func TestBuildWritesWhatNumpyWrites(t *testing.T) {
	for _, c := range golden {
		t.Run(c.name, func(t *testing.T) {
			got, err := Build(c.d, c.rowShape, c.count)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Build:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestParseReadsWhatBuildWrites(t *testing.T) {
	for _, c := range golden {
		t.Run(c.name, func(t *testing.T) {
			h, err := Parse([]byte(c.want))
			if err != nil {
				t.Fatal(err)
			}
			if h.DType.String() != c.d.String() || h.Fortran || h.Len != len(c.want) || h.Shape[0] != c.count {
				t.Errorf("Parse: got %s, fortran %v, len %d, shape %v", h.DType, h.Fortran, h.Len, h.Shape)
			}
			if path, why, _ := Mismatch(h.DType, c.d); path != "" {
				t.Errorf("Mismatch with the type it was built from: %s: %s", path, why)
			}
			for _, n := range []int64{0, 9, 10, 123456789, 1<<63 - 1} {
				b, err := h.Rewrite([]byte(c.want), n)
				if err != nil {
					t.Fatalf("Rewrite(%d): %v", n, err)
				}
				want, _ := Build(c.d, c.rowShape, n)
				if !bytes.Equal(b, want) {
					t.Errorf("Rewrite(%d):\n got %q\nwant %q", n, b, want)
				}
			}
		})
	}
}

func TestParseAcceptsWhatNumpyAccepts(t *testing.T) {
	for _, c := range []struct {
		name, dict string
		descr      string
		shape      []int64
	}{
		{"another key order", "{'shape': (2,), 'fortran_order': False, 'descr': '<u4'}", "'<u4'", []int64{2}},
		{"no trailing comma, tight spacing", "{'descr':'<i8','fortran_order':False,'shape':(3,)}", "'<i8'", []int64{3}},
		{"double quotes and a comment", "{\"descr\": \"<f4\", # the type\n 'fortran_order': False, 'shape': (4, 2)}", "'<f4'", []int64{4, 2}},
		{"Python 2 long integers", "{'descr': '<f8', 'fortran_order': False, 'shape': (5L,), }", "'<f8'", []int64{5}},
		{"a titled field and a scalar subarray shape", "{'descr': [(('a title', 'x'), '<f4', 3)], 'fortran_order': False, 'shape': (1,)}", "[('x', '<f4', (3,))]", []int64{1}},
		{"a parenthesized count", "{'descr': '<f8', 'fortran_order': False, 'shape': ((3), 2)}", "'<f8'", []int64{3, 2}},
		{"a 0-d array", "{'descr': '<f8', 'fortran_order': False, 'shape': ()}", "'<f8'", []int64{}},
		{"escapes in a name", `{'descr': [('a\'b\x41', '<f8')], 'fortran_order': True, 'shape': (1,),}`, `[("a'bA", '<f8')]`, []int64{1}},
		{"every escape, and Python's repr of what is not printable", `{'descr': [('\101\n\r\t\xe9\xa0\u200b\U0001F600\U000e0001\q\x00\x7f', '<f8')], 'fortran_order': False, 'shape': (1,)}`,
			`[('A\n\r\té\xa0\u200b😀\U000e0001\\q\x00\x7f', '<f8')]`, []int64{1}},
		{"a datetime, objects and a bool", "{'descr': [('t', '<M8[ns]'), ('o', '|O'), ('b', '|?')], 'fortran_order': False, 'shape': (1,)}",
			"[('t', '<M8[ns]'), ('o', '|O'), ('b', '|?')]", []int64{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := Parse(header(c.dict, 1))
			if err != nil {
				t.Fatal(err)
			}
			if h.DType.String() != c.descr || !slices.Equal(h.Shape, c.shape) {
				t.Errorf("got descr %s, shape %v; want %s, %v", h.DType, h.Shape, c.descr, c.shape)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"not a .npy file", []byte("PK\x03\x04 a zip file"), "not a .npy file"},
		{"an unknown version", []byte("\x93NUMPY\x04\x00\x10\x00"), "version 4.0"},
		{"a header over numpy's limit", append([]byte("\x93NUMPY\x02\x00"), 0x11, 0x27, 0, 0), "at most 10000"},
		{"a version 1.0 length cut short", []byte("\x93NUMPY\x01\x00\x10"), "ends inside"},
		{"a version 2.0 length cut short", []byte("\x93NUMPY\x02\x00\x10\x00\x00"), "ends inside"},
		{"a version 1.0 header over numpy's limit", append([]byte("\x93NUMPY\x01\x00"), 0x11, 0x27), "at most 10000"},
		{"a version 3.0 header of 4 GiB", []byte("\x93NUMPY\x03\x00\xff\xff\xff\xff"), "at most 10000"},
		{"a header longer than the file", []byte("\x93NUMPY\x01\x00\x40\x00{'descr'"), "ends inside"},
		{"a list, not a dict", header("['descr', '<f8']", 1), "want a dict"},
		{"an extra key", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", 1), "key 'x'"},
		{"a missing key", header("{'descr': '<f8', 'shape': (1,)}", 1), `no "fortran_order"`},
		{"a list shape", header("{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", 1), "shape is a list"},
		{"a negative dimension", header("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", 1), "non-negative"},
		{"fortran_order not a bool", header("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", 1), "True or False"},
		{"a bad type string", header("{'descr': 'float', 'fortran_order': False, 'shape': (1,)}", 1), "not numpy's"},
		{"a field named twice", header("{'descr': [('a', '<f8'), ('a', '<f8')], 'fortran_order': False, 'shape': (1,)}", 1), "twice"},
		{"text after the dict", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x", 1), "after the header's dict"},
		{"an unterminated string", header("{'descr': '<f8", 1), "unterminated"},
		{"a leading zero", header("{'descr': '<f8', 'fortran_order': False, 'shape': (01,)}", 1), "leading zero"},
		{"a number too large", header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", 1), "out of range"},
		{"too deep", header(strings.Repeat("[", 40)+strings.Repeat("]", 40), 1), "deep"},
		{"a descr too deep", header("{'descr': "+strings.Repeat("[('a', ", 17)+"'<f8'"+strings.Repeat(")]", 17)+", 'fortran_order': False, 'shape': (1,)}", 1), "deep"},
		{"a missing comma", header("{'descr': '<f8' 'fortran_order': False}", 1), "expected ','"},
		{"a missing colon", header("{'descr' '<f8'}", 1), "expected ':'"},
		{"an unknown name", header("{'descr': Float}", 1), `unexpected "Float}`},
		{"a name run on", header("{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1,)}", 1), `unexpected "Falsey`},
		{"a u without a quote", header("{'descr': u, 'fortran_order': False, 'shape': (1,)}", 1), `unexpected "u,`},
		{"a key that is not a string", header("{1: '<f8'}", 1), "the key an integer"},
		{"an unexpected end", header("{'descr': ", 1), "unexpected end"},
		{"a sign without digits", header("{'descr': '<f8', 'fortran_order': False, 'shape': (-,)}", 1), "expected a number"},
		{"a bad \\u escape", header("{'descr': [('\\u12', '<f8')], 'fortran_order': False, 'shape': (1,)}", 1), `bad \u escape`},
		{"a shape of strings", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 'a')}", 1), "shape (1, a string)"},
		{"a descr that is a number", header("{'descr': 8, 'fortran_order': False, 'shape': (1,)}", 1), "descr is an integer"},
		{"a field that is a list", header("{'descr': [['a', '<f8']], 'fortran_order': False, 'shape': (1,)}", 1), "descr field a list"},
		{"a field of one item", header("{'descr': [('a',)], 'fortran_order': False, 'shape': (1,)}", 1), "want (name, type)"},
		{"a field name that is a number", header("{'descr': [(1, '<f8')], 'fortran_order': False, 'shape': (1,)}", 1), "field name is an integer"},
		{"a field of a bad type", header("{'descr': [('a', [('b', 'x8')])], 'fortran_order': False, 'shape': (1,)}", 1), `field "a": field "b": type string "x8"`},
		{"a field shape that is a list", header("{'descr': [('a', '<f8', [2])], 'fortran_order': False, 'shape': (1,)}", 1), `field "a": shape is a list`},
		{"a field shape too large", header("{'descr': [('a', '<f8', (2, 2147483648))], 'fortran_order': False, 'shape': (1,)}", 1), "shape (2, 2147483648): want non-negative"},
		{"two byte orders", header("{'descr': '<>f8', 'fortran_order': False, 'shape': (1,)}", 1), "not numpy's"},
		{"a unit on a float", header("{'descr': '<f8[ns]', 'fortran_order': False, 'shape': (1,)}", 1), "not numpy's"},
		{"a type string without a size", header("{'descr': '<f', 'fortran_order': False, 'shape': (1,)}", 1), "has no size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v; want an error saying %q", err, c.want)
			}
		})
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
	b := append([]byte(Magic), byte(major), 0)
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

func TestMaxCountAndRewrite(t *testing.T) {
	// numpy before 1.24 left no room to grow: only the padding to 64
	// bytes. Spaces after the brace make that padding a few bytes.
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (99,), }"
	for len(header(dict, 1))-len(dict) > 10+5 {
		dict = "{ " + dict[1:]
	}
	tight := header(dict, 1)
	h, err := Parse(tight)
	if err != nil {
		t.Fatal(err)
	}
	room := h.Len - 1 - (len(dict) - 2) - 10
	want := int64(1)
	for range room {
		want *= 10
	}
	if got := h.MaxCount(); got != want-1 {
		t.Errorf("MaxCount: got %d; want %d", got, want-1)
	}
	if _, err := h.Rewrite(tight, want); err == nil || !strings.Contains(err.Error(), "no room") {
		t.Errorf("Rewrite past MaxCount: got %v; want an error saying there is no room", err)
	}
	b, err := h.Rewrite(tight, want-1)
	if err != nil {
		t.Fatal(err)
	}
	if h2, err := Parse(b); err != nil || h2.Shape[0] != want-1 || len(b) != len(tight) || b[len(b)-1] != '\n' {
		t.Errorf("Rewrite(%d) gave %q (%v)", want-1, b, err)
	}
	for _, dict := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': ()}",
		"{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3)}",
	} {
		h, err := Parse(header(dict, 1))
		if err != nil {
			t.Fatal(err)
		}
		if h.MaxCount() != -1 {
			t.Errorf("%s: MaxCount %d; want -1: the count cannot change", dict, h.MaxCount())
		}
	}
}

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
	parse := func(s string) DType {
		h, err := Parse(header("{'descr': "+s+", 'fortran_order': False, 'shape': (1,)}", 1))
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
		{"a subarray", "[('a', '<f8', (3,))]", "[('a', '<f8', (4,))]", "a", "shape [3]", false},
		{"structured and plain", "[('a', '<f8')]", "'<f8'", "the record", "the file has a struct, the Go type a number", false},
		{"plain and structured", "'<f8'", "[('a', '<f8')]", "the record", "the file has a number, the Go type a struct", false},
		{"objects", "[('a', '|O')]", "[('a', '<i8')]", "a", "Python objects, which no flat Go type maps", false},
		{"a unicode string", "[('s', '<U4')]", "[('s', '<u4', (4,))]", "s", "shape []", false},
		{"numpy's bool", "'|b1'", "'|u1'", "the record", "numpy's bool", false},
		{"fewer fields", "[('a', '<f8')]", "[('a', '<f8'), ('b', '<f8')]", "the record", "1 fields, the Go type 2", false},
		{"padding of another size", "[('a', '|u1'), ('', '|V3')]", "[('a', '|u1'), ('', '|V7')]", "(padding 1)", "'|V3'", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, why, other := Mismatch(parse(c.got), parse(c.want))
			if path != c.path || !strings.Contains(why, c.why) || other != c.otherOrder {
				t.Errorf("got %q, %q, %v; want %q, %q, %v", path, why, other, c.path, c.why, c.otherOrder)
			}
		})
	}
}

func TestSidecarSlots(t *testing.T) {
	c := Control{Dev: 7, Ino: 99, SlotSize: SlotSize(128)}
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
			binary.LittleEndian.PutUint32(b[8:], 2)
			binary.LittleEndian.PutUint32(b[controlCRCAt:], crc32.Checksum(b[:controlCRCAt], castagnoli))
			return b
		}, "sidecar version 2"},
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
	long := DType{Fields: []Field{{Name: "a", Type: DType{Str: "<f8"}}}}
	for i := 0; i < 40; i++ {
		long.Fields = append(long.Fields, Field{Name: "field" + strings.Repeat("x", i%7) + string(rune('A'+i)), Type: DType{Str: "<f8"}})
	}
	for {
		old, _ = Build(long, nil, 999)
		cur, _ = Build(long, nil, 1000)
		if h, _ := Parse(cur); h.countAt%sector == sector-2 {
			break
		}
		long.Fields[0].Name += "a"
	}
	h, _ := Parse(cur)
	boundary := h.countAt + 2
	mixed = bytes.Clone(old)
	copy(mixed[:boundary], cur[:boundary])
	if m, err := Parse(mixed); err == nil && (m.Shape[0] == 999 || m.Shape[0] == 1000) {
		t.Fatalf("the mixed header counts %d; the test needs one that lies", m.Shape[0])
	}
	return old, cur, mixed
}

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
		h, err := Parse(file)
		return Decide(file, h, err, slots)
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
	h, err := Parse(b)
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
		t.Errorf("MaxSlotSize %d, MaxSidecarSize %d; want 12288 and 28672, the sizes for a header of %d bytes", MaxSlotSize, MaxSidecarSize, Prefix)
	}
	b := make([]byte, SidecarSize(ControlSize))
	for _, size := range []int{MaxSlotSize + ControlSize, 1 << 30, 1<<31 - ControlSize} {
		PutControl(b, Control{SlotSize: size})
		if c, err := ParseControl(b); err == nil || !strings.Contains(err.Error(), "at most 12288") {
			t.Errorf("a slot size of %d: got %+v, %v; want an error saying a slot has at most 12288 bytes", size, c, err)
		}
	}
	slot := make([]byte, MaxSlotSize)
	for _, hlen := range []uint32{Prefix + 1, 1<<32 - slotHead} {
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
	for str, want := range map[string]string{
		"|O": "Python objects", "<U4": "a unicode string", "|S8": "a byte string", "|a8": "a byte string",
		"|b1": "numpy's bool", "|?": "numpy's bool", "<M8[ns]": "a datetime", ">m8[s]": "a datetime",
		"<f2": "a half-precision float", "<f16": "an extended-precision float", "<c32": "an extended-precision float",
		"<f8": "", "<c16": "", "|u1": "", ">i8": "", "|V4": "",
	} {
		got := DType{Str: str}.Unmappable()
		if want != "" {
			want += ", which no flat Go type maps"
		}
		if got != want {
			t.Errorf("%s: got %q; want %q", str, got, want)
		}
	}
	if got := (DType{Fields: []Field{{Name: "s", Type: DType{Str: "<U4"}}}}).Unmappable(); got != "" {
		t.Errorf("a struct: got %q; want \"\": only a plain type is unmappable itself", got)
	}
}

func TestItemsizeAndParts(t *testing.T) {
	for _, c := range []struct {
		str         string
		order, kind byte
		size, item  int
	}{
		{"<f8", '<', 'f', 8, 8},
		{"|u1", '|', 'u', 1, 1},
		{"f4", '|', 'f', 4, 4},
		{"=i2", '=', 'i', 2, 2},
		{">U10", '>', 'U', 10, 40},
		{"|S5", '|', 'S', 5, 5},
		{"|O", '|', 'O', 0, 8},
		{"|?", '|', '?', 0, 1},
		{"<M8[ns]", '<', 'M', 8, 8},
		{"|V12", '|', 'V', 12, 12},
	} {
		d := DType{Str: c.str}
		if order, kind, size := d.Parts(); order != c.order || kind != c.kind || size != c.size || d.Itemsize() != c.item {
			t.Errorf("%s: got %c %c %d, itemsize %d; want %c %c %d, itemsize %d", c.str, order, kind, size, d.Itemsize(), c.order, c.kind, c.size, c.item)
		}
	}
	d := DType{Fields: []Field{
		{Name: "a", Type: DType{Str: "<f8"}, Shape: []int{2, 3}},
		{Name: "n", Type: DType{Fields: []Field{{Name: "c", Type: DType{Str: ">i2"}}, {Type: DType{Str: "|V2"}}}}, Shape: []int{5}},
		{Name: "s", Type: DType{Str: "<U3"}},
		{Name: "e", Type: DType{Str: "<f4"}, Shape: []int{0}},
	}}
	if got := d.Itemsize(); got != 2*3*8+5*4+12 {
		t.Errorf("%s: itemsize %d; want %d", d, got, 2*3*8+5*4+12)
	}
}

func TestBuildRefusesAHeaderTooLong(t *testing.T) {
	d := DType{Fields: []Field{}}
	for i := range 500 {
		d.Fields = append(d.Fields, Field{Name: fmt.Sprintf("field%03d", i), Type: DType{Str: "<f8"}})
	}
	if b, err := Build(d, nil, 1); err == nil || !strings.Contains(err.Error(), "numpy reads at most 10000") {
		t.Errorf("a header of 500 fields: got %d bytes, %v; want an error", len(b), err)
	}
}

func TestMaxCountWithoutRoom(t *testing.T) {
	// A header that ends at its dict's brace, as numpy never writes one
	// but reads it: the count has no room to grow, and none for the
	// newline that Rewrite writes after the dict.
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (5,)}"
	b := binary.LittleEndian.AppendUint16([]byte(Magic+"\x01\x00"), uint16(len(dict)))
	h, err := Parse(append(b, dict...))
	if err != nil {
		t.Fatal(err)
	}
	if h.MaxCount() != -1 {
		t.Errorf("MaxCount: got %d; want -1", h.MaxCount())
	}
}
