package mmap

import (
	"fmt"
	"path/filepath"
	"testing"
)

// logNumpy loads the segments of the log in sys.argv[1] with numpy, mapped,
// in name order, concatenates them, and checks that they are the records
// mkrec makes for indexes from the first segment's name on.
const logNumpy = `
import glob, os
files = sorted(glob.glob(os.path.join(sys.argv[1], '*.npy')))
first = int(os.path.basename(files[0])[:20])
parts = [np.load(f, mmap_mode='r') for f in files]
for f, p in zip(files, parts):
    assert isinstance(p, np.memmap), f
a = np.concatenate(parts)
i = np.arange(first, first + len(a), dtype=np.uint64)
with np.errstate(over='ignore'):
    s = (i * np.uint64(0x9e3779b97f4a7c15) ^ a['Gen'].astype(np.uint64)) + np.uint64(0x632be59bd9b4e019)
bad = np.nonzero((a['I'] != i) | (a['Sum'] != s))[0]
if len(bad):
    sys.exit('record %d is %r' % (first + bad[0], a[bad[0]]))
`

// writeLogForPython writes records [0, 2345) into a log of 100-record
// segments, keeping the newest 1000 or so, and closes it.
func writeLogForPython(t *testing.T) (dir string, first, end int64) {
	dir = filepath.Join(tempDir(t), "log")
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(100))
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(2345) {
		if err := w.Append(mkrec(uint64(i), uint32(i%5))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.KeepNewest(1000); err != nil {
		t.Fatal(err)
	}
	first, end = w.First(), w.End()
	mustCloseLog(t, w)
	return dir, first, end
}

// TestNumpyReadsALog: numpy loads each segment of a log mapped, and the
// segments in name order, concatenated, are the records Go reads.
func TestNumpyReadsALog(t *testing.T) {
	dir, first, end := writeLogForPython(t)
	out := pythonOf(t, "numpy", "python3-numpy", logNumpy+`
print(first, first + len(a), int(a['Sum'].sum(dtype=np.uint64)))
`, dir)
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, r)
	recs, err := r.Read(r.First(), r.End())
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, x := range recs {
		sum += x.Sum
	}
	if want := fmt.Sprint(first, end, sum); out != want {
		t.Errorf("numpy read the log as %q; Go reads %q", out, want)
	}
}

// TestDaskConcatenatesALog: dask concatenates the segments, mapped, into
// the array Go reads.
func TestDaskConcatenatesALog(t *testing.T) {
	dir, first, end := writeLogForPython(t)
	out := pythonOf(t, "numpy, dask.array", "python3-dask", logNumpy+`
import dask.array as da
d = da.concatenate([da.from_array(p, chunks=64) for p in parts])
assert (d['I'] == da.from_array(i, chunks=64)).all().compute()
print(first, first + d.shape[0], int(d['Gen'].astype(np.uint64).sum().compute()))
`, dir)
	var gens uint64
	for i := first; i < end; i++ {
		gens += uint64(i % 5)
	}
	if want := fmt.Sprint(first, end, gens); out != want {
		t.Errorf("dask read the log as %q; want %q", out, want)
	}
}
