//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/powercut/model"
	"golang.org/x/sys/unix"
)

// maxRecords is where the writer truncates the array to a small fraction:
// about 46 MB of records.
const maxRecords = 1 << 19

// writer appends, publishes, syncs, truncates and grows an array at random
// until the power is cut, and prints the console lines of [model.Tracker].
type writer struct {
	a     *mmap.Array[model.Record]
	path  string
	size  int64 // the file's size, as last seen
	epoch uint64
	rng   *rand.Rand
	batch []model.Record
	// auto: the array publishes each Append (WithAutoPublish); otherwise
	// the writer calls Publish after an Append with the chance publish.
	auto    bool
	publish float64
}

// session is how a writer session runs, from the kernel command line.
type session struct {
	// autoPublish opens the array or the log WithAutoPublish.
	autoPublish bool
	// writeback, if not 0, is how old, in hundredths of a second, the page
	// cache lets a changed page get before it writes it back (and how often
	// it looks): the records, the header and the sidecar's live area reach
	// the disk in no order, without any msync.
	writeback int
	// follow runs a reader that follows the log's writer, in its process.
	follow bool
}

// write opens the array at path, or creates it if it does not exist,
// and runs the writer on it in the given epoch. It returns only on an error.
func write(path string, seed, epoch uint64, s session) error {
	if s.writeback > 0 {
		if err := setWriteback(s.writeback); err != nil {
			return err
		}
	}
	if err := makeDir(filepath.Dir(path)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, epoch))
	w := &writer{path: path, epoch: epoch, rng: rng, auto: s.autoPublish, publish: rng.Float64() * 0.6}
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.a, err = mmap.Create[model.Record](path, w.options()...)
	case err == nil:
		w.a, err = mmap.Open[model.Record](path, mmap.RDWR, w.options()...)
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	w.size = st.Size()
	say("%s %d %d", model.Open, w.a.Len(), epoch)
	for {
		if err := w.step(); err != nil {
			return err
		}
	}
}

// options are the options the writer opens the array with.
func (w *writer) options() []mmap.Option {
	if w.auto {
		return []mmap.Option{mmap.WithAutoPublish()}
	}
	return nil
}

// setWriteback makes the page cache write back a changed page once it is
// centisecs hundredths of a second old, looking as often.
func setWriteback(centisecs int) error {
	for _, knob := range []string{"dirty_expire_centisecs", "dirty_writeback_centisecs"} {
		if err := os.WriteFile("/proc/sys/vm/"+knob, []byte(fmt.Sprint(centisecs)), 0); err != nil {
			return err
		}
	}
	return nil
}

// makeDir makes the directory dir and makes its entry durable.
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// step does one thing at random.
func (w *writer) step() error {
	n := w.a.Len()
	if n > maxRecords {
		return w.truncate(w.rng.IntN(n/16 + 1))
	}
	switch r := w.rng.IntN(100); {
	case r < 64 || n == 0:
		return w.appendBurst()
	case r < 70:
		return w.publishAndSpill()
	case r < 88:
		return w.sync(w.a.Sync)
	case r < 91:
		switch r := w.rng.IntN(10); {
		case r < 2: // a big drop: the file shrinks at the next Close
			return w.truncate(w.rng.IntN(n/16 + 1))
		case r < 5:
			return w.truncate(w.rng.IntN(n))
		}
		// A few records, so that the array still grows over a session.
		return w.truncate(n - 1 - w.rng.IntN(min(n, 64)))
	case r < 93:
		return w.reopen()
	}
	grow := 1 + w.rng.IntN(2*n+4096)
	say("%s %d", model.Grow, grow)
	if err := w.a.Grow(grow); err != nil {
		return err
	}
	return w.checkSize()
}

// reopen closes the array, which syncs it and, with no reader, cuts the
// file to its last record and removes its sidecar, and opens it again. To
// the host, the Close is a Sync, and a Close.
func (w *writer) reopen() error {
	n := w.a.Len()
	if err := w.sync(w.a.Close); err != nil {
		return err
	}
	say("%s %d", model.Closed, n)
	if err := w.checkSize(); err != nil {
		return err
	}
	a, err := mmap.Open[model.Record](w.path, mmap.RDWR, w.options()...)
	if err != nil {
		return err
	}
	w.a = a
	return nil
}

// sync runs op, a Sync or a Close of the array, between the lines of a
// Sync of the records the array holds.
func (w *writer) sync(op func() error) error {
	n := w.a.Len()
	say("%s %d", model.Sync, n)
	if err := op(); err != nil {
		return err
	}
	say("%s %d %d", model.Synced, n, w.epoch)
	return nil
}

// publishAndSpill publishes the records appended so far and, half of the
// time, spills the live area.
func (w *writer) publishAndSpill() error {
	if err := w.published(true); err != nil {
		return err
	}
	if w.rng.IntN(2) == 0 {
		return w.spill()
	}
	return nil
}

// published reports the count that readers see after an Append of an
// array that publishes each, or after a Publish, which it calls if call is
// set or, after an Append, with the chance w.publish.
func (w *writer) published(call bool) error {
	if !w.auto {
		if !call && w.rng.Float64() >= w.publish {
			return nil
		}
		if err := w.a.Publish(); err != nil {
			return err
		}
	}
	say("%s %d", model.Published, w.a.Len())
	return nil
}

// spill writes the sidecar's first page, which holds the live area with
// the count published last, to the disk, as the page cache may at any
// moment, while the records stay in memory: with sync_file_range, which
// leaves it in the disk's cache, or with fdatasync, which flushes that
// cache too. The library has no part in it: neither waits for the records.
func (w *writer) spill() error {
	f, err := os.Open(w.path + arrayfile.Suffix)
	if err != nil {
		return err
	}
	defer f.Close()
	flushed := w.rng.IntN(2)
	if flushed == 1 {
		err = unix.Fdatasync(int(f.Fd()))
	} else {
		err = unix.SyncFileRange(int(f.Fd()), 0, arrayfile.ControlSize,
			unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	}
	if err != nil {
		return fmt.Errorf("spill the live area: %v", err)
	}
	say("%s %d %d", model.Spilled, w.a.Len(), flushed)
	return nil
}

// appendBurst appends up to a few thousand records, in calls of random
// sizes, each of which may publish.
func (w *writer) appendBurst() error {
	for left := 1 + w.rng.IntN(1<<w.rng.IntN(13)); left > 0; {
		k := 1 + w.rng.IntN(left)
		w.batch = w.batch[:0]
		for i := range k {
			w.batch = append(w.batch, model.NewRecord(uint64(w.a.Len()+i), w.epoch))
		}
		if err := w.a.Append(w.batch...); err != nil {
			return err
		}
		if err := w.published(false); err != nil {
			return err
		}
		left -= k
	}
	return w.checkSize()
}

// truncate truncates the array to n records, which starts a new epoch.
func (w *writer) truncate(n int) error {
	w.epoch++
	say("%s %d %d", model.Truncate, n, w.epoch)
	if err := w.a.Truncate(n); err != nil {
		return err
	}
	say("%s %d %d", model.Truncated, n, w.epoch)
	return w.checkSize()
}

// checkSize reports a change of the file's size.
func (w *writer) checkSize() error {
	st, err := os.Stat(w.path)
	if err != nil {
		return err
	}
	switch size := st.Size(); {
	case size > w.size:
		say("%s %d", model.Grew, size)
	case size < w.size:
		say("%s %d", model.Shrank, size)
	}
	w.size = st.Size()
	return nil
}
