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
	"strconv"
	"strings"
	"sync"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// extract copies the array's directory out of the disk image, which the
// checker left cleanly unmounted, into dir/extracted, and checks its files
// as numpy reads them, by the .npy header alone: the array file as the cut
// left it (AfterCut, if there was one) must be a state x allows the file
// alone (its header may be one Sync behind: [model.Expect.FileStates]),
// and the array file as the checker left it must hold exactly the
// checker's v.Final records of the epochs v.Runs. The whole directory comes out, so that
// files kept next to the array come with it.
func extract(disk, dir string, x model.Expect, v model.Verdict) error {
	out := filepath.Join(dir, "extracted")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	// debugfs reads the image without mounting it; it reports a missing
	// path on stderr and still exits 0, so the file's presence is checked
	// after.
	cmd := exec.Command("debugfs", "-R", fmt.Sprintf("rdump %s %s", path.Dir(arrayPath), out), disk)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("debugfs rdump: %v: %s", err, msg)
	}
	file := filepath.Join(out, path.Base(path.Dir(arrayPath)), path.Base(arrayPath))
	st, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("extracted %s: %v", arrayPath, err)
	}
	if st.Size() >= diskSize {
		return fmt.Errorf("extracted %s: %d bytes, more than the disk's %d", arrayPath, st.Size(), diskSize)
	}
	final := model.Expect{Promise: model.State{Count: v.Final, Epochs: v.Runs}}
	if err := numpyCheck(file, final); err != nil {
		return fmt.Errorf("extracted %s: %v", arrayPath, err)
	}
	after := filepath.Join(filepath.Dir(file), model.AfterCut)
	if err := numpyCheck(after, x); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("extracted %s (the array file as the cut left it, read without its sidecar): %v", model.AfterCut, err)
	}
	return nil
}

// numpyCheck checks the records numpy reads from the .npy file at path
// against the states x allows the file alone.
func numpyCheck(path string, x model.Expect) error {
	recs, err := numpyRecords(path)
	if err != nil {
		return err
	}
	if r := x.CheckFile(recs[0]); !r.OK() {
		return fmt.Errorf("as numpy reads it: %s", r.Explain())
	}
	return nil
}

// numpyRecords returns the records numpy reads from each .npy file of
// paths, with and without a memory map, which must agree. numpy must find
// the layout of [model.Record] in each header.
func numpyRecords(paths ...string) ([][]model.Record, error) {
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
	}
	py, err := numpyPython()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(py, append([]string{"-c", numpyLoad}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("numpy: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	size := binary.Size(model.Record{})
	all := make([][]model.Record, len(paths))
	for i := range all {
		if len(out) < 8 {
			return nil, fmt.Errorf("numpy gave no count for %s", paths[i])
		}
		n := binary.LittleEndian.Uint64(out)
		if n > uint64(len(out)-8)/uint64(size) {
			return nil, fmt.Errorf("numpy gave %d bytes for %d %d-byte records", len(out)-8, n, size)
		}
		all[i] = make([]model.Record, n)
		if _, err := binary.Decode(out[8:], binary.LittleEndian, all[i]); err != nil {
			return nil, err
		}
		out = out[8+int(n)*size:]
	}
	if len(out) != 0 {
		return nil, fmt.Errorf("numpy gave %d bytes more than the records", len(out))
	}
	return all, nil
}

// numpyPython returns a Python that can import numpy.
var numpyPython = sync.OnceValues(func() (string, error) {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py, nil
		}
	}
	return "", errors.New("no Python here can import numpy (apt-get install python3-numpy)")
})

// numpyLoad loads each .npy file of sys.argv[1:] with numpy, with and
// without a memory map, checks that its records have the layout of
// model.Record, and writes their count and them to stdout, little-endian.
const numpyLoad = `
import sys
import numpy as np

want = np.dtype([('Index', '<u8'), ('Epoch', '<u8'), ('Fill', '<u8', (8,)), ('Check', '<u8')])
for path in sys.argv[1:]:
    a = np.load(path)
    m = np.load(path, mmap_mode='r')
    if a.dtype != want or m.dtype != want or a.ndim != 1 or a.shape != m.shape:
        sys.exit('%s: numpy reads %s %s, with a memory map %s %s; want %s records' % (path, a.dtype, a.shape, m.dtype, m.shape, want))
    b = a.tobytes()
    if b != m.tobytes():
        sys.exit('%s: numpy reads other records with a memory map than without' % path)
    sys.stdout.buffer.write(len(a).to_bytes(8, 'little'))
    sys.stdout.buffer.write(b)
`

// extractLog copies the log's directory out of the disk image, which the
// checker left cleanly unmounted, into dir/extracted-log, and checks its
// files as numpy reads them: the directory holds log.meta and the segments
// from want.First on, and nothing else, and each segment holds the records
// from the index its name says up to the next one's (the newest up to
// want.End), whole, of the epochs want.Epochs gives them.
func extractLog(disk, dir string, want model.LogState) error {
	out := filepath.Join(dir, "extracted-log")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("debugfs", "-R", fmt.Sprintf("rdump %s %s", logPath, out), disk)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("debugfs rdump: %v: %s", err, msg)
	}
	entries, err := os.ReadDir(filepath.Join(out, path.Base(logPath)))
	if err != nil {
		return fmt.Errorf("extracted %s: %v", logPath, err)
	}
	var firsts []uint64
	var paths []string
	for _, e := range entries {
		first, err := strconv.ParseUint(strings.TrimSuffix(e.Name(), ".npy"), 10, 64)
		switch {
		case e.Name() == "log.meta":
			continue
		case err != nil || e.Name() != fmt.Sprintf("%020d.npy", first):
			return fmt.Errorf("extracted %s: a file %s", logPath, e.Name())
		}
		firsts = append(firsts, first)
		paths = append(paths, filepath.Join(out, path.Base(logPath), e.Name()))
	}
	// ReadDir sorts by name, and the names of segments sort as their
	// indexes do.
	if len(firsts) == 0 || firsts[0] != want.First {
		return fmt.Errorf("extracted %s: segments from %v, want the first at %d", logPath, firsts, want.First)
	}
	segs, err := numpyRecords(paths...)
	if err != nil {
		return fmt.Errorf("extracted %s: %v", logPath, err)
	}
	var c model.RecordCheck
	for j, recs := range segs {
		next := want.End
		if j+1 < len(firsts) {
			next = firsts[j+1]
		}
		if firsts[j]+uint64(len(recs)) != next {
			return fmt.Errorf("extracted %s: numpy reads %d records in %s, and the next segment starts at %d (End %d)", logPath, len(recs), filepath.Base(paths[j]), next, want.End)
		}
		for k := range recs {
			c.Add(firsts[j]+uint64(k), &recs[k], want.Epochs)
		}
	}
	if why := c.Explain(); why != "" {
		return fmt.Errorf("extracted %s, as numpy reads it: %s", logPath, why)
	}
	return nil
}
