package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// writeText writes the report for people to read.
func writeText(w io.Writer, r *report) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("file", "%s (%s)", r.File, plural(r.Size, "byte"))
	switch r.Kind {
	case kindArray:
		line("kind", "Array file, format 2: a .npy file and the sidecar %s", filepath.Base(r.Sidecar.Path))
	case kindNPY:
		if r.Sidecar == nil {
			line("kind", "plain .npy file: no sidecar, as an Array file is when no writer has it open")
		} else {
			line("kind", "plain .npy file, and next to it %s, not a sidecar that Open uses", filepath.Base(r.Sidecar.Path))
		}
	default:
		line("kind", "neither an Array file nor a .npy file: %s", r.Why)
	}
	if h := r.Header; h != nil {
		writeHeader(line, h)
	}
	if s := r.Sidecar; s != nil {
		writeSidecar(line, s)
	}
	v := r.Verdict
	line("verdict", "%s", v.Status)
	for _, p := range v.Problems {
		line("  problem", "%s", p)
	}
	for _, n := range v.Notes {
		line("  note", "%s", n)
	}
	if v.OpenRDONLY == v.OpenRDWR {
		line("Open", "%s", v.OpenRDONLY)
	} else {
		line("Open(RDONLY)", "%s", v.OpenRDONLY)
		line("Open(RDWR)", "%s", v.OpenRDWR)
	}
}

type lineFunc func(label, format string, args ...any)

func writeHeader(line lineFunc, h *headerInfo) {
	if h.From != "file" {
		fileCount := "does not parse"
		if h.FileCount != nil {
			fileCount = "counts " + plural(*h.FileCount, "record")
		}
		line("header", "from %s of the sidecar (the file's own %s)", h.From, fileCount)
	}
	line("npy version", "%s", h.Version)
	line("dtype", "%s", h.Descr)
	writeFields(line, h.Fields)
	if h.GoType != "" {
		line("Go type", "%s", h.GoType)
	}
	order := "C order"
	if h.Fortran {
		order = "Fortran order"
	}
	line("shape", "%s, %s", tuple(h.Shape), order)
	switch {
	case len(h.Shape) == 0:
		line("count", "none: a 0-dimensional array holds one value")
	case h.RecordSize < 0:
		line("count", "%d", h.Count)
		line("record size", "overflows")
	default:
		line("count", "%d", h.Count)
		line("record size", "%s", plural(h.RecordSize, "byte"))
		line("capacity", "%s", plural(h.Capacity, "record"))
	}
	line("byte order", "%s", h.ByteOrder)
	line("data offset", "%d", h.DataOffset)
}

// writeFields writes a line for each field: its name, type and offset in
// the record, nested fields indented, in columns.
func writeFields(line lineFunc, fields []fieldInfo) {
	var rows [][3]string
	var collect func(fields []fieldInfo, indent string)
	collect = func(fields []fieldInfo, indent string) {
		for _, f := range fields {
			shape := ""
			if f.Shape != nil {
				shape = " " + tuple(f.Shape)
			}
			at := "offset " + strconv.Itoa(f.Offset)
			switch {
			case f.Padding:
				rows = append(rows, [3]string{indent + "(padding)", plural(int64(f.Size), "byte"), at})
			case f.Fields != nil:
				rows = append(rows, [3]string{indent + f.Name, "struct" + shape, at})
				collect(f.Fields, indent+"  ")
			default:
				rows = append(rows, [3]string{indent + f.Name, f.Type + shape, at})
			}
		}
	}
	collect(fields, "")
	var width [2]int
	for _, r := range rows {
		width[0], width[1] = max(width[0], len(r[0])), max(width[1], len(r[1]))
	}
	for i, r := range rows {
		label := ""
		if i == 0 {
			label = "fields"
		}
		line(label, "%-*s  %-*s  %s", width[0], r[0], width[1], r[1], r[2])
	}
}

func writeSidecar(line lineFunc, s *sidecarInfo) {
	name := filepath.Base(s.Path)
	switch {
	case s.Error != "":
		line("sidecar", "%s: %s", name, s.Error)
		return
	case s.Belongs:
		line("sidecar", "%s, of this file (device %d, inode %d)", name, s.Dev, s.Ino)
	default:
		line("sidecar", "%s, of another file (device %d, inode %d; this file: device %d, inode %d)", name, s.Dev, s.Ino, s.FileDev, s.FileIno)
	}
	for i, slot := range s.Slots {
		label := "  slot " + strconv.Itoa(i)
		switch {
		case slot.Empty:
			line(label, "empty, never written")
		case !slot.Good:
			line(label, "bad: %s", slot.Error)
		default:
			var more []string
			if slot.Newest {
				more = append(more, "newest")
			}
			if slot.Matches {
				more = append(more, "the file's header is its copy")
			}
			line(label, "seq %d, count %d, checksum good%s", slot.Seq, slot.Count, strings.Join(append([]string{""}, more...), "; "))
		}
	}
	if s.LiveCount != nil {
		when := "during an earlier boot, so it holds nothing: the slots do"
		if s.LiveThisBoot {
			when = "during this boot"
		}
		ended := ""
		if s.LiveEnded {
			ended = "; then the writer closed the array"
		}
		line("  live count", "%d, published to readers %s%s", *s.LiveCount, when, ended)
	}
}

// tuple writes dims as Python writes a tuple: "(5,)", "(5, 3)", "()".
func tuple[N int | int64](dims []N) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(int64(d), 10)
	}
	if len(dims) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
