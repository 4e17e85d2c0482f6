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

	"github.com/typedmmap/mmap"
	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
	"github.com/typedmmap/mmap/internal/powercut/model"
	"golang.org/x/sys/unix"
)

// check checks the array at path after a cut against what the host
// expects, first as a reader that opens before any writer, then that the
// array goes on: that it opens for writing, takes appends, syncs and
// reopens with all of its records.
func check(path string, x model.Expect, seed, epoch uint64) model.Verdict {
	v := model.Verdict{Found: "none", Bound: x.Bound()}
	afterCut := filepath.Join(filepath.Dir(path), model.AfterCut)
	file, err := snapshot(path)
	if err == nil {
		v.Live, err = liveOnDisk(path)
	}
	if err != nil {
		v.Reason = err.Error()
		return v
	}
	r, runs, err := inspect(path, x)
	switch {
	case x.Fresh && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, mmap.ErrFormat)):
		// No Create had returned: nothing was promised. The file goes, so
		// that the next writer creates it anew, and so does its copy, which
		// numpy need not read.
		for _, p := range []string{path, afterCut} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				v.Reason = err.Error()
				return v
			}
		}
		return model.Verdict{Pass: true, Found: "nofile"}
	case err != nil:
		v.Reason = err.Error() + liveNote(v.Live)
		return v
	}
	v.Count, v.Lost, v.Extra = r.Count, r.Lost, r.Extra
	v.Torn, v.FirstTorn, v.Stale, v.FirstStale = r.Torn, r.FirstTorn, r.Stale, r.FirstStale
	last := x.Promise.Epochs[len(x.Promise.Epochs)-1].Epoch
	v.LiveWhole = wholeOnDisk(file, r.Count, v.Live, last)
	if !r.OK() {
		v.Reason = "a reader opened before any writer: " + r.Explain() + liveNote(v.Live)
		return v
	}
	v.Found = r.Found
	n := 1 + rand.New(rand.NewPCG(seed, epoch)).IntN(1000)
	if v.Runs, err = goOn(path, r.Count, runs, n, epoch); err != nil {
		v.Reason = "after the cut: " + err.Error()
		return v
	}
	v.Pass, v.Final = true, r.Count+uint64(n)
	return v
}

// liveNote says, for a failure's reason, what the live area on the disk
// held, if it held a count: one published in the boot before the cut,
// which no reader may take.
func liveNote(live uint64) string {
	if live == 0 {
		return ""
	}
	return fmt.Sprintf("; the sidecar's live area on the disk holds %d, published in the boot before the cut", live)
}

// inspect opens the array at path read-only and checks its records against
// x, as Open finds them and again after a Refresh, which must find no
// more: no writer runs, and a count published in an earlier boot does not
// hold. It returns the epochs the records have. It is the one place that
// reads the array after a cut: a check of the file beyond what Open does
// goes here.
func inspect(path string, x model.Expect) (_ model.Result, _ model.Epochs, err error) {
	a, err := mmap.Open[model.Record](path, mmap.RDONLY)
	if err != nil {
		return model.Result{}, nil, fmt.Errorf("open read-only: %w", err)
	}
	defer func() {
		if cerr := a.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %v", cerr)
		}
	}()
	opened := a.Len()
	if err := a.Refresh(); err != nil {
		return model.Result{}, nil, fmt.Errorf("refresh: %w", err)
	}
	if a.Len() != opened {
		return model.Result{}, nil, fmt.Errorf("a reader opened before any writer found %d records, and %d after a Refresh with no writer running (Open may find %s)",
			opened, a.Len(), x.Counts())
	}
	recs := a.Items()
	return x.Check(recs), model.RunsOf(recs), nil
}

// liveOnDisk returns the count in the live area of the sidecar of the
// array file at path, as the cut left it on the disk, if the sidecar
// belongs to the file, is of the version that has a live area, and a
// writer published the count in an earlier boot (none has run in this
// one); otherwise 0.
func liveOnDisk(path string) (uint64, error) {
	b, err := os.ReadFile(path + arrayfile.Suffix)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, nil
	}
	ctl, err := arrayfile.ParseControl(b)
	if err != nil || ctl.Version != arrayfile.SidecarVersion || ctl.Dev != uint64(st.Dev) || ctl.Ino != st.Ino {
		return 0, nil
	}
	l := arrayfile.ParseLive(b, binary.NativeEndian)
	if l.Boot == [2]uint64{} || l.Count < 0 {
		return 0, nil
	}
	return uint64(l.Count), nil
}

// wholeOnDisk counts the records from index from up to to that file, the
// array file's bytes as the cut left them, holds whole, in epoch.
func wholeOnDisk(file []byte, from, to, epoch uint64) uint64 {
	h, err := npy.Parse(file)
	if err != nil {
		return 0
	}
	size := uint64(binary.Size(model.Record{}))
	whole := uint64(0)
	for i := from; i < to; i++ {
		at := uint64(h.Len) + i*size
		if at+size > uint64(len(file)) {
			break
		}
		var rec model.Record
		if _, err := binary.Decode(file[at:at+size], binary.LittleEndian, &rec); err == nil && rec.Whole(i) && rec.Epoch == epoch {
			whole++
		}
	}
	return whole
}

// snapshot copies the array file at path, as the cut left it, to
// AfterCut next to it, so that the host can check it with numpy once the
// disk is out of the VM: numpy reads the .npy file alone, without the
// sidecar that Open consults. It returns the file's bytes, nil if there is
// no file.
func snapshot(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The checker unmounts the disk before it powers off, which makes the
	// copy durable.
	return b, os.WriteFile(filepath.Join(filepath.Dir(path), model.AfterCut), b, 0o644)
}

// goOn opens the array at path, which holds count records of the epochs
// runs, for writing; appends n records in epoch, syncs, closes, and checks
// the array again. It returns the epochs of its records.
func goOn(path string, count uint64, runs model.Epochs, n int, epoch uint64) (model.Epochs, error) {
	a, err := mmap.Open[model.Record](path, mmap.RDWR)
	if err != nil {
		return nil, fmt.Errorf("open read-write: %v", err)
	}
	if uint64(a.Len()) != count {
		a.Close()
		return nil, fmt.Errorf("opened read-write it has %d records, read-only %d", a.Len(), count)
	}
	recs := make([]model.Record, n)
	for i := range recs {
		recs[i] = model.NewRecord(count+uint64(i), epoch)
	}
	if err := a.Append(recs...); err != nil {
		a.Close()
		return nil, fmt.Errorf("append: %v", err)
	}
	if err := a.Sync(); err != nil {
		a.Close()
		return nil, fmt.Errorf("sync: %v", err)
	}
	if err := a.Close(); err != nil {
		return nil, fmt.Errorf("close: %v", err)
	}
	want := model.Expect{Promise: model.State{Count: count + uint64(n), Epochs: runs.Cut(count, epoch)}}
	r, got, err := inspect(path, want)
	switch {
	case err != nil:
		return nil, err
	case !r.OK():
		return nil, fmt.Errorf("reopened with %d records, want %d: %s", r.Count, want.Promise.Count, r.Explain())
	}
	return got, nil
}
