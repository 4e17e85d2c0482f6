//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// recordDescr is model.Record as a .npy header describes it.
const recordDescr = "[('Index', '<u8'), ('Epoch', '<u8'), ('Fill', '<u8', (8,)), ('Check', '<u8')]"

// writeNpy writes a version 1.0 .npy file with the header's descr and
// shape, followed by recs.
func writeNpy(t *testing.T, descr string, shape int, recs []model.Record) string {
	t.Helper()
	dict := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': (%d,), }", descr, shape)
	pad := 64 - (10+len(dict)+1)%64
	dict += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	b.WriteString(dict)
	binary.Write(&b, binary.LittleEndian, recs)
	path := filepath.Join(t.TempDir(), "array.npy")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func records(epochs ...uint64) []model.Record {
	recs := make([]model.Record, len(epochs))
	for i, e := range epochs {
		recs[i] = model.NewRecord(uint64(i), e)
	}
	return recs
}

func TestNumpyCheck(t *testing.T) {
	if _, err := numpyPython(); err != nil {
		t.Skip(err)
	}
	x := model.Expect{Promise: model.State{Count: 3, Epochs: model.Epochs{{Start: 0, Epoch: 1}, {Start: 2, Epoch: 2}}}}
	behind := x
	behind.Behind = &model.State{Count: 2, Epochs: model.Epochs{{Start: 0, Epoch: 1}}}
	whole := records(1, 1, 2, 2)
	torn := records(1, 1, 2, 2)
	torn[1].Fill[3]++
	for _, c := range []struct {
		name string
		path string
		x    model.Expect
		want string // in the error; "" for none
	}{
		{"exactly the promise", writeNpy(t, recordDescr, 3, whole), x, ""},
		{"the header before the last", writeNpy(t, recordDescr, 2, whole), behind, ""},
		{"more than the promise", writeNpy(t, recordDescr, 4, whole), x, "1 records that no Sync made durable"},
		{"the header counts fewer", writeNpy(t, recordDescr, 2, whole), x, "lost 1 synced records"},
		{"the header counts records that are not there", writeNpy(t, recordDescr, 5, whole), x, "numpy:"},
		{"a torn record", writeNpy(t, recordDescr, 3, torn), x, "torn or garbage records, the first at index 1"},
		{"a wrong epoch", writeNpy(t, recordDescr, 3, records(1, 1, 1)), x, "wrong epoch, the first at index 2"},
		{"another layout", writeNpy(t, strings.Replace(recordDescr, "'Check', '<u8'", "'Check', '<i8'", 1), 3, whole), x, "want [('Index'"},
	} {
		err := numpyCheck(c.path, c.x)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v; want an error saying %q", c.name, err, c.want)
		}
	}
	if err := numpyCheck(filepath.Join(t.TempDir(), "missing.npy"), x); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// logImage makes an ext4 image holding the log's directory with the
// segments of recs, each a .npy file named by its first record's index,
// log.meta and the files extra, and returns its path.
func logImage(t *testing.T, segs map[uint64][]model.Record, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip(err)
	}
	if _, err := numpyPython(); err != nil {
		t.Skip(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, path.Base(logPath))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for first, recs := range segs {
		b, err := os.ReadFile(writeNpy(t, recordDescr, len(recs), recs))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d.npy", first)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range append(extra, "log.meta") {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if out, err := exec.Command("mkfs.ext4", "-q", "-d", root, img, "8M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	return img
}

// logRecords returns the records [from, to) of epoch.
func logRecords(from, to, epoch uint64) []model.Record {
	var recs []model.Record
	for i := from; i < to; i++ {
		recs = append(recs, model.NewRecord(i, epoch))
	}
	return recs
}

func TestExtractLog(t *testing.T) {
	want := model.LogState{First: 300, End: 750, Epochs: model.Epochs{{Start: 0, Epoch: 2}, {Start: 700, Epoch: 3}}}
	whole := map[uint64][]model.Record{300: logRecords(300, 500, 2), 500: logRecords(500, 700, 2), 700: logRecords(700, 750, 3)}
	stale := map[uint64][]model.Record{300: logRecords(300, 500, 2), 500: logRecords(500, 700, 2), 700: logRecords(700, 750, 2)}
	gap := map[uint64][]model.Record{300: logRecords(300, 499, 2), 500: logRecords(500, 700, 2), 700: logRecords(700, 750, 3)}
	below := map[uint64][]model.Record{100: logRecords(100, 300, 2), 300: logRecords(300, 500, 2), 500: logRecords(500, 700, 2), 700: logRecords(700, 750, 3)}
	for _, c := range []struct {
		name  string
		segs  map[uint64][]model.Record
		extra []string
		want  string // in the error; "" for none
	}{
		{"the log", whole, nil, ""},
		{"a wrong epoch", stale, nil, "50 whole records of the wrong epoch, the first at index 700"},
		{"a gap", gap, nil, "numpy reads 199 records in 00000000000000000300.npy, and the next segment starts at 500"},
		{"a segment below First", below, nil, "segments from [100 300 500 700], want the first at 300"},
		{"a sidecar", whole, []string{"00000000000000000700.npy.meta"}, "a file 00000000000000000700.npy.meta"},
		{"a temporary segment", whole, []string{"00000000000000000750.npy.tmp"}, "a file 00000000000000000750.npy.tmp"},
	} {
		dir := t.TempDir()
		err := extractLog(logImage(t, c.segs, c.extra...), dir, want)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v; want an error saying %q", c.name, err, c.want)
		}
	}
}
