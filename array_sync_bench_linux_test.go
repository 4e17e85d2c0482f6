package mmap

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkSyncWaits appends one record and syncs it, to compare the waits
// for the disk: Sync, which waits twice (the records with the header
// before, then the sidecar's slot: sync2); the Sync before it, which
// waited three times (the same, then the header: sync and flushHeader,
// sync3); and, for one flush of the same file system, fdatasync of a small
// file after a write of one record's bytes over it (fdatasync), and of two
// such files one after the other (fdatasync2). They take turns in each
// iteration, in the order reversed every other time (ABBA), so that the
// disk's moods fall on each alike. It reports p50 and p99 of each, in µs,
// the p50 of sync2 and sync3 over fdatasync's, in flushes, and sync2's
// over fdatasync2's. Linux only, for fdatasync.
func BenchmarkSyncWaits(b *testing.B) {
	dir := tempDir(b)
	two := mustCreate[rec](b, filepath.Join(dir, "two.npy"))
	three := mustCreate[rec](b, filepath.Join(dir, "three.npy"))
	var plain [3]*os.File
	for i := range plain {
		plain[i] = openFile(b, filepath.Join(dir, fmt.Sprintf("plain%d", i)), os.O_RDWR|os.O_CREATE)
		if _, err := plain[i].WriteAt(make([]byte, 4096), 0); err != nil {
			b.Fatal(err)
		}
		if err := unix.Fdatasync(int(plain[i].Fd())); err != nil {
			b.Fatal(err)
		}
	}
	// write writes a record's bytes over the files, one place further each
	// time i grows; fdatasync waits for each.
	one := Slice[rec]{mkrec(0, 0)}.Bytes()
	write := func(i int, files ...*os.File) error {
		for _, f := range files {
			if _, err := f.WriteAt(one, int64(i*len(one)%(4096-len(one)))); err != nil {
				return err
			}
		}
		return nil
	}
	fdatasync := func(files ...*os.File) error {
		for _, f := range files {
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				return err
			}
		}
		return nil
	}
	variants := []struct {
		name    string
		prepare func(i int) error
		wait    func() error
	}{
		{"sync2", func(int) error { return two.Append(mkrec(uint64(two.Len()), 0)) }, two.Sync},
		{"sync3", func(int) error { return three.Append(mkrec(uint64(three.Len()), 0)) }, func() error {
			if err := three.sync(); err != nil {
				return err
			}
			return three.flushHeader()
		}},
		{"fdatasync", func(i int) error { return write(i, plain[0]) }, func() error { return fdatasync(plain[0]) }},
		{"fdatasync2", func(i int) error { return write(i, plain[1:]...) }, func() error { return fdatasync(plain[1:]...) }},
	}
	took := make([][]time.Duration, len(variants))
	for i := 0; b.Loop(); i++ {
		for k := range variants {
			if i%2 == 1 {
				k = len(variants) - 1 - k
			}
			v := variants[k]
			if err := v.prepare(i); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := v.wait(); err != nil {
				b.Fatal(err)
			}
			took[k] = append(took[k], time.Since(start))
		}
	}
	p50 := map[string]float64{}
	for k, v := range variants {
		slices.Sort(took[k])
		at := func(q float64) float64 {
			return float64(took[k][int(q*float64(len(took[k])-1))]) / float64(time.Microsecond)
		}
		p50[v.name] = at(0.50)
		b.ReportMetric(at(0.50), v.name+"-p50-µs")
		b.ReportMetric(at(0.99), v.name+"-p99-µs")
	}
	b.ReportMetric(p50["sync2"]/p50["fdatasync"], "sync2/fdatasync-p50")
	b.ReportMetric(p50["sync3"]/p50["fdatasync"], "sync3/fdatasync-p50")
	b.ReportMetric(p50["sync2"]/p50["fdatasync2"], "sync2/fdatasync2-p50")
}
