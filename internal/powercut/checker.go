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
	"github.com/typedmmap/mmap/internal/powercut/model"
)

// check checks the array at path after a cut against what the host
// expects, then that the array goes on: that it opens for writing, takes
// appends, syncs and reopens with all of its records.
func check(path string, x model.Expect, seed, epoch uint64) model.Verdict {
	v := model.Verdict{Found: "none", Bound: x.Bound()}
	afterCut := filepath.Join(filepath.Dir(path), model.AfterCut)
	if err := snapshot(path); err != nil {
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
		v.Reason = err.Error()
		return v
	}
	v.Count, v.Lost, v.Extra = r.Count, r.Lost, r.Extra
	v.Torn, v.FirstTorn, v.Stale, v.FirstStale = r.Torn, r.FirstTorn, r.Stale, r.FirstStale
	if !r.OK() {
		v.Reason = r.Explain()
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

// inspect opens the array at path read-only and checks its records against
// x. It returns the epochs the records have. It is the one place that
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
	recs := a.Items()
	return x.Check(recs), model.RunsOf(recs), nil
}

// snapshot copies the array file at path, as the cut left it, to
// AfterCut next to it, so that the host can check it with numpy once the
// disk is out of the VM: numpy reads the .npy file alone, without the
// sidecar that Open consults.
func snapshot(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// The checker unmounts the disk before it powers off, which makes the
	// copy durable.
	return os.WriteFile(filepath.Join(filepath.Dir(path), model.AfterCut), b, 0o644)
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
