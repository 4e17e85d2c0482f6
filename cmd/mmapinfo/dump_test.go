package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/npy"
)

// mixedRecord is a record of every kind that dump decodes, in both byte
// orders, with padding, a void field and a subarray, and what dump prints
// for it.
func mixedRecord(t *testing.T) (string, string) {
	d := npy.DType{Fields: []npy.Field{
		{Name: "i", Type: npy.DType{Str: "<i2"}},
		{Name: "u", Type: npy.DType{Str: ">u4"}},
		{Name: "f", Type: npy.DType{Str: ">f8"}},
		{Name: "c", Type: npy.DType{Str: "<c16"}},
		{Name: "", Type: npy.DType{Str: "|V2"}},
		{Name: "raw", Type: npy.DType{Str: "|V3"}},
		{Name: "s", Type: npy.DType{Str: "|S4"}},
		{Name: "w", Type: npy.DType{Str: ">U2"}},
		{Name: "t", Type: npy.DType{Str: "<m8[ns]"}},
		{Name: "b", Type: npy.DType{Str: "|b1"}},
		{Name: "h", Type: npy.DType{Str: ">f2"}},
		{Name: "m", Type: npy.DType{Str: "<f4"}, Shape: []int{2, 2}},
	}}
	le, be := binary.LittleEndian, binary.BigEndian
	var b []byte
	b = le.AppendUint16(b, 0xfffe) // -2
	b = be.AppendUint32(b, 0xdeadbeef)
	b = be.AppendUint64(b, math.Float64bits(math.Inf(-1)))
	b = le.AppendUint64(b, math.Float64bits(math.NaN()))
	b = le.AppendUint64(b, math.Float64bits(2.5))
	b = append(b, 0xff, 0xff)   // padding
	b = append(b, 1, 2, 0xff)   // raw
	b = append(b, "a<&\x00"...) // s
	b = be.AppendUint32(b, '日') // w
	b = be.AppendUint32(b, 0)
	b = le.AppendUint64(b, 1<<63) // NaT
	b = append(b, 1)
	b = be.AppendUint16(b, 0xbc00) // -1 in half precision
	for _, v := range []float32{1, 2, 3, 4} {
		b = le.AppendUint32(b, math.Float32bits(v))
	}
	if len(b) != d.Itemsize() {
		t.Fatalf("the record has %d bytes; its type %d", len(b), d.Itemsize())
	}
	return writeFile(t, header(t, d, nil, 1), b),
		`{"i":-2,"u":3735928559,"f":"-Inf","c":["NaN",2.5],"raw":"0102ff","s":"a<&","w":"日","t":"NaT","b":true,"h":-1,"m":[[1,2],[3,4]]}`
}

func TestDump(t *testing.T) {
	for _, c := range []struct {
		name   string
		make   func(t *testing.T) string
		n      string
		want   []string // the lines on stdout
		stderr string
		status int
	}{
		{"numpy's structured records", testdata("structured.npy"), "5", []string{
			`{"id":1,"pos":[{"x":0.5,"y":-1},{"x":2,"y":3}],"name":"ab","label":"é","ok":true,"when":"2024-01-02T03:04:05Z"}`,
			`{"id":2,"pos":[{"x":0.001,"y":1e+30},{"x":0,"y":0}],"name":"<&>","label":"ok","ok":false,"when":"NaT"}`,
			`{"id":3,"pos":[{"x":-0,"y":7},{"x":8,"y":9}],"name":"xyzzy","label":"日本","ok":true,"when":"1970-01-01T00:00:00Z"}`,
		}, "", exitOK},
		{"NaN and infinities", testdata("special-floats.npy"), "4", []string{
			`{"h":0.099975586,"c":[1,2]}`, `{"h":"NaN","c":["NaN","-Inf"]}`, `{"h":"+Inf","c":[0,0]}`, `{"h":"-Inf","c":[-0,-1.5]}`,
		}, "", exitOK},
		{"rows", testdata("matrix.npy"), "3", []string{"[0,0.25]", "[0.5,0.75]", "[1,1.25]"}, "", exitOK},
		{"rows in Fortran order", testdata("fortran.npy"), "2", []string{"[0,1,2]", "[3,4,5]"}, "", exitOK},
		{"a 0-dimensional array", testdata("scalar.npy"), "1", []string{"3.5"}, "", exitOK},
		{"no value of a 0-dimensional array", testdata("scalar.npy"), "0", nil, "", exitOK},
		{"big-endian integers", testdata("big-endian.npy"), "9", []string{"0", "1", "2", "3"}, "", exitOK},
		{"the first records", testdata("../../../testdata/little-endian.npy"), "2", []string{
			`{"I":0,"Gen":0,"Sum":7146057691288625177}`, `{"I":1,"Gen":0,"Sum":100028436902272046}`,
		}, "", exitOK},
		{"no records", testdata("big-endian.npy"), "0", nil, "", exitOK},
		{"the records that the newest slot counts", stoppedBeforeHeader, "9", []string{"0", "1.5", "3", "4.5", "6"}, "", exitOK},
		{"a header that counts more than the file holds", func(t *testing.T) string {
			return writeFile(t, header(t, f8, nil, 10), floats(3))
		}, "10", []string{"0", "1.5", "3"}, "the header counts 10 records, but the file holds 3", exitVerdict},
		{"Python objects", testdata("objects.npy"), "1", nil, `cannot decode "|O": Python objects`, exitVerdict},
		{"Python objects in a nested field", func(t *testing.T) string {
			in := npy.DType{Fields: []npy.Field{{Name: "o", Type: npy.DType{Str: "|O"}}}}
			d := npy.DType{Fields: []npy.Field{{Name: "a", Type: f8}, {Name: "in", Type: in}}}
			return writeFile(t, header(t, d, nil, 1), floats(2))
		}, "1", nil, `cannot decode field in.o: "|O": Python objects`, exitVerdict},
		{"numbers in the native byte order", func(t *testing.T) string {
			return writeFile(t, header(t, npy.DType{Str: "=f8"}, nil, 1), floats(1))
		}, "1", nil, `cannot decode "=f8": in the native byte order of a host it does not name`, exitVerdict},
		{"integers of 3 bytes", func(t *testing.T) string {
			return writeFile(t, header(t, npy.DType{Str: "<i3"}, nil, 1), make([]byte, 3))
		}, "1", nil, `cannot decode "<i3": a type that mmapinfo does not decode`, exitVerdict},
		{"a subarray of a type of size 0", func(t *testing.T) string {
			d := npy.DType{Fields: []npy.Field{{Name: "a", Type: f8}, {Name: "z", Type: npy.DType{Str: "|V0"}, Shape: []int{2}}}}
			return writeFile(t, header(t, d, nil, 1), floats(1))
		}, "1", nil, "cannot decode field z: a subarray of a type of size 0", exitVerdict},
		{"a type whose size overflows", func(t *testing.T) string {
			return writeFile(t, header(t, hugeDType(), nil, 1), floats(1))
		}, "1", nil, "their size overflows", exitVerdict},
		{"rows of no elements", func(t *testing.T) string {
			return writeFile(t, header(t, f8, []int{0}, 3))
		}, "1", nil, "records of shape [0] have no size that mmapinfo can read", exitVerdict},
		{"not a .npy file", func(t *testing.T) string { return writeFile(t, []byte("hello")) }, "1", nil, "no records to dump: not a .npy file", exitVerdict},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkDump(t, c.make(t), c.n, c.want, c.stderr, c.status)
		})
	}
}

// TestDumpEveryKind dumps a record of every kind of field that dump
// decodes.
func TestDumpEveryKind(t *testing.T) {
	path, want := mixedRecord(t)
	checkDump(t, path, "1", []string{want}, "", exitOK)
}

// checkDump runs mmapinfo -dump n on path and checks the lines it prints,
// each valid JSON, its stderr and its exit status.
func checkDump(t *testing.T, path, n string, want []string, stderr string, status int) {
	t.Helper()
	out, errOut, got := runInfo("-dump", n, path)
	var wantOut strings.Builder
	for _, line := range want {
		wantOut.WriteString(line + "\n")
	}
	if out != wantOut.String() || got != status || !strings.Contains(errOut, stderr) {
		t.Errorf("got exit %d and\n%s\nstderr %q; want exit %d and\n%s\nstderr saying %q", got, out, errOut, status, &wantOut, stderr)
	}
	for line := range strings.Lines(out) {
		if !json.Valid([]byte(line)) {
			t.Errorf("not JSON: %s", line)
		}
	}
}

func TestDumpInJSONReport(t *testing.T) {
	path := writeFile(t, header(t, f8, nil, 4), floats(4))
	out, _, status := runInfo("-json", "-dump", "3", path)
	var r struct {
		Records []float64 `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || status != exitOK {
		t.Fatalf("exit %d, %v:\n%s", status, err, out)
	}
	if want := []float64{0, 1.5, 3}; !bytes.Equal(mustJSON(t, r.Records), mustJSON(t, want)) {
		t.Errorf("records %v; want %v", r.Records, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHalf(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		want float64
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, math.Ldexp(1, -24)},
		{0x0400, math.Ldexp(1, -14)}, {0x3555, 0.333251953125}, {0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	} {
		if got := half(c.bits); got != c.want {
			t.Errorf("half(%#04x): got %v; want %v", c.bits, got, c.want)
		}
	}
	if got := half(0x7e00); !math.IsNaN(got) {
		t.Errorf("half(0x7e00): got %v; want NaN", got)
	}
}
