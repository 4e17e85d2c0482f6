// Points shows what github.com/typedmmap/mmap is for: a file of fixed-size
// records, mapped and used as a plain Go slice with no parsing and no copy.
//
// It appends n points to a new mmap.Array[Point] file, closes it, opens it
// again (the file records what type it holds, and Open checks it), computes
// statistics of one column, sorts the records in place in the mapped file,
// binary-searches them, and times a scan of the mapping against reading the
// same file with encoding/binary. The file is a numpy .npy file: with -keep,
// numpy.load reads it as it is.
//
//	go run ./examples/points            # 4,000,000 points (122 MiB)
//	go run ./examples/points -n 100000  # a quick run
//	go run ./examples/points -keep      # keep the file afterwards
package main

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"

	"github.com/typedmmap/mmap"
	"golang.org/x/exp/stats"
)

// Point is one record: 32 bytes, no implicit padding, the same layout on
// every platform.
type Point struct {
	Time   int64   // nanoseconds; unique per point
	X, Y   float64 // position
	Value  float32 // the reading
	Sensor uint16  // which sensor took it
	_      [2]byte // explicit padding, so that the size is a multiple of 8
}

func main() {
	n := flag.Int("n", 4_000_000, "number of points to write")
	dir := flag.String("dir", os.TempDir(), "directory for the data file")
	keep := flag.Bool("keep", false, "keep the data file instead of removing it")
	flag.Parse()
	log.SetFlags(0)
	if *n <= 0 {
		log.Fatalf("points: -n must be positive, got %d", *n)
	}
	if err := run(*n, *dir, *keep); err != nil {
		log.Fatalf("points: %v", err)
	}
}

func run(n int, dir string, keep bool) error {
	path := filepath.Join(dir, fmt.Sprintf("points-%d.npy", os.Getpid()))
	if keep {
		defer fmt.Printf("kept %s; in Python: numpy.load(%q)\n", path, path)
	} else {
		defer os.Remove(path)
	}
	size := int64(n) * int64(unsafe.Sizeof(Point{}))
	fmt.Printf("writing %d points (%.0f MiB) to %s\n", n, float64(size)/(1<<20), path)
	start := time.Now()
	if err := write(path, n); err != nil {
		return err
	}
	fmt.Printf("appended and synced in %v\n", time.Since(start).Round(time.Millisecond))

	// Opening it as another type fails instead of handing out garbage.
	if _, err := mmap.Open[[4]float64](path, mmap.RDONLY); err != nil {
		fmt.Printf("opening it as [4]float64 instead: %v\n", err)
	}

	start = time.Now()
	arr, err := mmap.Open[Point](path, mmap.RDWR)
	if err != nil {
		return err
	}
	defer arr.Close()
	pts := arr.Items()
	fmt.Printf("opened %d points as mmap.Array[Point] in %v (header, type and byte order checked)\n", arr.Len(), time.Since(start))

	// Statistics of one column: the Value field is gathered into a []float64
	// (x/exp/stats takes a slice of floats), straight from the mapped records.
	values := make([]float64, len(pts))
	for i := range pts {
		values[i] = float64(pts[i].Value)
	}
	mean, sd := stats.MeanAndStdDev(values)
	q := stats.Quantiles(values, 0, 0.5, 0.99, 1)
	fmt.Printf("Value: mean %.3f, std dev %.3f, min %.3f, median %.3f, p99 %.3f, max %.3f\n", mean, sd, q[0], q[1], q[2], q[3])

	// The records were written in random time order; sort them in place.
	start = time.Now()
	slices.SortFunc(pts, func(a, b Point) int { return cmp.Compare(a.Time, b.Time) })
	if err := arr.Sync(); err != nil {
		return err
	}
	fmt.Printf("sorted by Time in place and flushed in %v\n", time.Since(start).Round(time.Millisecond))

	want := pts[len(pts)/3].Time
	i, found := slices.BinarySearchFunc(pts, want, func(p Point, t int64) int { return cmp.Compare(p.Time, t) })
	fmt.Printf("binary search for Time %d: found %t at index %d (sensor %d)\n", want, found, i, pts[i].Sensor)

	return compareScans(path, arr.Offset(), pts)
}

// write creates an array file of n points in random time order, appended
// one at a time.
func write(path string, n int) error {
	arr, err := mmap.Create[Point](path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	perm := r.Perm(n)
	progress := newProgress(n)
	for i := range n {
		err := arr.Append(Point{
			Time:   int64(perm[i]) * 1000,
			X:      r.NormFloat64(),
			Y:      r.NormFloat64(),
			Value:  float32(20 + 5*r.NormFloat64()),
			Sensor: uint16(r.IntN(64)),
		})
		if err != nil {
			arr.Close()
			return err
		}
		progress.update(i + 1)
	}
	return arr.Close() // syncs
}

// progress prints "25% 50% 75% 100%" on one line as work advances.
type progress struct {
	total, next int
}

func newProgress(total int) *progress { return &progress{total: total, next: 1} }

func (p *progress) update(done int) {
	for p.next <= 4 && done*4 >= p.total*p.next {
		fmt.Printf("  %d%%", 25*p.next)
		if p.next == 4 {
			fmt.Println()
		}
		p.next++
	}
}

// compareScans sums the Value column over the mapping and over the records
// of the file (from offset on) read with encoding/binary, checks that both
// agree, and prints the times.
func compareScans(path string, offset int64, pts mmap.Slice[Point]) error {
	start := time.Now()
	var mapped float64
	for i := range pts {
		mapped += float64(pts[i].Value)
	}
	tMapped := time.Since(start)

	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start = time.Now()
	var decoded float64
	br := bufio.NewReaderSize(io.NewSectionReader(f, offset, int64(len(pts))*int64(unsafe.Sizeof(Point{}))), 1<<20)
	var p Point
	for {
		err := binary.Read(br, binary.NativeEndian, &p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		decoded += float64(p.Value)
	}
	tDecoded := time.Since(start)
	if mapped != decoded {
		return fmt.Errorf("sums differ: mapped %v, encoding/binary %v", mapped, decoded)
	}
	fmt.Printf("sum of Value: %v\n", mapped)
	fmt.Printf("  mapped scan (arr.Items()):       %12v\n", tMapped)
	fmt.Printf("  bufio + encoding/binary.Read:    %12v  (%.0fx slower)\n", tDecoded, float64(tDecoded)/float64(max(tMapped, 1)))
	return nil
}
