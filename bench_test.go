package mmap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	expmmap "golang.org/x/exp/mmap"
)

// The benchmarks compare the package with what a user would pick instead,
// side by side in one run, on real files in the page cache. Sub-benchmarks
// are named impl=..., so that
//
//	go test -run='^$' -bench=. -count=10 . | tee bench.txt
//	benchstat -col /impl bench.txt
//
// prints the variants as columns with their ratios.

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
	path := filepath.Join(tempDir(b), "recs")
	if err := os.WriteFile(path, Slice[benchRec](recs).Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, sum
}

func mapBench(b *testing.B, path string) Slice[benchRec] {
	b.Helper()
	f := openFile(b, path, os.O_RDONLY)
	s, err := MapSlice[benchRec](f, RDONLY, 0)
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
	s, err := View[benchRec](raw)
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
	f := openFile(b, path, os.O_RDONLY)
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
	f := openFile(b, path, os.O_RDONLY)
	for _, c := range []struct {
		name  string
		flags int
		a     Advice
	}{
		{"impl=plain", 0, Normal},
		{"impl=POPULATE", POPULATE, Normal},
		{"impl=WillNeed", 0, WillNeed},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(benchBytes)
			for b.Loop() {
				s, err := MapSlice[benchRec](f, RDONLY, c.flags)
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

const appendRecs = 8 << 20

// BenchmarkAppend appends appendRecs records one at a time.
func BenchmarkAppend(b *testing.B) {
	rec := func(i int) benchRec { return benchRec{A: float64(i), ID: uint64(i)} }
	perRecord := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/appendRecs, "ns/record")
	}
	// Each variant starts from nothing: the previous run's file is removed,
	// or its slice collected, outside the timer.
	fresh := func(b *testing.B, path string) {
		b.StopTimer()
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
	}
	b.Run("impl=Array", func(b *testing.B) {
		path := filepath.Join(tempDir(b), "append.arr")
		for b.Loop() {
			fresh(b, path)
			a, err := Create[benchRec](path)
			if err != nil {
				b.Fatal(err)
			}
			for i := range appendRecs {
				if err := a.Append(rec(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer() // closing syncs 256 MiB to disk: that is Sync's cost, not Append's
			if a.Len() != appendRecs {
				b.Fatalf("Len: got %d; want %d", a.Len(), appendRecs)
			}
			if err := a.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		perRecord(b)
	})
	b.Run("impl=heap", func(b *testing.B) {
		for b.Loop() {
			fresh(b, "")
			var recs []benchRec
			for i := range appendRecs {
				recs = append(recs, rec(i))
			}
			if len(recs) != appendRecs {
				b.Fatal("short")
			}
		}
		perRecord(b)
	})
	b.Run("impl=bufio+binary.Write", func(b *testing.B) {
		path := filepath.Join(tempDir(b), "append.bin")
		for b.Loop() {
			fresh(b, path)
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriterSize(f, 64<<10)
			for i := range appendRecs {
				if err := binary.Write(w, binary.NativeEndian, rec(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		perRecord(b)
	})
}

// BenchmarkSync changes records on some pages of a large array and syncs.
// The cost must follow the pages changed, not the size of the file: 256
// pages side by side cost the same in 128 MiB as in 1 GiB. (256 pages spread
// over the file cost more in a larger file, as a bare msync does: the disk
// writes them far apart.)
func BenchmarkSync(b *testing.B) {
	const perPage = 4096 / 32
	for _, c := range []struct {
		name                 string
		records, step, pages int // change a record every step records, on so many pages
	}{
		{"size=128MiB/dirty=1%", benchRecs, 100 * perPage, benchRecs / perPage / 100},
		{"size=1GiB/dirty=1%", 8 * benchRecs, 100 * perPage, 8 * benchRecs / perPage / 100},
		{"size=128MiB/dirty=256-spread", benchRecs, benchRecs / 256, 256},
		{"size=1GiB/dirty=256-spread", 8 * benchRecs, 8 * benchRecs / 256, 256},
		{"size=128MiB/dirty=256-together", benchRecs, perPage, 256},
		{"size=1GiB/dirty=256-together", 8 * benchRecs, perPage, 256},
	} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(tempDir(b), "sync.arr")
			a, err := Create[benchRec](path, WithCapacity(c.records))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			for i := range c.records {
				a.Append(benchRec{ID: uint64(i)})
			}
			if err := a.Sync(); err != nil {
				b.Fatal(err)
			}
			items := a.Items()
			for b.Loop() {
				for p := range c.pages {
					items[p*c.step].A++
				}
				if err := a.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.pages), "pages/op")
		})
	}
}
