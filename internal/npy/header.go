package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Magic starts every .npy file; the format version follows it.
const Magic = "\x93NUMPY"

// MaxHeaderLen is the longest header text numpy reads without being told to
// trust the file (its max_header_size).
const MaxHeaderLen = 10000

// Prefix is how many bytes of a file the longest header numpy reads takes:
// the magic, the version, the length and MaxHeaderLen bytes of text.
const Prefix = 12 + MaxHeaderLen

const (
	dataAlign    = 64 // numpy starts the data at a multiple of this
	growthDigits = 21 // numpy leaves room for this many digits of the count
)

// Header is a parsed .npy header.
type Header struct {
	Major, Minor int
	DType        DType
	Fortran      bool    // fortran_order: the data is in column-major order
	Shape        []int64 // the array's shape; Shape[0] counts the records
	Len          int     // the header's length in bytes: where the data starts

	countAt, countEnd int // where the text of Shape[0] lies in the header
	dictEnd           int // just past the dict's closing brace
}

// ErrShort reports a file too short to hold the header it starts.
var ErrShort = errors.New("the file ends inside the .npy header")

// headerSize returns the lengths of the parts of the header that b, the
// start of a file, begins with: the magic, version and length of the text,
// and the text.
func headerSize(b []byte) (prefix, n int, err error) {
	if len(b) < len(Magic)+2 || string(b[:len(Magic)]) != Magic {
		return 0, 0, fmt.Errorf("not a .npy file (it does not start with %q)", Magic)
	}
	switch major, minor := b[6], b[7]; {
	case major == 1 && minor == 0:
		prefix = 10
	case (major == 2 || major == 3) && minor == 0:
		prefix = 12
	default:
		return 0, 0, fmt.Errorf(".npy format version %d.%d; versions 1.0, 2.0 and 3.0 are known", major, minor)
	}
	if len(b) < prefix {
		return 0, 0, ErrShort
	}
	var n64 uint64
	if prefix == 10 {
		n64 = uint64(binary.LittleEndian.Uint16(b[8:]))
	} else {
		n64 = uint64(binary.LittleEndian.Uint32(b[8:]))
	}
	if n64 > MaxHeaderLen {
		return 0, 0, fmt.Errorf("header of %d bytes; numpy reads at most %d", n64, MaxHeaderLen)
	}
	return prefix, int(n64), nil
}

// Parse parses the header that b, the start of a file, begins with; b may
// run on past it. It accepts what numpy accepts: any key order and
// spacing, comments, trailing commas.
func Parse(b []byte) (*Header, error) {
	prefix, n, err := headerSize(b)
	if err != nil {
		return nil, err
	}
	total := prefix + n
	if len(b) < total {
		return nil, ErrShort
	}
	h := &Header{Major: int(b[6]), Minor: int(b[7]), Len: total}
	p := &parser{s: string(b[:total]), pos: prefix, latin1: h.Major < 3}
	p.skipSpace()
	d, err := p.value(0)
	if err == nil {
		p.skipSpace()
		if p.pos < total {
			err = p.errorf("unexpected %q after the header's dict", p.rest())
		}
	}
	if err != nil {
		return nil, err
	}
	if err := h.fill(d); err != nil {
		return nil, err
	}
	return h, nil
}

// fill takes the header's fields from its dict.
func (h *Header) fill(d value) error {
	if d.kind != dictValue {
		return fmt.Errorf("header is %v; want a dict", d.kind)
	}
	seen := map[string]value{}
	for i := 0; i < len(d.items); i += 2 {
		k := d.items[i]
		if k.kind != strValue || (k.str != "descr" && k.str != "fortran_order" && k.str != "shape") {
			return fmt.Errorf("header has the key %s; want only 'descr', 'fortran_order' and 'shape'", keyText(k))
		}
		seen[k.str] = d.items[i+1]
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := seen[key]; !ok {
			return fmt.Errorf("header has no %q", key)
		}
	}
	var err error
	if h.DType, err = dtypeOf(seen["descr"]); err != nil {
		return err
	}
	fo := seen["fortran_order"]
	if fo.kind != boolValue {
		return fmt.Errorf("fortran_order is %v; want True or False", fo.kind)
	}
	h.Fortran = fo.bool
	shape := seen["shape"]
	if shape.kind != tupleValue {
		return fmt.Errorf("shape is %v; want a tuple", shape.kind)
	}
	h.Shape = make([]int64, len(shape.items))
	for i, n := range shape.items {
		if n.kind != intValue || n.int < 0 {
			return fmt.Errorf("shape %s: want non-negative integers", tupleText(shape.items))
		}
		h.Shape[i] = n.int
	}
	if len(shape.items) > 0 {
		h.countAt, h.countEnd = shape.items[0].start, shape.items[0].end
	}
	h.dictEnd = d.end
	return nil
}

func keyText(k value) string {
	if k.kind == strValue {
		return Quote(k.str)
	}
	return k.kind.String()
}

// Build returns the header numpy (1.24 and later) writes for count records
// of d, each of shape rowShape: version 1.0, or 3.0 when a field name is not
// ASCII; the dict in numpy's key order and spacing; room for the count to
// grow to 21 digits; then spaces and one newline, up to a multiple of 64.
// One difference: numpy writes names that are Latin-1 but not ASCII ("é")
// in a header of version 1.0, in Latin-1; Build writes every name that is
// not ASCII in version 3.0, in UTF-8, as FORMAT.md specifies.
func Build(d DType, rowShape []int, count int64) ([]byte, error) {
	shape := append([]int64{count}, toInt64(rowShape)...)
	digits := strconv.FormatInt(count, 10)
	body := "{'descr': " + d.String() + ", 'fortran_order': False, 'shape': " + tupleRepr(shape) + ", }" +
		strings.Repeat(" ", max(growthDigits-len(digits), 0))
	major, prefix := 1, 10
	if !d.ASCII() {
		major, prefix = 3, 12
	}
	hlen := len(body) + 1
	pad := dataAlign - (prefix+hlen)%dataAlign
	if hlen+pad > MaxHeaderLen {
		return nil, fmt.Errorf("the header would take %d bytes; numpy reads at most %d", hlen+pad, MaxHeaderLen)
	}
	b := make([]byte, 0, prefix+hlen+pad)
	b = append(b, Magic...)
	b = append(b, byte(major), 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen+pad))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(hlen+pad))
	}
	b = append(b, body...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n'), nil
}

func toInt64(dims []int) []int64 {
	out := make([]int64, len(dims))
	for i, d := range dims {
		out[i] = int64(d)
	}
	return out
}

// MaxCount is the largest count that Rewrite can write into this header,
// whose length never changes; -1 if the count cannot change at all.
func (h *Header) MaxCount() int64 {
	if len(h.Shape) == 0 || h.Fortran && len(h.Shape) > 1 {
		return -1
	}
	fixed := h.countAt + (h.dictEnd - h.countEnd) + 1 // all but the digits, and the newline
	room := h.Len - fixed
	if room >= 19 {
		return 1<<63 - 1
	}
	if room < 1 {
		return -1
	}
	n := int64(1)
	for range room {
		n *= 10
	}
	return n - 1
}

// Rewrite returns header b, which h describes, with the count of records
// (Shape[0]) set to count: the same length, the dict's text kept but for
// the count's digits, then spaces and one newline.
func (h *Header) Rewrite(b []byte, count int64) ([]byte, error) {
	if count < 0 || count > h.MaxCount() {
		return nil, fmt.Errorf("the header has no room to count %d records (numpy 1.24 and later leave room for 21 digits)", count)
	}
	out := make([]byte, 0, h.Len)
	out = append(out, b[:h.countAt]...)
	out = strconv.AppendInt(out, count, 10)
	out = append(out, b[h.countEnd:h.dictEnd]...)
	for len(out) < h.Len-1 {
		out = append(out, ' ')
	}
	return append(out, '\n'), nil
}
