package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
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
