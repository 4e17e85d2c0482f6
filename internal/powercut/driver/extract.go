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
	if r := x.CheckFile(recs); !r.OK() {
		return fmt.Errorf("as numpy reads it: %s", r.Explain())
	}
	return nil
}

// numpyRecords returns the records numpy reads from the .npy file at path,
// with and without a memory map, which must agree. numpy must find the
// layout of [model.Record] in the header.
func numpyRecords(path string) ([]model.Record, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	py, err := numpyPython()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(py, "-c", numpyLoad, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("numpy: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	size := binary.Size(model.Record{})
	if len(out)%size != 0 {
		return nil, fmt.Errorf("numpy gave %d bytes, not a whole number of %d-byte records", len(out), size)
	}
	recs := make([]model.Record, len(out)/size)
	if err := binary.Read(bytes.NewReader(out), binary.LittleEndian, recs); err != nil {
		return nil, err
	}
	return recs, nil
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

// numpyLoad loads the .npy file sys.argv[1] with numpy, with and without a
// memory map, checks that its records have the layout of model.Record,
// and writes them to stdout, little-endian.
const numpyLoad = `
import sys
import numpy as np

want = np.dtype([('Index', '<u8'), ('Epoch', '<u8'), ('Fill', '<u8', (8,)), ('Check', '<u8')])
a = np.load(sys.argv[1])
m = np.load(sys.argv[1], mmap_mode='r')
if a.dtype != want or m.dtype != want or a.ndim != 1 or a.shape != m.shape:
    sys.exit('numpy reads %s %s, with a memory map %s %s; want %s records' % (a.dtype, a.shape, m.dtype, m.shape, want))
b = a.tobytes()
if b != m.tobytes():
    sys.exit('numpy reads other records with a memory map than without')
sys.stdout.buffer.write(b)
`
