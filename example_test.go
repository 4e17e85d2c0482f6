package mmap_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/typedmmap/mmap"
)

// tempPath returns the path of a file in a new directory, and a function
// that removes both. (os.Remove, not os.RemoveAll, so that it also works
// under Wine.)
func tempPath(name string) (string, func()) {
	dir, err := os.MkdirTemp("", "mmap-example-")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, name)
	return path, func() {
		os.Remove(path)
		os.Remove(dir)
	}
}

// tempFile writes data to a new file and returns its path and a function
// that removes it.
func tempFile(data []byte) (string, func()) {
	path, cleanup := tempPath("data")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
	return path, cleanup
}

func ExampleMap() {
	path, cleanup := tempFile([]byte("hello, mapped world"))
	defer cleanup()

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	f.Close() // the mapping stays valid
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unmap()

	fmt.Printf("%d bytes: %s\n", len(m), m[7:])
	// Output: 19 bytes: mapped world
}

func ExampleMapRegion() {
	path, cleanup := tempFile([]byte("0123456789abcdef"))
	defer cleanup()

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	// Any offset works; a negative length maps to the end of the file.
	m, err := mmap.MapRegion(f, -1, mmap.RDONLY, 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unmap()
	fmt.Printf("%s\n", m)

	// A region that starts past the end of the file is refused.
	_, err = mmap.MapRegion(f, 8, mmap.RDONLY, 0, 17)
	fmt.Println(err)
	// Output:
	// abcdef
	// mmap: region at offset 17, length 8 starts past the end (size 16)
}

func ExampleMMap_Flush() {
	path, cleanup := tempFile([]byte("hello, world"))
	defer cleanup()

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, err := mmap.Map(f, mmap.RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	copy(m[7:], "there")
	// Flush waits until the changed pages are written to the file.
	if err := m.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := m.Unmap(); err != nil {
		log.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", b)
	// Output: hello, there
}

// Reading is a flat record: sized numbers only, and explicit padding.
type Reading struct {
	Time   int64
	Value  float64
	Sensor uint16
	_      [6]byte
}

func ExampleMapSlice() {
	// A file of three records, in host byte order.
	var buf bytes.Buffer
	binary.Write(&buf, binary.NativeEndian, []Reading{
		{Time: 30, Value: 2.5, Sensor: 7},
		{Time: 10, Value: 1.5, Sensor: 3},
		{Time: 20, Value: 4.0, Sensor: 7},
	})
	path, cleanup := tempFile(buf.Bytes())
	defer cleanup()

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rs, err := mmap.MapSlice[Reading](f, mmap.RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer rs.Unmap()

	// rs is a []Reading over the file: no parsing, no copy.
	slices.SortFunc(rs, func(a, b Reading) int { return int(a.Time - b.Time) })
	for _, r := range rs {
		fmt.Println(r.Time, r.Value, r.Sensor)
	}
	// Output:
	// 10 1.5 3
	// 20 4 7
	// 30 2.5 7
}

func ExampleView() {
	// Bytes from anywhere: here, 8-aligned memory from a []uint64.
	words := []uint64{1, 2, 3, 4}
	raw := mmap.Slice[uint64](words).Bytes()

	pairs, err := mmap.View[[2]uint64](raw)
	fmt.Println(pairs, err)

	_, err = mmap.View[[3]uint64](raw)
	fmt.Println(err)
	_, err = mmap.View[string](raw)
	fmt.Println(errors.Is(err, mmap.ErrType))
	// Output:
	// [[1 2] [3 4]] <nil>
	// mmap: 32 bytes are not a whole number of [3]uint64 (24 bytes each): 8 bytes left over
	// true
}

func ExampleCheckType() {
	type Bad struct {
		ID   int32
		When int64
	}
	fmt.Println(mmap.CheckType[Bad]())
	// Output:
	// mmap: cannot map mmap_test.Bad: 4 bytes of implicit padding after field ID; add `_ [4]byte` after field ID
}

func ExampleCreate() {
	path, cleanup := tempPath("readings.npy")
	defer cleanup()

	arr, err := mmap.Create[Reading](path)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 1000 {
		if err := arr.Append(Reading{Time: int64(i), Value: float64(i) / 10}); err != nil {
			log.Fatal(err)
		}
	}
	// Close syncs: the records are durable, then the header that counts them.
	if err := arr.Close(); err != nil {
		log.Fatal(err)
	}

	arr, err = mmap.Open[Reading](path, mmap.RDONLY)
	if err != nil {
		log.Fatal(err)
	}
	defer arr.Close()
	rs := arr.Items() // a []Reading over the file
	fmt.Println(arr.Len(), rs[999].Value)
	// Output: 1000 99.9
}

func ExampleOpen() {
	path, cleanup := tempPath("readings.npy")
	defer cleanup()
	arr, err := mmap.Create[Reading](path)
	if err != nil {
		log.Fatal(err)
	}
	if err := arr.Append(Reading{Time: 1, Value: 2}); err != nil {
		log.Fatal(err)
	}
	if err := arr.Close(); err != nil {
		log.Fatal(err)
	}

	// The file knows what it holds: opening it as another type fails.
	type Other struct{ A, B, C float64 }
	_, err = mmap.Open[Other](path, mmap.RDONLY)
	fmt.Println(errors.Is(err, mmap.ErrType))

	arr, err = mmap.Open[Reading](path, mmap.RDWR)
	if err != nil {
		log.Fatal(err)
	}
	defer arr.Close()
	// One writer at a time, in this process or another.
	_, err = mmap.Open[Reading](path, mmap.RDWR)
	fmt.Println(errors.Is(err, mmap.ErrLocked))
	// Output:
	// true
	// true
}

func ExampleDescr() {
	type Tick struct {
		When  int64   `npy:"time,M8[ns]"` // named time in numpy, a datetime64[ns]
		Price float64 // the Go name, when there is no tag
		Size  [2]uint32
	}
	descr, err := mmap.Descr[Tick]()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.ReplaceAll(descr, ">", "<")) // as on a little-endian host
	// Output:
	// [('time', '<M8[ns]'), ('Price', '<f8'), ('Size', '<u4', (2,))]
}

func ExampleArray_Follow() {
	path, cleanup := tempPath("readings.npy")
	defer cleanup()
	w, err := mmap.Create[Reading](path)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	// A reader: in this process here, in another one as well.
	r, err := mmap.Open[Reading](path, mmap.RDONLY)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 {
			if err := w.Append(Reading{Time: int64(i), Value: float64(i) / 2}); err != nil {
				log.Fatal(err)
			}
			if err := w.Sync(); err != nil { // durable, and visible to readers
				log.Fatal(err)
			}
		}
	}()
	defer func() { <-done }() // the writer is done before it is closed
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for rd, err := range r.Follow(ctx, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rd.Time, rd.Value)
		if rd.Time == 2 {
			break
		}
	}
	// Output:
	// 0 0
	// 1 0.5
	// 2 1
}

func ExampleArray_Wait() {
	path, cleanup := tempPath("readings.npy")
	defer cleanup()
	w, err := mmap.Create[Reading](path)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	r, err := mmap.Open[Reading](path, mmap.RDONLY)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	if err := w.Append(Reading{Time: 1}, Reading{Time: 2}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Len()) // not synced yet
	if err := w.Sync(); err != nil {
		log.Fatal(err)
	}
	if err := r.Wait(context.Background(), 2); err != nil { // or r.Refresh()
		log.Fatal(err)
	}
	fmt.Println(r.Len(), r.Items()[1].Time)
	// Output:
	// 0
	// 2 2
}

func ExampleOpenLog() {
	dir, err := os.MkdirTemp("", "mmap-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { // (file by file: os.RemoveAll fails under Wine)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		os.Remove(dir)
	}()

	// The writer: a new segment every 4 readings.
	w, err := mmap.OpenLog[Reading](dir, mmap.RDWR, mmap.WithSegmentRecords(4))
	if err != nil {
		log.Fatal(err)
	}
	for i := range 10 {
		if err := w.Append(Reading{Time: int64(100 + i), Value: float64(i) / 2}); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.KeepNewest(5); err != nil { // drops the first segment, [0, 4)
		log.Fatal(err)
	}
	if err := w.Close(); err != nil { // syncs, and ends the stream
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}

	// A reader: in this process here, in another one as well.
	r, err := mmap.OpenLog[Reading](dir, mmap.RDONLY)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println("First", r.First(), "End", r.End())
	var times []int64
	for rd, err := range r.Follow(context.Background(), r.First()) {
		if err != nil {
			log.Fatal(err)
		}
		times = append(times, rd.Time)
	}
	fmt.Println(times)
	i, found, err := r.Search(func(rd Reading) int { return int(rd.Time - 107) })
	fmt.Println("Time 107 is at", i, found, err)
	var dropped *mmap.IndexError
	_, err = r.At(2)
	fmt.Println(errors.As(err, &dropped), dropped.First)
	// Output:
	// 00000000000000000004.npy
	// 00000000000000000008.npy
	// First 4 End 10
	// [104 105 106 107 108 109]
	// Time 107 is at 7 true <nil>
	// true 4
}
