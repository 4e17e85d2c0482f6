package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/npy"
)

// Records as JSON, decoded from the file's own numpy type: a structured
// record is an object of its fields in order (padding left out), a
// subarray or a record's row an array, a complex number [re, im]. NaN and
// infinities, which JSON has no numbers for, are the strings "NaN", "+Inf"
// and "-Inf"; byte strings are strings, void fields hex.

// dump decodes the first n records that hold (of a 0-dimensional array,
// its one value), as many as the file has, and says on warn if it has
// fewer than asked.
func dump(e *exam, n int64, warn io.Writer) ([]json.RawMessage, error) {
	if e.state == nil {
		return nil, fmt.Errorf("no records to dump: %v", e.stateErr)
	}
	h, info := e.state.H, e.Header
	if err := decodable(h.DType, ""); err != nil {
		return nil, err
	}
	if info.RecordSize < 0 {
		return nil, fmt.Errorf("cannot decode records of %s: their size overflows", h.DType)
	}
	if len(h.Shape) == 0 {
		if n == 0 {
			return nil, nil
		}
		v, err := e.element(h, int64(h.Len))
		return []json.RawMessage{v}, err
	}
	if info.RecordSize == 0 {
		return nil, fmt.Errorf("records of shape %v have no size that mmapinfo can read", h.Shape[1:])
	}
	m := min(n, info.Count)
	if m > info.Capacity {
		fmt.Fprintf(warn, "mmapinfo: the header counts %d records, but the file holds %d\n", info.Count, info.Capacity)
		m = info.Capacity
	}
	var recs []json.RawMessage
	for i := range m {
		r, err := e.record(h, i)
		if err != nil {
			return recs, fmt.Errorf("record %d: %w", i, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// record decodes record i: one element, or a row of elements, nested as
// the shape nests them.
func (e *exam) record(h *npy.Header, i int64) (json.RawMessage, error) {
	rows := h.Shape[1:]
	if len(rows) == 0 {
		return e.element(h, int64(h.Len)+i*int64(h.DType.Itemsize()))
	}
	// An element's index in the array is i and its index in the row, in
	// row-major (C) order, or column-major (Fortran) order.
	stride := make([]int64, len(h.Shape))
	for d := range stride {
		switch {
		case !h.Fortran && d == 0:
			stride[d] = e.Header.RecordSize / int64(h.DType.Itemsize())
		case !h.Fortran:
			stride[d] = stride[d-1] / h.Shape[d]
		case d == 0:
			stride[d] = 1
		default:
			stride[d] = stride[d-1] * h.Shape[d-1]
		}
	}
	var buf bytes.Buffer
	err := e.row(&buf, h, stride, 1, i*stride[0])
	return buf.Bytes(), err
}

// row writes the elements of dimension dim and those within it, from
// element index at.
func (e *exam) row(buf *bytes.Buffer, h *npy.Header, stride []int64, dim int, at int64) error {
	if dim == len(h.Shape) {
		v, err := e.element(h, int64(h.Len)+at*int64(h.DType.Itemsize()))
		buf.Write(v)
		return err
	}
	buf.WriteByte('[')
	for j := range h.Shape[dim] {
		if j > 0 {
			buf.WriteByte(',')
		}
		if err := e.row(buf, h, stride, dim+1, at+j*stride[dim]); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

// element decodes the element of h's type at byte offset off.
func (e *exam) element(h *npy.Header, off int64) (json.RawMessage, error) {
	size := h.DType.Itemsize()
	if off+int64(size) > e.Size {
		return nil, fmt.Errorf("the file ends at byte %d, inside the element at byte %d", e.Size, off)
	}
	b := make([]byte, size)
	if _, err := e.f.ReadAt(b, off); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	writeValue(&buf, h.DType, b)
	return buf.Bytes(), nil
}

// decodable reports an error if some field of d is of a type that dump
// cannot decode; path names d's field.
func decodable(d npy.DType, path string) error {
	if d.Structured() {
		for _, f := range d.Fields {
			fpath := strings.TrimPrefix(path+"."+f.Name, ".")
			switch {
			case f.Padding():
				continue
			case f.Shape != nil && f.Type.Itemsize() == 0:
				// Its values, none of them in the file, could be any number.
				return fmt.Errorf("cannot decode %sa subarray of a type of size 0", inField(fpath))
			}
			if err := decodable(f.Type, fpath); err != nil {
				return err
			}
		}
		return nil
	}
	order, kind, size := d.Parts()
	sizes, known := decodableSizes[kind]
	var why string
	switch {
	case kind == 'O':
		why = "Python objects, pointers into the process that wrote the file, which mean nothing once read back"
	case order == '=':
		why = "in the native byte order of a host it does not name"
	case !known || sizes != nil && !slices.Contains(sizes, size):
		why = "a type that mmapinfo does not decode"
	default:
		return nil
	}
	return fmt.Errorf("cannot decode %s%s: %s", inField(path), strconv.Quote(d.Str), why)
}

// decodableSizes are the sizes of each kind that writePlain decodes; nil
// for any size.
var decodableSizes = map[byte][]int{
	'b': {1}, '?': {1}, 'i': {1, 2, 4, 8}, 'u': {1, 2, 4, 8}, 'f': {2, 4, 8}, 'c': {8, 16},
	'M': {8}, 'm': {8}, 'S': nil, 'a': nil, 'U': nil, 'V': nil,
}

// writeValue writes b, a value of d, as JSON; d is decodable.
func writeValue(buf *bytes.Buffer, d npy.DType, b []byte) {
	if d.Structured() {
		buf.WriteByte('{')
		first := true
		for _, f := range d.Fields {
			size := f.Type.Itemsize() * product(f.Shape)
			if !f.Padding() {
				if !first {
					buf.WriteByte(',')
				}
				first = false
				buf.Write(jsonString(f.Name))
				buf.WriteByte(':')
				writeArray(buf, f.Type, f.Shape, b[:size])
			}
			b = b[size:]
		}
		buf.WriteByte('}')
		return
	}
	writePlain(buf, d, b)
}

// writeArray writes b, a subarray of shape dims of d, as nested arrays.
func writeArray(buf *bytes.Buffer, d npy.DType, dims []int, b []byte) {
	if len(dims) == 0 {
		writeValue(buf, d, b)
		return
	}
	inner := len(b) / max(dims[0], 1)
	buf.WriteByte('[')
	for i := range dims[0] {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeArray(buf, d, dims[1:], b[i*inner:(i+1)*inner])
	}
	buf.WriteByte(']')
}

func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// writePlain writes b, a value of the plain type d.
func writePlain(buf *bytes.Buffer, d npy.DType, b []byte) {
	order, kind, size := d.Parts()
	var bo binary.ByteOrder = binary.LittleEndian
	if order == '>' {
		bo = binary.BigEndian
	}
	switch kind {
	case 'b', '?':
		buf.WriteString(strconv.FormatBool(b[0] != 0))
	case 'i':
		buf.WriteString(strconv.FormatInt(signed(bo, b), 10))
	case 'u':
		buf.WriteString(strconv.FormatUint(unsigned(bo, b), 10))
	case 'f':
		writeFloat(buf, bo, b)
	case 'c':
		buf.WriteByte('[')
		writeFloat(buf, bo, b[:size/2])
		buf.WriteByte(',')
		writeFloat(buf, bo, b[size/2:])
		buf.WriteByte(']')
	case 'M', 'm':
		n := signed(bo, b)
		_, unit, _ := strings.Cut(strings.TrimSuffix(d.Str, "]"), "[")
		switch t, ok := mmap.TimeOf(n, unit); {
		case n == mmap.NaT:
			buf.WriteString(`"NaT"`)
		case kind == 'M' && ok:
			// A time, as RFC 3339 writes it in UTC.
			buf.Write(jsonString(t.Format(time.RFC3339Nano)))
		default:
			// A timedelta, or a time out of time.Time's range: the count
			// of its unit.
			buf.WriteString(strconv.FormatInt(n, 10))
		}
	case 'S', 'a':
		buf.Write(jsonString(string(bytes.TrimRight(b, "\x00"))))
	case 'U':
		buf.Write(jsonString(utf32(bo, b)))
	case 'V':
		buf.Write(jsonString(hex.EncodeToString(b)))
	}
}

func unsigned(bo binary.ByteOrder, b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(bo.Uint16(b))
	case 4:
		return uint64(bo.Uint32(b))
	}
	return bo.Uint64(b)
}

// signed reads a two's complement integer of len(b) bytes.
func signed(bo binary.ByteOrder, b []byte) int64 {
	shift := 64 - 8*len(b)
	return int64(unsigned(bo, b)<<shift) >> shift
}

// writeFloat writes a float of 2, 4 or 8 bytes.
func writeFloat(buf *bytes.Buffer, bo binary.ByteOrder, b []byte) {
	var f float64
	bits := 64
	switch len(b) {
	case 2:
		f, bits = half(bo.Uint16(b)), 32 // every half is a float32: print it as the shortest one
	case 4:
		f, bits = float64(math.Float32frombits(bo.Uint32(b))), 32
	default:
		f = math.Float64frombits(bo.Uint64(b))
	}
	switch {
	case math.IsNaN(f):
		buf.WriteString(`"NaN"`)
	case math.IsInf(f, 1):
		buf.WriteString(`"+Inf"`)
	case math.IsInf(f, -1):
		buf.WriteString(`"-Inf"`)
	default:
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
}

// half returns the value of an IEEE 754 half-precision float.
func half(u uint16) float64 {
	exp, frac := int(u>>10)&0x1f, float64(u&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(frac, -24)
	case 0x1f:
		f = math.Inf(1)
		if frac != 0 {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(frac+0x400, exp-25)
	}
	if u&0x8000 != 0 {
		f = -f
	}
	return f
}

// utf32 decodes numpy's unicode strings: UTF-32 code points, padded with
// zeros.
func utf32(bo binary.ByteOrder, b []byte) string {
	var s strings.Builder
	for ; len(b) >= 4; b = b[4:] {
		r := rune(bo.Uint32(b))
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		s.WriteRune(r)
	}
	return strings.TrimRight(s.String(), "\x00")
}

// jsonString is s as a JSON string, with <, > and & as they are.
func jsonString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// inField names the field at path in a message, or nothing for the record.
func inField(path string) string {
	if path == "" {
		return ""
	}
	return "field " + path + ": "
}
