package mmap

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

func TestArrayLockMatrix(t *testing.T) {
	path := arrayPath(t)
	w := syncedArray(t, path, 3)
	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, 3)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a second writer", errOf(Open[rec](path, RDWR)), "another writer"},
		{"Create over a writer", errOf(Create[rec](path)), "another writer"},
		{"Truncate with a reader", w.Truncate(1), "readers have it open; records they may be reading would change"},
	} {
		if !errSays(c.err, ErrLocked, c.want) {
			t.Errorf("%s: got %v; want ErrLocked saying %q", c.name, c.err, c.want)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A reader is left: the file keeps its spare room, and its sidecar.
	fi, err := os.Stat(path)
	if err != nil || fi.Size() <= r.Offset()+3*24 {
		t.Errorf("closed with a reader left: %v bytes (%v); want the spare room kept", fi.Size(), err)
	}
	if _, err := os.Stat(path + arrayfile.Suffix); err != nil {
		t.Errorf("closed with a reader left: the sidecar is gone: %v", err)
	}
	checkStrictHeader(t, fileBytes(t, path))
	if err := errOf(Create[rec](path)); !errSays(err, ErrLocked, "readers have it open; Create would truncate it under them") {
		t.Errorf("Create over a reader: got %v; want ErrLocked", err)
	}
	checkRecs(t, r, 3)
	r2 := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r2, 3)
	mustClose(t, r)
	mustClose(t, r2)
	// The next writer's Close trims.
	w2 := mustOpen[rec](t, path, RDWR)
	checkRecs(t, w2, 3)
	mustClose(t, w2)
	checkClosedFile(t, path, 3)
}

func TestArrayReaderFollowsWriter(t *testing.T) {
	defer func(old int64) { minReserve = old }(minReserve)
	minReserve = 0 // so that the reader's mapping runs out and it maps again
	path := arrayPath(t)
	w := syncedArray(t, path, 10)
	r := mustOpen[rec](t, path, RDONLY)
	checkRecs(t, r, 10)
	early := r.Items()
	appendN(t, w, 10, 20)
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkRecs(t, r, 10) // not synced yet
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkRecs(t, r, 20)
	views := len(r.views)
	appendN(t, w, 20, 200_000)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkRecs(t, r, 200_000)
	if len(r.views) == views {
		t.Error("the reader did not map the grown file again; the test wants it to")
	}
	if early[9] != mkrec(9, 0) {
		t.Errorf("a slice from before the reader mapped again reads %+v", early[9])
	}
}

func TestArrayWait(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	r := mustOpen[rec](t, path, RDONLY)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := r.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with nothing coming: got %v; want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Wait returned %v after its deadline", d)
	}
	done := make(chan error, 2)
	go func() { done <- r.Wait(context.Background(), 1000) }()
	go func() { done <- w.Wait(context.Background(), 1000) }() // another goroutine of the writer's process
	appendN(t, w, 0, 1000)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not return after the writer synced")
		}
	}
	checkRecs(t, r, 1000)
	cctx, ccancel := context.WithCancel(context.Background())
	go func() { time.Sleep(5 * time.Millisecond); ccancel() }()
	if err := r.Wait(cctx, 2000); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait cancelled: got %v; want context.Canceled", err)
	}
	mustClose(t, r)
	if err := r.Wait(context.Background(), 1); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Wait on a closed reader: got %v; want fs.ErrClosed", err)
	}
}

// TestArrayWaitSpinning waits with a reader that spins (WithSpin): it sees
// each record as the writer publishes it, and stops when its context ends.
func TestArrayWaitSpinning(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	r, err := Open[rec](path, RDONLY, WithSpin(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 1000
	wrote := make(chan error, 1)
	go func() {
		for i := range n {
			if err := w.Append(mkrec(uint64(i), 0)); err != nil {
				wrote <- err
				return
			}
			if err := w.Publish(); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 1; i <= n; i++ {
		if err := r.Wait(ctx, i); err != nil {
			t.Fatalf("Wait(%d): %v", i, err)
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	checkRecs(t, r, n)
	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	if err := r.Wait(short, n+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with nothing coming: got %v; want context.DeadlineExceeded", err)
	}
}

func TestArrayFollow(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	r := mustOpen[rec](t, path, RDONLY)
	const n = 5000
	wrote := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if err := w.Append(mkrec(uint64(i), 0)); err != nil {
				wrote <- err
				return
			}
			if i%500 == 499 {
				if err := w.Sync(); err != nil {
					wrote <- err
					return
				}
			}
		}
		wrote <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	i := 0
	for got, err := range r.Follow(ctx, 0) {
		if err != nil {
			t.Fatalf("Follow after %d records: %v", i, err)
		}
		if got != mkrec(uint64(i), 0) {
			t.Fatalf("record %d: %+v", i, got)
		}
		if i++; i == n {
			break
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel2()
	var last error
	for _, err := range r.Follow(ctx2, n) {
		last = err
	}
	if !errors.Is(last, context.DeadlineExceeded) {
		t.Errorf("Follow past the end: ended with %v; want context.DeadlineExceeded", last)
	}
}

// TestArrayGoroutineReaders reads Len and Items from other goroutines while
// one appends, and checks every record they see: the race detector does
// not see into mapped memory, so the contents are the test.
func TestArrayGoroutineReaders(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	const n = 1_000_000
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 2 {
		wg.Go(func() {
			seen := 0
			for seen < n {
				items := w.Items()
				if len(items) < seen {
					errs <- errorf(ErrInvalid, "Len went back from %d to %d", seen, len(items))
					return
				}
				for i := seen; i < len(items); i++ {
					if items[i] != mkrec(uint64(i), 0) {
						errs <- errorf(ErrInvalid, "record %d of %d is %+v", i, len(items), items[i])
						return
					}
				}
				seen = len(items)
			}
		})
	}
	wg.Go(func() {
		errs <- w.Wait(context.Background(), n)
	})
	appendN(t, w, 0, n)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestArrayReaderWaitsOutAWriter holds readers out as Create, Truncate and
// Close do for a moment: a reader's Open waits lockWait for the writer, then
// fails with ErrLocked; a reader the writer lets in meanwhile opens.
func TestArrayReaderWaitsOutAWriter(t *testing.T) {
	if runtime.GOOS == "aix" {
		t.Skip("AIX locks belong to the process: the writer's own process is not held out")
	}
	path := arrayPath(t)
	w := syncedArray(t, path, 3)
	unlock, err := w.lockOutReaders("")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Open[rec](path, RDONLY)
	if !errSays(err, ErrLocked, "a writer has held every reader out") {
		t.Errorf("Open while the writer holds readers out: got %v; want ErrLocked", err)
	}
	checkFileError(t, err, path)
	if d := time.Since(start); d < lockWait {
		t.Errorf("Open gave up after %v; want it to wait %v", d, lockWait)
	}
	unlocked := make(chan struct{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		unlock()
		close(unlocked)
	}()
	r := mustOpen[rec](t, path, RDONLY)
	<-unlocked
	checkRecs(t, r, 3)
}

// TestArrayRefreshOfARewrittenFile rewrites the header of a file with no
// writer under its reader, as another program might: Refresh and Wait must
// refuse what no longer fits, and the reader keep the records it had.
func TestArrayRefreshOfARewrittenFile(t *testing.T) {
	o := string(npy.HostOrder)
	for _, c := range []struct {
		name, old, new string
		kind           error
		want           string
	}{
		{"a count past the end", "(2,)", "(9,)", ErrFormat, "the header counts 9 records of 24 bytes"},
		{"another type", "('Gen', '" + o + "u4')", "('Gen', '" + o + "i4')", ErrType, "Gen: the file has '" + o + "i4', the Go type '" + o + "u4'"},
		{"not a .npy file", "NUMPY", "NUMPZ", ErrFormat, "not a .npy file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := arrayPath(t)
			writeArray(t, path, 2)
			r := mustOpen[rec](t, path, RDONLY)
			rewriteHeaderText(t, path, c.old, c.new)
			err := r.Refresh()
			if !errSays(err, c.kind, c.want) {
				t.Errorf("Refresh: got %v; want %v saying %q", err, c.kind, c.want)
			}
			checkFileError(t, err, path)
			if err := r.Wait(context.Background(), 3); !errors.Is(err, c.kind) {
				t.Errorf("Wait: got %v; want %v", err, c.kind)
			}
			checkRecs(t, r, 2)
		})
	}
}
