package npy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The subset of Python literals that .npy writers put in a header: dicts,
// lists, tuples, strings, integers, True, False and None, with whitespace,
// comments and trailing commas where Python allows them.

// valueKind is the kind of a parsed literal.
type valueKind int

const (
	dictValue valueKind = iota + 1
	listValue
	tupleValue
	strValue
	intValue
	boolValue
	noneValue
)

var valueKindNames = map[valueKind]string{
	dictValue: "a dict", listValue: "a list", tupleValue: "a tuple", strValue: "a string",
	intValue: "an integer", boolValue: "a bool", noneValue: "None",
}

func (k valueKind) String() string { return valueKindNames[k] }

// value is a parsed literal. Start and End are its byte offsets in the
// parsed text, End exclusive.
type value struct {
	kind       valueKind
	str        string
	int        int64
	bool       bool
	items      []value // list and tuple items; dict keys and values, alternating
	start, end int
}

// maxDepth bounds the nesting of containers.
const maxDepth = 32

type parser struct {
	s      string
	pos    int
	latin1 bool // strings are Latin-1 (headers of versions 1 and 2), not UTF-8
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("header text, byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// rest returns a short piece of the text from the current position.
func (p *parser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 12 {
		r = r[:12] + "…"
	}
	return r
}

// skipSpace skips whitespace and comments.
func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		case '#':
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (value, error) {
	if depth > maxDepth {
		return value{}, p.errorf("nested more than %d deep", maxDepth)
	}
	if p.pos >= len(p.s) {
		return value{}, p.errorf("unexpected end of the header")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.container(depth, '}', dictValue)
	case c == '[':
		return p.container(depth, ']', listValue)
	case c == '(':
		return p.container(depth, ')', tupleValue)
	case c == '\'' || c == '"' || c == 'u' || c == 'U':
		return p.string()
	case c == '-' || c == '+' || c >= '0' && c <= '9':
		return p.integer()
	}
	return p.name()
}

// container parses a dict, list or tuple whose opening bracket is at p.pos.
// A parenthesized single value without a comma is that value, as in Python.
func (p *parser) container(depth int, closer byte, kind valueKind) (value, error) {
	start := p.pos
	p.pos++
	v := value{kind: kind}
	comma := false
	for {
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == closer {
			p.pos++
			break
		}
		if len(v.items) > 0 && !comma {
			return value{}, p.errorf("expected ',' or %q, found %q", closer, p.rest())
		}
		item, err := p.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.items = append(v.items, item)
		p.skipSpace()
		if kind == dictValue {
			if p.pos >= len(p.s) || p.s[p.pos] != ':' {
				return value{}, p.errorf("expected ':' after a dict key, found %q", p.rest())
			}
			p.pos++
			p.skipSpace()
			if item, err = p.value(depth + 1); err != nil {
				return value{}, err
			}
			v.items = append(v.items, item)
			p.skipSpace()
		}
		comma = p.pos < len(p.s) && p.s[p.pos] == ','
		if comma {
			p.pos++
		}
	}
	if kind == tupleValue && len(v.items) == 1 && !comma {
		return v.items[0], nil // (x) is x
	}
	v.start, v.end = start, p.pos
	return v, nil
}

// string parses a quoted string, with an optional u prefix, and Python's
// escapes.
func (p *parser) string() (value, error) {
	start := p.pos
	if c := p.s[p.pos]; c == 'u' || c == 'U' {
		p.pos++
		if p.pos >= len(p.s) || p.s[p.pos] != '\'' && p.s[p.pos] != '"' {
			p.pos = start
			return p.name()
		}
	}
	quote := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.s) || p.s[p.pos] == '\n' {
			return value{}, p.errorf("unterminated string")
		}
		c := p.s[p.pos]
		switch {
		case c == quote:
			p.pos++
			return value{kind: strValue, str: b.String(), start: start, end: p.pos}, nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return value{}, err
			}
		case p.latin1:
			b.WriteRune(rune(c))
			p.pos++
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.pos:])
			b.WriteRune(r)
			p.pos += n
		}
	}
}

// escape decodes the escape sequence at p.pos into b.
func (p *parser) escape(b *strings.Builder) error {
	p.pos++
	if p.pos >= len(p.s) {
		return p.errorf("unterminated string")
	}
	c := p.s[p.pos]
	p.pos++
	if r, ok := simpleEscapes[c]; ok {
		b.WriteByte(r)
		return nil
	}
	if c >= '0' && c <= '7' { // up to three octal digits
		n := int(c - '0')
		for i := 0; i < 2 && p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '7'; i++ {
			n = n*8 + int(p.s[p.pos]-'0')
			p.pos++
		}
		b.WriteRune(rune(n))
		return nil
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if digits == 0 {
		b.WriteByte('\\') // Python keeps an unknown escape as it is
		b.WriteByte(c)
		return nil
	}
	if p.pos+digits > len(p.s) {
		return p.errorf("truncated \\%c escape", c)
	}
	n, err := strconv.ParseUint(p.s[p.pos:p.pos+digits], 16, 32)
	if err != nil || n > utf8.MaxRune {
		return p.errorf("bad \\%c escape %q", c, p.s[p.pos:p.pos+digits])
	}
	p.pos += digits
	b.WriteRune(rune(n))
	return nil
}

var simpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"', 'n': '\n', 't': '\t', 'r': '\r',
	'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v',
}

// integer parses a decimal integer with an optional sign, and the L suffix
// of files written by Python 2.
func (p *parser) integer() (value, error) {
	start := p.pos
	if c := p.s[p.pos]; c == '-' || c == '+' {
		p.pos++
		p.skipSpace()
	}
	digits := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '_') {
		p.pos++
	}
	text := strings.ReplaceAll(p.s[digits:p.pos], "_", "")
	if text == "" {
		return value{}, p.errorf("expected a number, found %q", p.rest())
	}
	if len(text) > 1 && text[0] == '0' && strings.Trim(text, "0") != "" {
		return value{}, p.errorf("integer %q with a leading zero", text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return value{}, p.errorf("integer %q out of range", text)
	}
	if p.s[start] == '-' {
		n = -n
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	return value{kind: intValue, int: n, start: start, end: p.pos}, nil
}

// name parses True, False or None.
func (p *parser) name() (value, error) {
	for word, v := range map[string]value{
		"True": {kind: boolValue, bool: true}, "False": {kind: boolValue}, "None": {kind: noneValue},
	} {
		if strings.HasPrefix(p.s[p.pos:], word) {
			end := p.pos + len(word)
			if end < len(p.s) && isNameByte(p.s[end]) {
				break
			}
			v.start, v.end = p.pos, end
			p.pos = end
			return v, nil
		}
	}
	return value{}, p.errorf("unexpected %q", p.rest())
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
