// Package bench compares reading a file of records through this package
// with what a user would pick instead, side by side in one run, on real files
// in the page cache. It is a module of its own, so that the alternatives it
// needs (golang.org/x/exp/mmap) never become requirements of the library.
// Sub-benchmarks are named impl=..., so that
//
//	go test -run='^$' -bench=. -count=10 ./bench | tee bench.txt
//	benchstat -col /impl bench.txt
//
// prints the variants as columns with their ratios.
package bench

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/typedmmap/mmap"
	expmmap "golang.org/x/exp/mmap"
)

// benchRec is a 32-byte record: three float64 and a uint64.
type benchRec struct {
	A, B, C float64
	ID      uint64
}

const (
	benchBytes   = 128 << 20
	benchRecs    = benchBytes / 32
	randomProbes = 1 << 20
)

// benchFile writes benchRecs records to a new file and returns its path and
// the sum of field A over all records.
func benchFile(b *testing.B) (string, float64) {
	b.Helper()
	recs := make([]benchRec, benchRecs)
	var sum float64
	for i := range recs {
		recs[i] = benchRec{A: float64(i % 1000), B: 1, C: 2, ID: uint64(i)}
		sum += recs[i].A
	}
	path := filepath.Join(b.TempDir(), "recs")
	if err := os.WriteFile(path, mmap.Slice[benchRec](recs).Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, sum
}

func mapBench(b *testing.B, path string) mmap.Slice[benchRec] {
	b.Helper()
	f := openFile(b, path)
	s, err := mmap.MapSlice[benchRec](f, mmap.RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Unmap() })
	return s
}

// heapBench reads the file into the heap and views it as records: the speed
// of memory, the limit a mapping can reach.
func heapBench(b *testing.B, path string) []benchRec {
	b.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s, err := mmap.View[benchRec](raw)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func sumA(recs []benchRec) float64 {
	var sum float64
	for i := range recs {
		sum += recs[i].A
	}
	return sum
}

func checkSum(b *testing.B, got, want float64) {
	if got != want {
		b.Fatalf("sum: got %v; want %v", got, want)
	}
}

// decodeA decodes field A of each record in buf and adds it up.
func decodeA(buf []byte) float64 {
	var sum float64
	for off := 0; off+32 <= len(buf); off += 32 {
		sum += math.Float64frombits(binary.NativeEndian.Uint64(buf[off:]))
	}
	return sum
}

// BenchmarkScan sums one field over all records.
func BenchmarkScan(b *testing.B) {
	path, want := benchFile(b)
	b.Run("impl=Slice", func(b *testing.B) {
		s := mapBench(b, path)
		b.SetBytes(benchBytes)
		for b.Loop() {
			checkSum(b, sumA(s), want)
		}
	})
	b.Run("impl=heap", func(b *testing.B) {
		s := heapBench(b, path)
		b.SetBytes(benchBytes)
		for b.Loop() {
			checkSum(b, sumA(s), want)
		}
	})
	b.Run("impl=x-exp-mmap-per-record", func(b *testing.B) {
		r, err := expmmap.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		var rec [32]byte
		b.SetBytes(benchBytes)
		for b.Loop() {
			var sum float64
			for off := int64(0); off < int64(r.Len()); off += 32 {
				if _, err := r.ReadAt(rec[:], off); err != nil {
					b.Fatal(err)
				}
				sum += decodeA(rec[:])
			}
			checkSum(b, sum, want)
		}
	})
	b.Run("impl=x-exp-mmap-64KiB", func(b *testing.B) {
		r, err := expmmap.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		buf := make([]byte, 64<<10)
		b.SetBytes(benchBytes)
		for b.Loop() {
			var sum float64
			for off := int64(0); off < int64(r.Len()); off += int64(len(buf)) {
				n, err := r.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					b.Fatal(err)
				}
				sum += decodeA(buf[:n])
			}
			checkSum(b, sum, want)
		}
	})
	b.Run("impl=binary.Read", func(b *testing.B) {
		benchBinaryRead(b, path, want, func(f *os.File) io.Reader { return f })
	})
	b.Run("impl=bufio+binary.Read", func(b *testing.B) {
		benchBinaryRead(b, path, want, func(f *os.File) io.Reader { return bufio.NewReaderSize(f, 64<<10) })
	})
	b.Run("impl=ReadFile+View", func(b *testing.B) {
		b.SetBytes(benchBytes)
		for b.Loop() {
			checkSum(b, sumA(heapBench(b, path)), want)
		}
	})
}

// BenchmarkScanMemoryBound sums uint64 values: one field (ID), or all four
// fields of every record (the float fields as their bits). Integer sums do
// not wait on each other as float additions do, so these loops run at the
// speed of memory, where a difference between a mapping and the heap shows.
func BenchmarkScanMemoryBound(b *testing.B) {
	path, _ := benchFile(b)
	heap := heapBench(b, path)
	for _, c := range []struct {
		name string
		sum  func([]benchRec) uint64
	}{
		{"ID", sumID},
		{"four", sumFour},
	} {
		want := c.sum(heap)
		b.Run("fields="+c.name+"/impl=Slice", func(b *testing.B) {
			s := mapBench(b, path)
			b.SetBytes(benchBytes)
			for b.Loop() {
				if got := c.sum(s); got != want {
					b.Fatalf("sum: got %d; want %d", got, want)
				}
			}
		})
		b.Run("fields="+c.name+"/impl=heap", func(b *testing.B) {
			b.SetBytes(benchBytes)
			for b.Loop() {
				if got := c.sum(heap); got != want {
					b.Fatalf("sum: got %d; want %d", got, want)
				}
			}
		})
	}
}

func sumID(recs []benchRec) uint64 {
	var sum uint64
	for i := range recs {
		sum += recs[i].ID
	}
	return sum
}

func sumFour(recs []benchRec) uint64 {
	var sum uint64
	for i := range recs {
		r := &recs[i]
		sum += math.Float64bits(r.A) + math.Float64bits(r.B) + math.Float64bits(r.C) + r.ID
	}
	return sum
}

// benchBinaryRead decodes the records one at a time with encoding/binary.
func benchBinaryRead(b *testing.B, path string, want float64, wrap func(*os.File) io.Reader) {
	f := openFile(b, path)
	b.SetBytes(benchBytes)
	for b.Loop() {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		r := wrap(f)
		var sum float64
		var rec benchRec
		for range benchRecs {
			if err := binary.Read(r, binary.NativeEndian, &rec); err != nil {
				b.Fatal(err)
			}
			sum += rec.A
		}
		checkSum(b, sum, want)
	}
}

// BenchmarkRandomAccess reads field A of the same pseudo-random records.
func BenchmarkRandomAccess(b *testing.B) {
	path, _ := benchFile(b)
	r := rand.New(rand.NewPCG(3, 4))
	idx := make([]int32, randomProbes)
	for i := range idx {
		idx[i] = int32(r.IntN(benchRecs))
	}
	probe := func(b *testing.B, recs []benchRec) {
		var want float64
		for _, i := range idx {
			want += float64(i % 1000)
		}
		for b.Loop() {
			var sum float64
			for _, i := range idx {
				sum += recs[i].A
			}
			checkSum(b, sum, want)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/randomProbes, "ns/probe")
	}
	b.Run("impl=Slice", func(b *testing.B) { probe(b, mapBench(b, path)) })
	b.Run("impl=heap", func(b *testing.B) { probe(b, heapBench(b, path)) })
}

// BenchmarkColdScan maps the file and scans it once: the first touch of each
// page faults it into the mapping (the file itself is in the page cache).
func BenchmarkColdScan(b *testing.B) {
	path, want := benchFile(b)
	f := openFile(b, path)
	for _, c := range []struct {
		name  string
		flags int
		a     mmap.Advice
	}{
		{"impl=plain", 0, mmap.Normal},
		{"impl=POPULATE", mmap.POPULATE, mmap.Normal},
		{"impl=WillNeed", 0, mmap.WillNeed},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(benchBytes)
			for b.Loop() {
				s, err := mmap.MapSlice[benchRec](f, mmap.RDONLY, c.flags)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Bytes().Advise(c.a); err != nil {
					b.Fatal(err)
				}
				checkSum(b, sumA(s), want)
				if err := s.Unmap(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openFile opens path read-only and closes it when the benchmark ends.
func openFile(b *testing.B, path string) *os.File {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}
