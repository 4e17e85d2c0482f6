package mmap

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/npy"
)

// The tests in this file run pandas (Debian's python3-pandas) and numpy on
// the types analysts save: datetime64, bool, strings, and packed records.

// frameRow is a record of the DataFrame the tests save: numpy's aligned
// layout of its columns (np.dtype(..., align=True)).
type frameRow struct {
	Time int64 `npy:"time,M8[ns]"`
	OK   uint8 `npy:"ok,?"`
	_    [7]byte
	N    int64   `npy:"n"`
	X    float64 `npy:"x"`
	Name [4]rune `npy:"name,U"`
	Code [3]byte `npy:"code,S"`
	_    [5]byte
	Took int64 `npy:"took,m8[us]"`
}

// frameStart is the time of the DataFrame's first row; row i is i hours
// and i microseconds later.
var frameStart = time.Date(2026, time.December, 3, 12, 0, 0, 0, time.UTC)

// wantRow is row i of the DataFrame.
func wantRow(i int) frameRow {
	r := frameRow{
		Time: frameStart.Add(time.Duration(i)*time.Hour + time.Duration(i)*time.Microsecond).UnixNano(),
		OK:   uint8(1 - i%2),
		N:    int64(i * 3),
		X:    float64(i) / 2,
		Took: int64(i) * 1500,
	}
	copy(r.Name[:], []rune(fmt.Sprintf("r%dé", i)))
	copy(r.Code[:], fmt.Sprintf("c%d", i))
	return r
}

// pandasFrame is Python that builds the DataFrame of rows, frame(n), and
// its records.
const pandasFrame = `
import pandas as pd
def frame(n):
    i = np.arange(n)
    return pd.DataFrame({
        'time': pd.Timestamp('2026-12-03T12:00:00') + pd.to_timedelta(i, unit='h') + pd.to_timedelta(i, unit='us'),
        'ok': i % 2 == 0,
        'n': i * 3,
        'x': i / 2,
        'name': [('r%d\u00e9' % k)[:4] for k in i],
        'code': [('c%d' % k)[:3].encode() for k in i],
        'took': pd.to_timedelta(i * 1500, unit='us'),
    })
def records(df):
    return df.to_records(index=False, column_dtypes={'name': 'U4', 'code': 'S3', 'took': 'm8[us]'})
`

// pandas runs script with pandas, as python runs it with numpy, skipping
// the test (failing it in CI) where pandas is missing.
func pandas(t *testing.T, script string, args ...string) string {
	t.Helper()
	return pythonOf(t, "numpy, pandas", "python3-pandas", pandasFrame+script, args...)
}

func TestPandasRecords(t *testing.T) {
	dir := tempDir(t)
	const n = 300
	// numpy writes in this host's byte order, whatever numpy's own.
	pandas(t, `
d, n, o = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = records(frame(n))
assert not r.dtype.isalignedstruct
packed = np.dtype(r.dtype.descr).newbyteorder(o)
np.save(d + '/packed.npy', r.astype(packed))
np.save(d + '/aligned.npy', np.array(r, dtype=np.dtype(packed.descr, align=True)))
`, dir, fmt.Sprint(n), string(npy.HostOrder))

	// The aligned file maps as it is.
	a := mustOpen[frameRow](t, filepath.Join(dir, "aligned.npy"), RDONLY)
	if a.Len() != n {
		t.Fatalf("the aligned file has %d records; want %d", a.Len(), n)
	}
	for i, r := range a.Items() {
		if r != wantRow(i) {
			t.Fatalf("aligned record %d is %+v; want %+v", i, r, wantRow(i))
		}
	}
	if got, ok := TimeOf(a.Items()[1].Time, "ns"); !ok || !got.Equal(frameStart.Add(time.Hour+time.Microsecond)) {
		t.Errorf("TimeOf record 1: %v, %v", got, ok)
	}

	// The packed one cannot be mapped, and Open says why and what to do.
	packed := filepath.Join(dir, "packed.npy")
	_, err := Open[frameRow](packed, RDONLY)
	for _, says := range []string{"holds packed records", "field n ('<i8') is at offset 9", "align=True", "or read this file as it is with ReadRecords"} {
		if says = strings.ReplaceAll(says, "<", string(npy.HostOrder)); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), says) {
			t.Errorf("Open of packed records: %v; want ErrType saying %q", err, says)
		}
	}
	// ReadRecords copies them, all or a range.
	for _, span := range [][2]int{{0, n}, {7, 140}, {n, n}} {
		got, err := ReadRecords[frameRow](packed, span[0], span[1])
		if err != nil || len(got) != span[1]-span[0] {
			t.Fatalf("ReadRecords %v: %d records, %v", span, len(got), err)
		}
		for i, r := range got {
			if r != wantRow(span[0]+i) {
				t.Fatalf("ReadRecords %v: record %d is %+v; want %+v", span, span[0]+i, r, wantRow(span[0]+i))
			}
		}
	}
	if got, err := ReadRecords[frameRow](filepath.Join(dir, "aligned.npy"), 0, n); err != nil || got[n-1] != wantRow(n-1) {
		t.Errorf("ReadRecords of the aligned file: %v", err)
	}
	if _, err := ReadRecords[frameRow](packed, 5, n+1); !errors.Is(err, ErrRange) {
		t.Errorf("ReadRecords past the end: %v; want ErrRange", err)
	}
	type renamed struct {
		Time int64 `npy:"when,M8[ns]"`
	}
	if _, err := ReadRecords[renamed](packed, 0, 1); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "when: the file has field time in its place") {
		t.Errorf("ReadRecords into another type: %v; want ErrType naming the field", err)
	}
}

// TestPandasReadsWhatGoWrites writes records with a time, a bool, strings
// and a duration from Go; pandas must read them as those types, with no
// conversion.
func TestPandasReadsWhatGoWrites(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[frameRow](t, path)
	for i := range 50 {
		if err := w.Append(wantRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	checkStrictHeader(t, fileBytes(t, path))
	out := pandas(t, `
a = np.load(sys.argv[1])
if sys.argv[2] != sys.byteorder[0]:  # an emulated host of the other order
    a = a.astype(a.dtype.newbyteorder('='))
got = pd.DataFrame(a)
want = frame(50)
assert str(got['time'].dtype) == 'datetime64[ns]', got.dtypes
assert str(got['ok'].dtype) == 'bool', got.dtypes
assert str(got['took'].dtype).startswith('timedelta64'), got.dtypes
for c in ('time', 'ok', 'n', 'x', 'took'):
    assert (got[c] == want[c]).all(), (c, got[c], want[c])
assert list(got['name']) == list(want['name']), got['name']
assert list(got['code']) == list(want['code']), got['code']
print(got['time'][49])
`, path, map[byte]string{'<': "l", '>': "b"}[npy.HostOrder])
	if want := frameStart.Add(49*time.Hour + 49*time.Microsecond).Format("2006-01-02 15:04:05.000000"); out != want {
		t.Errorf("pandas reads the last time as %q; want %q", out, want)
	}
}

// TestDaskConcatenatesWhatGoWrites writes rows into three files from Go;
// dask must concatenate them, mapped, into the frame pandas builds.
func TestDaskConcatenatesWhatGoWrites(t *testing.T) {
	dir := tempDir(t)
	var paths []string
	for part := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("part-%d.npy", part))
		w := mustCreate[frameRow](t, path)
		for i := part * 40; i < (part+1)*40; i++ {
			if err := w.Append(wantRow(i)); err != nil {
				t.Fatal(err)
			}
		}
		mustClose(t, w)
		paths = append(paths, path)
	}
	out := pythonOf(t, "numpy, pandas, dask.array", "python3-pandas python3-dask", pandasFrame+`
import dask.array as da
parts = [da.from_array(np.load(p, mmap_mode='r'), chunks=16) for p in sys.argv[1:]]
got = pd.DataFrame(da.concatenate(parts).compute())
want = frame(120)
for c in want.columns:
    assert list(got[c]) == list(want[c]), c
print(len(got), got['time'].dtype)
`, paths...)
	if out != "120 datetime64[ns]" {
		t.Errorf("dask and pandas read %q; want 120 rows with a datetime64[ns] column", out)
	}
}

// TestNumpyStringFields opens numpy's 'U4' and 'S8' fields: a Go type that
// holds them in untagged arrays is refused, saying what tag to give each,
// and the type with those tags maps them.
func TestNumpyStringFields(t *testing.T) {
	path := filepath.Join(tempDir(t), "strings.npy")
	python(t, `
a = np.zeros(3, [('Name', sys.argv[2] + 'U4'), ('Code', 'S8')])
a['Name'] = ['ab', '\u00e9', 'wxyz']
a['Code'] = [b'x', b'12345678', b'']
np.save(sys.argv[1], a)
`, path, string(npy.HostOrder))
	type untagged struct {
		Name [4]rune
		Code [8]byte
	}
	type codeUntagged struct {
		Name [4]rune `npy:",U"`
		Code [8]byte
	}
	const (
		askU = "Name: the file has shape [], the Go type [4] (a unicode string, which a field of a Go struct holds as [4]rune tagged `npy:\",U\"`)"
		askS = "Code: the file has shape [], the Go type [8] (a byte string, which a field of a Go struct holds as [8]byte tagged `npy:\",S\"`)"
	)
	for _, c := range []struct {
		what string
		err  error
		says string
	}{
		{"Open with both untagged", errOf(Open[untagged](path, RDONLY)), askU},
		{"Open with Code untagged", errOf(Open[codeUntagged](path, RDONLY)), askS},
		{"ReadRecords with both untagged", errOf(ReadRecords[untagged](path, 0, 3)), askU},
	} {
		if !errSays(c.err, ErrType, c.says) {
			t.Errorf("%s: got %v; want ErrType saying %q", c.what, c.err, c.says)
		}
	}

	type tagged struct {
		Name [4]rune `npy:",U"`
		Code [8]byte `npy:",S"`
	}
	want := []tagged{
		{Name: [4]rune{'a', 'b'}, Code: [8]byte{'x'}},
		{Name: [4]rune{'é'}, Code: [8]byte{'1', '2', '3', '4', '5', '6', '7', '8'}},
		{Name: [4]rune{'w', 'x', 'y', 'z'}},
	}
	a := mustOpen[tagged](t, path, RDONLY)
	if got := a.Items(); !slices.Equal(got, want) {
		t.Errorf("the tagged type reads %q; want %q", got, want)
	}
}

// TestNumpyPlainColumns opens the plain arrays numpy saves of a column's
// values (np.save(f, df['time'].values)): a Go type of the bytes alone is
// refused, saying which struct of one tagged field holds them, and that
// struct maps them, reads them, and appends to them; the file keeps its
// plain descr.
func TestNumpyPlainColumns(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name+".npy") }
	python(t, `
d, o = sys.argv[1], sys.argv[2]
np.save(d + '/time.npy', np.array(['2026-12-03T12:00', 'NaT', '1970-01-01'], dtype=o + 'M8[ns]'))
np.save(d + '/ok.npy', np.array([True, False, True]))
np.save(d + '/code.npy', np.array([b'x', b'12345678', b''], dtype='S8'))
np.save(d + '/name.npy', np.array(['ab', '\u00e9', 'wxyz'], dtype=o + 'U4'))
np.save(d + '/n.npy', np.arange(3, dtype=o + 'i8'))
`, dir, string(npy.HostOrder))

	type when struct {
		T int64 `npy:"time,M8[ns]"`
	}
	type ok struct {
		OK uint8 `npy:",?"`
	}
	type code struct {
		C [8]byte `npy:",S"`
	}
	type name struct {
		N [4]rune `npy:",U"`
	}
	nat := int64(math.MinInt64)
	checkRecords(t, p("time"), []when{{frameStart.UnixNano()}, {nat}, {0}}, when{42})
	checkRecords(t, p("ok"), []ok{{1}, {0}, {1}}, ok{1})
	checkRecords(t, p("code"), []code{{[8]byte{'x'}}, {[8]byte{'1', '2', '3', '4', '5', '6', '7', '8'}}, {}}, code{[8]byte{'y'}})
	checkRecords(t, p("name"), []name{{[4]rune{'a', 'b'}}, {[4]rune{'é'}}, {[4]rune{'w', 'x', 'y', 'z'}}}, name{[4]rune{'z'}})
	want := strings.ReplaceAll("<M8[ns] 1970-01-01T00:00:00.000000042\n|b1 True\n|S8 b'y'\n<U4 z", "<", string(npy.HostOrder))
	if got := python(t, `
for n in sys.argv[2:]:
    a = np.load(sys.argv[1] + '/' + n + '.npy')
    print(a.dtype.str, a[-1])
`, dir, "time", "ok", "code", "name"); got != want {
		t.Errorf("numpy reads the plain files after the appends as\n%s\nwant\n%s", got, want)
	}

	type number struct{ N int64 }
	type micros struct {
		T int64 `npy:",M8[us]"`
	}
	for _, c := range []struct {
		what string
		err  error
		says string
	}{
		{"datetime64 as int64", errOf(Open[int64](p("time"), RDONLY)), "a datetime64, which a field of a Go struct holds as int64 tagged `npy:\",M8[ns]\"`"},
		{"bool as uint8", errOf(Open[uint8](p("ok"), RDONLY)), "numpy's bool, which a field of a Go struct holds as uint8 tagged `npy:\",?\"`"},
		{"U4 as [4]rune", errOf(Open[[4]rune](p("name"), RDONLY)), "a unicode string, which a field of a Go struct holds as [4]rune tagged `npy:\",U\"`"},
		{"datetime64[ns] as another unit", errOf(Open[micros](p("time"), RDONLY)), "the file has '<M8[ns]', the Go type '<M8[us]'"},
		{"numbers as a struct of one number", errOf(Open[number](p("n"), RDONLY)), "the file has a number, the Go type a struct"},
	} {
		c.says = strings.ReplaceAll(c.says, "'<", "'"+string(npy.HostOrder))
		if !errSays(c.err, ErrType, c.says) {
			t.Errorf("%s: got %v; want ErrType saying %q", c.what, c.err, c.says)
		}
	}
	if d, err := Descr[when](); err != nil || d != "[('time', '"+string(npy.HostOrder)+"M8[ns]')]" {
		t.Errorf("Descr of a struct of one tagged field: %s, %v; want a struct's descr", d, err)
	}
}

// checkRecords opens the file at path as records of T, checks that they
// are want, as ReadRecords reads them too, and appends one more.
func checkRecords[T comparable](t *testing.T, path string, want []T, more T) {
	t.Helper()
	if got := mustOpen[T](t, path, RDONLY).Items(); !slices.Equal(got, want) {
		t.Errorf("%s: Open reads %v; want %v", filepath.Base(path), got, want)
	}
	if got, err := ReadRecords[T](path, 0, len(want)); err != nil || !slices.Equal(got, want) {
		t.Errorf("%s: ReadRecords reads %v, %v; want %v", filepath.Base(path), got, err, want)
	}
	w := mustOpen[T](t, path, RDWR)
	if err := w.Append(more); err != nil {
		t.Fatalf("%s: Append: %v", filepath.Base(path), err)
	}
	mustClose(t, w)
}
