//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
