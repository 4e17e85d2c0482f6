package mmap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The benchmarks of writing compare the package with what a user would pick
// instead, side by side in one run, on real files in the page cache; those
// of reading are in bench/. Sub-benchmarks are named impl=..., so that
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
	benchBytes = 128 << 20
	benchRecs  = benchBytes / 32
)

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
		path := filepath.Join(tempDir(b), "append.npy")
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
			a := mustCreate[benchRec](b, filepath.Join(tempDir(b), "sync.npy"), WithCapacity(c.records))
			for i := range c.records {
				if err := a.Append(benchRec{ID: uint64(i)}); err != nil {
					b.Fatal(err)
				}
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

// BenchmarkOpenArray opens an Array file of 1M records as a reader and as
// the writer, and closes it: the checks of the file (its type, its header,
// its sidecar) against mapping the same file as bytes.
func BenchmarkOpenArray(b *testing.B) {
	path := filepath.Join(tempDir(b), "open.npy")
	a, err := Create[benchRec](path, WithCapacity(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Append(make([]benchRec, 1<<20)...); err != nil {
		b.Fatal(err)
	}
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
	for _, prot := range []struct {
		name string
		prot int
	}{{"RDONLY", RDONLY}, {"RDWR", RDWR}} {
		b.Run("impl=Open/prot="+prot.name, func(b *testing.B) {
			for b.Loop() {
				a, err := Open[benchRec](path, prot.prot)
				if err != nil {
					b.Fatal(err)
				}
				if a.Len() != 1<<20 {
					b.Fatalf("Len %d", a.Len())
				}
				if err := a.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("impl=os.Open+Map", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			m, err := Map(f, RDONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			if err := errors.Join(m.Unmap(), f.Close()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
