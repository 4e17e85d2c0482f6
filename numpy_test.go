package mmap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/typedmmap/mmap/internal/npy"
)

// The tests in this file run numpy itself: files this package writes must
// load in numpy, and files numpy writes must open here.

// pythonWith returns a Python that imports modules ("numpy",
// "numpy, pandas"): the first of python3, /usr/bin/python3 and python.
var pythonWith = func() func(modules string) (string, error) {
	var mu sync.Mutex
	found := map[string]func() (string, error){}
	return func(modules string) (string, error) {
		mu.Lock()
		find, ok := found[modules]
		if !ok {
			find = sync.OnceValues(func() (string, error) {
				var errs []error
				for _, p := range []string{"python3", "/usr/bin/python3", "python"} {
					out, err := exec.Command(p, "-c", "import "+modules).CombinedOutput()
					if err == nil {
						return p, nil
					}
					errs = append(errs, errors.New(p+": "+strings.TrimSpace(lastLine(string(out)))+" "+err.Error()))
				}
				return "", errors.Join(errs...)
			})
			found[modules] = find
		}
		mu.Unlock()
		return find()
	}
}()

// numpySkipped counts the tests skipped for want of numpy or pandas.
var numpySkipped atomic.Int32

// tellNumpySkipped says, on the terminal, where there is one, that tests
// were skipped for want of numpy: go test shows nothing of a package that
// passes, skips included, unless -v.
func tellNumpySkipped() {
	n := numpySkipped.Load()
	if n == 0 {
		return
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return // no terminal: -v shows the skips
	}
	defer tty.Close()
	fmt.Fprintf(tty, "mmap: %d tests against numpy or pandas skipped: no Python here imports them (tried python3, /usr/bin/python3, python); apt-get install python3-numpy python3-pandas python3-dask\n", n)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// python runs script with numpy, with args in sys.argv[1:], and returns its
// standard output. It skips the test where no Python has numpy (in CI, it
// fails), and fails the test if the script fails.
func python(t *testing.T, script string, args ...string) string {
	t.Helper()
	return pythonOf(t, "numpy", "python3-numpy", script, args...)
}

// pythonOf is python with a Python that imports modules, which Debian's
// packages install.
func pythonOf(t *testing.T, modules, packages, script string, args ...string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("numpy runs beside the Linux tests; this is %s", runtime.GOOS)
	}
	py, err := pythonWith(modules)
	if err != nil {
		numpySkipped.Add(1)
		cannotRun(t, "no Python here can import %s (apt-get install %s): %v", modules, packages, err)
	}
	cmd := exec.Command(py, append([]string{"-c", "import numpy as np, sys\n" + script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// numpyCheck defines check(a): numpy checks records of rec with the
// formula mkrec uses.
const numpyCheck = `
def check(a, gen=0):
    i = np.arange(len(a), dtype=np.uint64)
    with np.errstate(over='ignore'):
        s = (i * np.uint64(0x9e3779b97f4a7c15) ^ a['Gen'].astype(np.uint64)) + np.uint64(0x632be59bd9b4e019)
    bad = np.nonzero((a['I'] != i) | (a['Sum'] != s))[0]
    if len(bad):
        sys.exit('record %d of %d is %r' % (bad[0], len(a), a[bad[0]]))
`

func TestNumpyLoadsWhatGoWrites(t *testing.T) {
	path := arrayPath(t)
	a := syncedArray(t, path, 1000)
	appendN(t, a, 1000, 1500) // not synced: numpy must not see these
	script := numpyCheck + `
for mode in (None, 'r'):
    a = np.load(sys.argv[1], mmap_mode=mode)
    check(a)
    print(len(a), a.dtype.descr)
`
	want := "1000 " + strings.ReplaceAll(recDescr, "<", string(npy.HostOrder))
	if got := python(t, script, path); got != want+"\n"+want {
		t.Errorf("numpy, while the writer has the file: %q; want %q twice", got, want)
	}
	mustClose(t, a)
	if got := python(t, script, path); !strings.HasPrefix(got, "1500 ") {
		t.Errorf("numpy, after Close: %q; want 1500 records", got)
	}
}

func TestNumpyLoadsEveryKindGoWrites(t *testing.T) {
	type inner struct {
		A int32
		B [2]int16
	}
	type all struct {
		I1  int8
		U1  uint8
		I2  int16
		U2  uint16
		_   [2]byte
		I4  int32
		U4  uint32
		I8  int64
		U8  uint64
		F4  float32
		_   [4]byte
		F8  float64
		C8  complex64
		C16 complex128
		In  [2]inner
		M   [2][3]float32 `npy:"matrix"`
		_   [8]byte
	}
	dir := tempDir(t)
	v := all{I1: -1, U1: 2, I2: -3, U2: 4, I4: -5, U4: 6, I8: -7, U8: 8, F4: 9.5, F8: 10.5, C8: 11 + 12i, C16: 13 + 14i,
		In: [2]inner{{A: 15, B: [2]int16{16, 17}}, {A: 18}}, M: [2][3]float32{{19, 20, 21}, {22, 23, 24}}}
	structs := writeOne(t, filepath.Join(dir, "all.npy"), v)
	rows := writeOne(t, filepath.Join(dir, "rows.npy"), [4][3]float32{{1}, {}, {}, {0, 0, 2}})
	scalars := writeOne(t, filepath.Join(dir, "f8.npy"), 2.5)
	got := python(t, `
a = np.load(sys.argv[1])[0]
print(a['I1'], a['U1'], a['I2'], a['U2'], a['I4'], a['U4'], a['I8'], a['U8'], a['F4'], a['F8'], a['C8'], a['C16'],
      a['In']['A'].tolist(), a['In']['B'].tolist(), a['matrix'].tolist(), a.dtype.itemsize)
r = np.load(sys.argv[2])
print(r.shape, r.dtype.name, r[0, 3, 2], r[0, 0, 0])
s = np.load(sys.argv[3])
print(s.shape, s.dtype.name, s[0])
`, structs, rows, scalars)
	want := "-1 2 -3 4 -5 6 -7 8 9.5 10.5 (11+12j) (13+14j) [15, 18] [[16, 17], [0, 0]] [[19.0, 20.0, 21.0], [22.0, 23.0, 24.0]] 120\n" +
		"(1, 4, 3) float32 2.0 1.0\n(1,) float64 2.5"
	if got != want {
		t.Errorf("numpy read:\n%s\nwant:\n%s", got, want)
	}
}

// writeOne writes an array of one record v to path and returns path.
func writeOne[T any](t *testing.T, path string, v T) string {
	t.Helper()
	a := mustCreate[T](t, path)
	if err := a.Append(v); err != nil {
		t.Fatal(err)
	}
	mustClose(t, a)
	return path
}

func TestGoWritesTheHeaderNumpyWrites(t *testing.T) {
	path := arrayPath(t)
	writeArray(t, path, 12345)
	python(t, "np.save(sys.argv[2], np.load(sys.argv[1]))", path, path+".numpy.npy")
	mine, numpys := fileBytes(t, path), fileBytes(t, path+".numpy.npy")
	if !bytes.Equal(mine, numpys) {
		t.Errorf("the file differs from the one numpy saves of the same array:\n mine %q\nnumpy %q", mine[:200], numpys[:200])
	}
}

func TestGoOpensWhatNumpyWrites(t *testing.T) {
	dir := tempDir(t)
	// numpy writes in this host's byte order, whatever numpy's own.
	python(t, `
d, o = sys.argv[1], sys.argv[2]
other = {'<': '>', '>': '<'}[o]
for name in ('i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f4', 'f8', 'c8', 'c16'):
    np.save(d + '/' + name + '.npy', np.arange(5).astype(o + name))
rec = np.dtype({'names': ['I', 'Gen', 'Sum'], 'formats': [o + 'u8', o + 'u4', o + 'u8'], 'offsets': [0, 8, 16], 'itemsize': 24})
r = np.zeros(3, rec)
r['I'] = [0, 1, 2]
np.save(d + '/padded.npy', r)
nested = np.dtype([('P', [('X', o + 'f4'), ('Y', o + 'f4')], (2,)), ('N', o + 'i2', (2, 2)), ('V', '|V4')])
n = np.zeros(2, nested)
n['P']['Y'][1, 1] = 7
n['N'][1, 1, 0] = 9
np.save(d + '/nested.npy', n)
np.save(d + '/rows.npy', np.arange(12, dtype=o + 'f4').reshape(4, 3))
with open(d + '/v2.npy', 'wb') as f:
    np.lib.format.write_array(f, np.arange(5, dtype=o + 'i8'), version=(2, 0))
with open(d + '/v3.npy', 'wb') as f:
    np.lib.format.write_array(f, np.arange(5, dtype=o + 'i8'), version=(3, 0))
np.save(d + '/other-order.npy', np.arange(3, dtype=other + 'i4'))
np.save(d + '/fortran.npy', np.asfortranarray(np.arange(6, dtype=o + 'f8').reshape(2, 3)))
np.save(d + '/objects.npy', np.array([1, 'x'], dtype=object), allow_pickle=True)
np.save(d + '/bool.npy', np.zeros(3, dtype='?'))
np.save(d + '/unicode.npy', np.array(['ab'], dtype=o + 'U2'))
`, dir, string(npy.HostOrder))
	p := func(name string) string { return filepath.Join(dir, name+".npy") }
	checkNumbers(t, p("i1"), []int8{0, 1, 2, 3, 4})
	checkNumbers(t, p("i2"), []int16{0, 1, 2, 3, 4})
	checkNumbers(t, p("i4"), []int32{0, 1, 2, 3, 4})
	checkNumbers(t, p("i8"), []int64{0, 1, 2, 3, 4})
	checkNumbers(t, p("u1"), []uint8{0, 1, 2, 3, 4})
	checkNumbers(t, p("u2"), []uint16{0, 1, 2, 3, 4})
	checkNumbers(t, p("u4"), []uint32{0, 1, 2, 3, 4})
	checkNumbers(t, p("u8"), []uint64{0, 1, 2, 3, 4})
	checkNumbers(t, p("f4"), []float32{0, 1, 2, 3, 4})
	checkNumbers(t, p("f8"), []float64{0, 1, 2, 3, 4})
	checkNumbers(t, p("c8"), []complex64{0, 1, 2, 3, 4})
	checkNumbers(t, p("c16"), []complex128{0, 1, 2, 3, 4})
	checkNumbers(t, p("rows"), [][3]float32{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11}})
	checkNumbers(t, p("v2"), []int64{0, 1, 2, 3, 4})
	checkNumbers(t, p("v3"), []int64{0, 1, 2, 3, 4})
	if a := mustOpen[rec](t, p("padded"), RDONLY); a.Len() != 3 || a.Items()[2].I != 2 {
		t.Errorf("padded: Len %d, %+v", a.Len(), a.Items())
	}
	type point struct{ X, Y float32 }
	type nested struct {
		P [2]point
		N [2][2]int16
		_ [4]byte
	}
	type nestedNamed struct {
		P [2]point
		N [2][2]int16
		V uint32
	}
	python(t, `
o = sys.argv[2]
n = np.zeros(2, [('P', [('X', o + 'f4'), ('Y', o + 'f4')], (2,)), ('N', o + 'i2', (2, 2)), ('V', o + 'u4')])
n['P']['Y'][1, 1] = 7
n['N'][1, 1, 0] = 9
np.save(sys.argv[1], n)
`, p("nested-u4"), string(npy.HostOrder))
	if a := mustOpen[nestedNamed](t, p("nested-u4"), RDONLY); a.Len() != 2 || a.Items()[1].P[1].Y != 7 || a.Items()[1].N[1][0] != 9 {
		t.Errorf("nested structs and subarrays: %+v", a.Items())
	}
	for _, c := range []struct {
		name string
		err  error
		kind error
		want string
	}{
		// numpy's field V is a named void, not padding: no Go type maps it.
		{"nested, with a named void field", errOf(Open[nested](p("nested"), RDONLY)), ErrType, "field V: '|V4' is raw bytes (numpy's void), which a Go type holds only as unnamed padding, a `_ [4]byte` field, named '' in numpy"},
		{"nested, V as a number", errOf(Open[nestedNamed](p("nested"), RDONLY)), ErrType, "which no flat Go type holds: field V: '|V4' is raw bytes"},
		{"the other byte order", errOf(Open[int32](p("other-order"), RDONLY)), ErrByteOrder, "the file has '>i4', the Go type '<i4'"},
		{"Fortran order", errOf(Open[[3]float64](p("fortran"), RDONLY)), ErrType, "Fortran (column-major) order"},
		{"objects", errOf(Open[int64](p("objects"), RDONLY)), ErrType, "Python objects"},
		{"bool", errOf(Open[uint8](p("bool"), RDONLY)), ErrType, "numpy's bool"},
		{"unicode", errOf(Open[[2]uint32](p("unicode"), RDONLY)), ErrType, "a unicode string"},
		{"rows as records", errOf(Open[float32](p("rows"), RDONLY)), ErrType, "records of shape [3]"},
	} {
		if npy.HostOrder == '>' {
			c.want = strings.NewReplacer("'>", "'<", "'<", "'>").Replace(c.want)
		}
		if !errSays(c.err, c.kind, c.want) {
			t.Errorf("%s: got %v; want %v saying %q", c.name, c.err, c.kind, c.want)
		}
	}
}

// checkNumbers opens the file at path as an array of T, read-only and then
// as the writer, and checks its records and that one can be appended.
func checkNumbers[T comparable](t *testing.T, path string, want []T) {
	t.Helper()
	a, err := Open[T](path, RDONLY)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !slices.Equal(a.Items(), want) {
		t.Errorf("%s: got %v; want %v", path, a.Items(), want)
	}
	mustClose(t, a)
	w := mustOpen[T](t, path, RDWR)
	if err := w.Append(want[0]); err != nil {
		t.Fatalf("%s: Append to numpy's file: %v", path, err)
	}
	mustClose(t, w)
	checkClosedLen(t, path, len(want)+1)
}

// checkClosedLen checks that numpy reads n records from the file at path.
func checkClosedLen(t *testing.T, path string, n int) {
	t.Helper()
	if got := python(t, "print(len(np.load(sys.argv[1])))", path); got != strconv.Itoa(n) {
		t.Errorf("%s: numpy reads %s records; want %d", path, got, n)
	}
}
