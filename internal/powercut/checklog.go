//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/npy"
	"github.com/typedmmap/mmap/internal/powercut/model"
)

// checkLog checks the log in dir after a cut against what the host
// expects: first as a reader that opens it before any writer, then that
// it goes on: that it opens for writing, takes appends, and closes into
// exact .npy segments that a reader reads whole.
func checkLog(dir string, x model.LogExpect, seed, epoch uint64) model.LogVerdict {
	v := model.LogVerdict{Found: "none", FirstFound: "none", Bound: x.Promise.End}
	d, err := survey(dir)
	if err != nil {
		v.Reason = err.Error()
		return v
	}
	var first, end uint64
	r, err := mmap.OpenLog[model.Record](dir, mmap.RDONLY)
	switch {
	case x.Fresh && errors.Is(err, fs.ErrNotExist):
		// No OpenLog had returned, and its directory did not reach the
		// disk: nothing was promised. The checker's writer makes the log.
		v.Found, v.FirstFound = "nolog", "nolog"
	case err != nil:
		v.Reason = "open read-only: " + err.Error()
		return v
	default:
		err = inspectLog(r, dir, d, x, &v)
		if cerr := r.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close: %v", cerr)
		}
		if err != nil {
			v.Reason = "a reader opened before any writer: " + err.Error()
			return v
		}
		first, end = v.First, v.End
	}
	rng := rand.New(rand.NewPCG(seed, epoch))
	n := 1 + uint64(rng.IntN(1000))
	if err := goOnLog(dir, first, end, n, epoch, rng); err != nil {
		v.Reason = "after the cut: " + err.Error()
		return v
	}
	// The epochs the next writer session starts from: the ones found, up
	// to end, then the checker's.
	want := x.Promise.Epochs.Cut(end, epoch).From(first)
	final := model.LogState{First: first, End: end + n, Epochs: want}
	if err := rereadLog(dir, final, &v); err != nil {
		v.Reason = "after the checker's appends: " + err.Error()
		return v
	}
	v.Pass, v.Final, v.Runs = true, end+n, want
	return v
}

// logDir is what a log's directory holds, by the files' names.
type logDir struct {
	segments []uint64 // the segments' first indexes, in order
	sidecars []uint64 // the segments with a sidecar
	temp     int      // the segments a roll was making, under a temporary name
	other    []string // every other name but log.meta
}

// survey lists the log's directory; a missing one holds nothing.
func survey(dir string) (logDir, error) {
	var d logDir
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	for _, e := range entries {
		name := e.Name()
		if first, ok := segmentFirst(name); ok {
			d.segments = append(d.segments, uint64(first))
		} else if first, ok := segmentFirst(strings.TrimSuffix(name, ".meta")); ok {
			d.sidecars = append(d.sidecars, uint64(first))
		} else if _, ok := segmentFirst(strings.TrimSuffix(name, ".tmp")); ok {
			d.temp++
		} else if name != "log.meta" {
			d.other = append(d.other, name)
		}
	}
	slices.Sort(d.segments)
	return d, nil
}

// from returns the segments from first on.
func (d logDir) from(first uint64) []uint64 {
	i, _ := slices.BinarySearch(d.segments, first)
	return d.segments[i:]
}

// inspectLog checks, on a reader r that opened the log in dir before any
// writer, First and End against x, each segment's count against the next
// one's name, and every record; d is the directory as the cut left it. It
// fills v's counts.
func inspectLog(r *mmap.Log[model.Record], dir string, d logDir, x model.LogExpect, v *model.LogVerdict) error {
	first, end := uint64(r.First()), uint64(r.End())
	if err := r.Refresh(); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	if uint64(r.First()) != first || uint64(r.End()) != end {
		return fmt.Errorf("it found [%d, %d), and [%d, %d) after a Refresh with no writer running", first, end, r.First(), r.End())
	}
	v.First, v.End = first, end
	segs := d.from(first)
	v.Segments, v.Below, v.Temp = len(segs), len(d.segments)-len(segs), d.temp
	for _, s := range d.sidecars {
		if len(segs) == 0 || s != segs[len(segs)-1] {
			v.Sidecars++
		}
	}
	if first > end {
		return fmt.Errorf("its First %d is past its End %d", first, end)
	}
	if v.FirstFound = x.FirstState(first); v.FirstFound == "" {
		return fmt.Errorf("its First is %d, want %s", first, x.Firsts())
	}
	if v.Found = x.EndState(end); v.Found == "" {
		return fmt.Errorf("its End is %d (First %d), want %s", end, first, x.Ends())
	}
	if err := contiguous(dir, segs, first, end); err != nil {
		return err
	}
	var c model.RecordCheck
	err := readAll(r, first, end, x.Promise.Epochs, &c)
	v.Checked, v.Torn, v.Stale = c.Checked, c.Torn, c.Stale
	return err
}

// contiguous checks that segs, the segments from First on, hold the
// records [first, end) with no gap and no overlap: the first starts at
// first, each but the newest holds as many records as the next one's name
// says, and the newest ends at end. It opens each segment in dir as an
// array reader.
func contiguous(dir string, segs []uint64, first, end uint64) error {
	if len(segs) == 0 {
		if first != end {
			return fmt.Errorf("no segments, but [%d, %d)", first, end)
		}
		return nil
	}
	if segs[0] != first {
		return fmt.Errorf("its First is %d, but the oldest segment from it on starts at %d", first, segs[0])
	}
	for j, s := range segs {
		a, err := mmap.Open[model.Record](filepath.Join(dir, segmentName(s)), mmap.RDONLY)
		if err != nil {
			return fmt.Errorf("segment %s: %w", segmentName(s), err)
		}
		n := uint64(a.Len())
		if err := a.Close(); err != nil {
			return fmt.Errorf("segment %s: close: %v", segmentName(s), err)
		}
		next := end
		if j+1 < len(segs) {
			next = segs[j+1]
		}
		if s+n != next {
			return fmt.Errorf("segment %s holds %d records, [%d, %d), and the next starts at %d (End %d)", segmentName(s), n, s, s+n, next, end)
		}
	}
	return nil
}

// readAll reads the records [first, end) with r and checks each against
// the epochs e.
func readAll(r *mmap.Log[model.Record], first, end uint64, e model.Epochs, c *model.RecordCheck) error {
	i := first
	for recs, err := range r.Chunks(int64(first), int64(end)) {
		if err != nil {
			return fmt.Errorf("read from %d: %w", i, err)
		}
		for j := range recs {
			c.Add(i, &recs[j], e)
			i++
		}
	}
	if i != end {
		return fmt.Errorf("read [%d, %d) of [%d, %d)", first, i, first, end)
	}
	if why := c.Explain(); why != "" {
		return errors.New(why)
	}
	return nil
}

// goOnLog opens the log in dir, which holds [first, end), as its writer,
// with 200 to 500 records per segment, appends n records in epoch, in
// calls of random sizes, syncs and closes it.
func goOnLog(dir string, first, end, n, epoch uint64, rng *rand.Rand) error {
	w, err := mmap.OpenLog[model.Record](dir, mmap.RDWR, mmap.WithSegmentRecords(200+rng.IntN(301)))
	if err != nil {
		return fmt.Errorf("open read-write: %v", err)
	}
	if uint64(w.First()) != first || uint64(w.End()) != end {
		w.Close()
		return fmt.Errorf("opened read-write it holds [%d, %d), read-only [%d, %d)", w.First(), w.End(), first, end)
	}
	recs := make([]model.Record, 0, n)
	for i := end; i < end+n; i++ {
		recs = append(recs, model.NewRecord(i, epoch))
	}
	for k := 0; len(recs) > 0; recs = recs[k:] {
		k = 1 + rng.IntN(len(recs))
		if err := w.Append(recs[:k]...); err != nil {
			w.Close()
			return fmt.Errorf("append: %v", err)
		}
	}
	if err := w.Sync(); err != nil {
		w.Close()
		return fmt.Errorf("sync: %v", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close: %v", err)
	}
	return nil
}

// rereadLog checks the log in dir after the checker's writer closed it: a
// reader finds want, and reads every record; then, with no reader, the
// directory holds log.meta, marked closed at First, and the segments from
// First on, each an exact .npy file (no sidecar, its size the header's and
// its records'), and nothing else.
func rereadLog(dir string, want model.LogState, v *model.LogVerdict) error {
	r, err := mmap.OpenLog[model.Record](dir, mmap.RDONLY)
	if err != nil {
		return fmt.Errorf("open read-only: %v", err)
	}
	first, end := uint64(r.First()), uint64(r.End())
	c := model.RecordCheck{Checked: v.Checked}
	if first != want.First || end != want.End {
		err = fmt.Errorf("a reader finds [%d, %d), want [%d, %d)", first, end, want.First, want.End)
	} else {
		err = readAll(r, first, end, want.Epochs, &c)
	}
	v.Checked = c.Checked
	if cerr := r.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %v", cerr)
	}
	if err != nil {
		return err
	}
	d, err := survey(dir)
	switch {
	case err != nil:
		return err
	case len(d.from(first)) != len(d.segments):
		return fmt.Errorf("dropped segments left: %v below First %d", d.segments[:len(d.segments)-len(d.from(first))], first)
	case len(d.sidecars) > 0:
		return fmt.Errorf("segments with a sidecar left: %v", d.sidecars)
	case d.temp > 0:
		return fmt.Errorf("%d temporary segments left", d.temp)
	case len(d.other) > 0:
		return fmt.Errorf("other files: %v", d.other)
	}
	if err := contiguous(dir, d.segments, first, end); err != nil {
		return err
	}
	for j, s := range d.segments {
		next := end
		if j+1 < len(d.segments) {
			next = d.segments[j+1]
		}
		if err := exactNpy(filepath.Join(dir, segmentName(s)), next-s); err != nil {
			return err
		}
	}
	return closedAt(filepath.Join(dir, "log.meta"), first)
}

// exactNpy checks that the file at path is a .npy file of exactly n
// records: its header counts n, and the file ends after the nth.
func exactNpy(path string, n uint64) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	h, err := npy.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	size := uint64(h.Len) + n*uint64(binary.Size(model.Record{}))
	if len(h.Shape) != 1 || uint64(h.Shape[0]) != n || uint64(len(b)) != size {
		return fmt.Errorf("%s: its header has shape %v and the file %d bytes; want %d records, %d bytes", filepath.Base(path), h.Shape, len(b), n, size)
	}
	return nil
}

// closedAt checks that log.meta at path says that the log's writer closed
// it, with the segments below first dropped: its magic, then the state
// word first<<1 | 1, then the word's complement.
func closedAt(path string, first uint64) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	w := first<<1 | 1
	if len(b) != 24 || string(b[:8]) != "MMAPLOG1" || binary.LittleEndian.Uint64(b[8:]) != w || binary.LittleEndian.Uint64(b[16:]) != ^w {
		return fmt.Errorf("log.meta is %x, want the state of a log closed at First %d", b, first)
	}
	return nil
}

// segmentName is the name of the segment whose first index is first.
func segmentName(first uint64) string { return fmt.Sprintf("%020d.npy", first) }
