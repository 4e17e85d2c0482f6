//go:build linux

package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// extract copies the array's directory out of the disk image, which the
// checker left cleanly unmounted, into dir/extracted, and runs
// checkExtracted on the array file. The whole directory comes out, so that
// files kept next to the array come with it.
func extract(disk, dir string, v model.Verdict) error {
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
	if err := checkExtracted(file, v); err != nil {
		return fmt.Errorf("extracted %s: %v", arrayPath, err)
	}
	return nil
}

// checkExtracted checks, with numpy, the files taken from the disk after
// the checker's clean shutdown: the array file as the cut left it (AfterCut,
// if there was one), whose header must be valid and count only whole
// records, at least the bound the cut had to keep (the checker also held
// its records against the whole expectation, epochs included); and the
// array file as the checker left it, which must hold v.Final records.
func checkExtracted(path string, v model.Verdict) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() >= diskSize {
		return fmt.Errorf("%d bytes, more than the disk's %d", st.Size(), diskSize)
	}
	args := []string{path, fmt.Sprint(v.Final), fmt.Sprint(v.Final)}
	if after := filepath.Join(filepath.Dir(path), model.AfterCut); exists(after) {
		args = append(args, after, fmt.Sprint(v.Bound), fmt.Sprint(uint64(math.MaxInt64)))
	}
	py, err := numpyPython()
	if err != nil {
		return err
	}
	cmd := exec.Command(py, append([]string{"-c", numpyCheck}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("numpy: %v: %s", err, out)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// numpyPython returns a Python that can import numpy.
func numpyPython() (string, error) {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py, nil
		}
	}
	return "", fmt.Errorf("no Python here can import numpy (apt-get install python3-numpy)")
}

// numpyCheck loads each file it is given (with the least and most records
// it may hold) with numpy, with and without a memory map, and checks every
// record against model.NewRecord, computed over the whole array at once.
const numpyCheck = `
import sys
import numpy as np

U = np.uint64

def splitmix(s):
    s = s + U(0x9e3779b97f4a7c15)
    z = (s ^ (s >> U(30))) * U(0xbf58476d1ce4e5b9)
    z = (z ^ (z >> U(27))) * U(0x94d049bb133111eb)
    return s, z ^ (z >> U(31))

np.seterr(over='ignore')
args = sys.argv[1:]
for path, least, most in zip(args[0::3], args[1::3], args[2::3]):
    for mode in (None, 'r'):
        a = np.load(path, mmap_mode=mode)
        n = len(a)
        if not int(least) <= n <= int(most):
            sys.exit('%s: numpy reads %d records; want %s to %s' % (path, n, least, most))
        i = np.arange(n, dtype=U)
        s = i * U(0x9e3779b97f4a7c15) ^ a['Epoch'] * U(0xd1b54a32d192ed03) ^ U(0x5bd1e9955bd1e995)
        bad = a['Index'] != i
        for k in range(8):
            s, w = splitmix(s)
            bad |= a['Fill'][:, k] != w
        s, w = splitmix(s)
        bad |= a['Check'] != w
        if bad.any():
            j = int(np.nonzero(bad)[0][0])
            sys.exit('%s: record %d of %d is not whole: %r' % (path, j, n, a[j]))
`
