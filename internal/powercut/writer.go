//go:build linux

package main

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/powercut/model"
)

// maxRecords is where the writer truncates the array to a small fraction:
// about 46 MB of records.
const maxRecords = 1 << 19

// writer appends, syncs, truncates and grows an array at random until the
// power is cut, and prints the console lines of [model.Tracker].
type writer struct {
	a     *mmap.Array[model.Record]
	path  string
	size  int64 // the file's size, as last seen
	epoch uint64
	rng   *rand.Rand
	batch []model.Record
}

// write opens the array at path, or creates it if it does not exist,
// and runs the writer on it in the given epoch. It returns only on an error.
func write(path string, seed, epoch uint64) error {
	if err := makeDir(filepath.Dir(path)); err != nil {
		return err
	}
	var a *mmap.Array[model.Record]
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a, err = mmap.Create[model.Record](path)
	case err == nil:
		a, err = mmap.Open[model.Record](path, mmap.RDWR)
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	w := &writer{a: a, path: path, size: st.Size(), epoch: epoch, rng: rand.New(rand.NewPCG(seed, epoch))}
	say("%s %d %d", model.Open, a.Len(), epoch)
	for {
		if err := w.step(); err != nil {
			return err
		}
	}
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
	case r < 70 || n == 0:
		return w.appendBurst()
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
	a, err := mmap.Open[model.Record](w.path, mmap.RDWR)
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

// appendBurst appends up to a few thousand records, in calls of random
// sizes.
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
