package mmap

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/boot"
)

// The tests in this file cover what readers see of a writer that publishes
// without syncing, and how a stream ends: the writer closed, died, or
// neither.

// streamFollower follows the array at path from its first record, checking
// each, and says "seen N" whenever it has caught up with the writer, and
// "closed N" or "died N" when the stream ends. Then it waits for a line on
// stdin: "again" makes it wait for the next writer (WaitWriter) and follow
// on; the end of stdin makes it close the array and exit.
func streamFollower(path string) error {
	a, err := Open[rec](path, RDONLY)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Println("open")
	lines := bufio.NewScanner(os.Stdin)
	seen := 0
	for {
		outcome := "closed"
		for r, err := range a.Follow(context.Background(), seen) {
			if errors.Is(err, ErrWriterDied) {
				outcome = "died"
				break
			}
			if err != nil {
				return err
			}
			if r != mkrec(uint64(seen), r.Gen) {
				return fmt.Errorf("record %d is %+v: torn or wrong", seen, r)
			}
			seen++
			if seen == a.Len() {
				fmt.Println("seen", seen)
			}
		}
		fmt.Println(outcome, seen)
		if !lines.Scan() {
			return nil
		}
		if err := a.WaitWriter(context.Background()); err != nil {
			return err
		}
	}
}

// publishAndHang opens the array at path as its writer, appends the
// number of records its stdin names, of generation 7, publishes them, says
// "published N", and waits to be killed.
func publishAndHang(path string) error {
	a, err := Open[rec](path, RDWR)
	if err != nil {
		return err
	}
	var n int
	if _, err := fmt.Fscan(os.Stdin, &n); err != nil {
		return err
	}
	for range n {
		if err := a.Append(mkrec(uint64(a.Len()), 7)); err != nil {
			return err
		}
	}
	if err := a.Publish(); err != nil {
		return err
	}
	fmt.Println("published", a.Len())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// expectLine reads lines from r until one is want, failing the test if
// another ends the stream first or none comes within timeout.
func expectLine(t *testing.T, r *bufio.Reader, want string, timeout time.Duration) {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		for {
			line, err := r.ReadString('\n')
			line = strings.TrimSpace(line)
			if line == want || err != nil || !strings.HasPrefix(line, "seen ") {
				got <- fmt.Sprintf("%s%v", line, errOr(err))
				return
			}
		}
	}()
	select {
	case line := <-got:
		if line != want {
			t.Fatalf("the follower said %q; want %q", line, want)
		}
	case <-time.After(timeout):
		t.Fatalf("the follower did not say %q within %v", want, timeout)
	}
}

func errOr(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// TestStreamAcrossProcesses follows one array from another process
// through a writer that publishes without syncing and closes, a writer
// that opens it again, and a writer that is killed after it published:
// the follower must see published records at once, learn that the first
// writer closed and that the last one died, follow the next writer when
// told to, and the records the killed writer published must stay, with the
// next writer's after them.
func TestStreamAcrossProcesses(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path)
	cmd, stdin, stdout := startOpen(t, "stream-follower", path)
	defer cmd.Wait()
	defer stdin.Close()

	appendN(t, w, 0, 100)
	if err := w.Publish(); err != nil {
		t.Fatal(err)
	}
	expectLine(t, stdout, "seen 100", 10*time.Second) // published, never synced
	mustClose(t, w)
	expectLine(t, stdout, "closed 100", 10*time.Second)

	w = mustOpen[rec](t, path, RDWR, WithAutoPublish())
	fmt.Fprintln(stdin, "again")
	appendN(t, w, 100, 150) // each published by Append
	expectLine(t, stdout, "seen 150", 10*time.Second)
	mustClose(t, w)
	expectLine(t, stdout, "closed 150", 10*time.Second)

	fmt.Fprintln(stdin, "again")
	killed, kin, kout := startChild(t, "publish-and-hang", path)
	fmt.Fprintln(kin, 50)
	if line, err := kout.ReadString('\n'); line != "published 200\n" {
		t.Fatalf("the writer said %q, %v; want \"published 200\"", line, err)
	}
	expectLine(t, stdout, "seen 200", 10*time.Second)
	if err := killed.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	kill := time.Now()
	killed.Wait()
	expectLine(t, stdout, "died 200", 10*time.Second)
	// A waiting reader asks whether the writer's lock is free every
	// maxSleep, and sleeps for at most maxSleep in between, so it learns of
	// the death within 2*maxSleep, as Wait's doc says (0.2 s). The bound is
	// ten times that, so that a loaded machine or an emulator does not fail
	// the test; a reader that learns only at the next writer, or never,
	// fails it.
	if took, bound := time.Since(kill), 10*2*maxSleep; took > bound {
		t.Errorf("the follower learnt that the writer died %v after the kill; want it within %v", took, bound)
	}

	w = mustOpen[rec](t, path, RDWR)
	if w.Len() != 200 {
		t.Fatalf("the next writer has %d records; want the 200 published", w.Len())
	}
	for i, r := range w.Items()[150:] {
		if r != mkrec(uint64(150+i), 7) {
			t.Fatalf("record %d is %+v; want the killed writer's", 150+i, r)
		}
	}
	fmt.Fprintln(stdin, "again")
	if err := w.Append(mkrec(200, 8)); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	expectLine(t, stdout, "seen 201", 10*time.Second)
	mustClose(t, w)
	expectLine(t, stdout, "closed 201", 10*time.Second)
}

// TestStreamEnds covers the outcomes of a reader's Wait in one process: a
// slow writer (the deadline), a closed one, none at all, and one that
// opens again.
func TestStreamEnds(t *testing.T) {
	path := arrayPath(t)
	w := syncedArray(t, path, 3)
	r := mustOpen[rec](t, path, RDONLY)
	ctx, cancel := context.WithTimeout(context.Background(), 3*maxSleep)
	defer cancel()
	if err := r.Wait(ctx, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a writer that is slow: %v; want the deadline", err)
	}
	appendN(t, w, 3, 5)
	if err := w.Publish(); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 3 {
		t.Fatalf("Len before a Refresh: %d; want 3", r.Len())
	}
	if err := r.Refresh(); err != nil || r.Len() != 5 {
		t.Fatalf("Refresh after Publish: %v, Len %d; want 5", err, r.Len())
	}
	mustClose(t, w)
	err := r.Wait(context.Background(), 6)
	if !errors.Is(err, ErrWriterClosed) || !strings.Contains(err.Error(), "after 5 records") {
		t.Fatalf("Wait after the writer closed: %v; want ErrWriterClosed after 5 records", err)
	}
	n := 0
	for _, err := range r.Follow(context.Background(), 0) {
		if err != nil {
			t.Fatalf("Follow of a closed stream: %v; want it to end", err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("Follow of a closed stream yielded %d records; want 5", n)
	}
	mustClose(t, r)

	// A reader that opens later learns the same from the sidecar, which
	// the writer left for the reader it had.
	r = mustOpen[rec](t, path, RDONLY)
	if err := r.Wait(context.Background(), 6); !errors.Is(err, ErrWriterClosed) || !strings.Contains(err.Error(), "after 5 records") {
		t.Fatalf("Wait after the writer closed: %v; want ErrWriterClosed after 5 records", err)
	}
	// A file that no writer has open, and no sidecar.
	other := arrayPath(t)
	writeArray(t, other, 2)
	o := mustOpen[rec](t, other, RDONLY)
	if err := o.Wait(context.Background(), 3); !errors.Is(err, ErrWriterClosed) || !strings.Contains(err.Error(), "no writer has it open") {
		t.Fatalf("Wait with no writer: %v; want ErrWriterClosed, no writer", err)
	}
	mustClose(t, o)
	done := make(chan error, 1)
	go func() { done <- r.WaitWriter(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("WaitWriter returned %v with no writer", err)
	case <-time.After(50 * time.Millisecond):
	}
	w = mustOpen[rec](t, path, RDWR)
	if err := <-done; err != nil {
		t.Fatalf("WaitWriter: %v", err)
	}
	appendN(t, w, 5, 6)
	if err := w.Publish(); err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(context.Background(), 6); err != nil {
		t.Fatalf("Wait with the next writer: %v", err)
	}
	checkRecs(t, r, 6)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.WaitWriter(ctx); err != nil {
		t.Fatalf("WaitWriter with a writer: %v", err)
	}
	if err := w.WaitWriter(ctx); err != nil {
		t.Fatalf("WaitWriter on the writer: %v", err)
	}
	mustClose(t, w)
	mustClose(t, r)
	if err := r.WaitWriter(ctx); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("WaitWriter after Close: %v; want ErrClosed", err)
	}
}

// TestPublishAfterAPowerCut makes the sidecar look as a power cut can
// leave it: a count published, and not synced, in an earlier boot, in a
// live area that reached the disk. Neither a reader that opens first nor a
// writer may take that count; in this boot, both take it (the writer was
// killed, and the records are in the page cache).
func TestPublishAfterAPowerCut(t *testing.T) {
	for _, earlier := range []bool{true, false} {
		t.Run(fmt.Sprintf("earlier boot %v", earlier), func(t *testing.T) {
			path := arrayPath(t)
			a := syncedArray(t, path, 10)
			appendN(t, a, 10, 15)
			if err := a.Publish(); err != nil {
				t.Fatal(err)
			}
			crash(t, a)
			want := 15
			if earlier {
				want = 10
				meta, err := os.ReadFile(path + arrayfile.Suffix)
				if err != nil {
					t.Fatal(err)
				}
				l := arrayfile.ParseLive(meta, binary.NativeEndian)
				if l.Count != 15 || l.Boot != boot.ID() {
					t.Fatalf("the live area holds %+v; want 15 records of this boot", l)
				}
				l.Boot[1]++
				arrayfile.PutLive(meta, l, binary.NativeEndian)
				if err := os.WriteFile(path+arrayfile.Suffix, meta, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := mustOpen[rec](t, path, RDONLY)
			if err := r.Refresh(); err != nil {
				t.Fatal(err)
			}
			checkRecs(t, r, want)
			w := mustOpen[rec](t, path, RDWR)
			checkRecs(t, w, want)
			if err := r.Refresh(); err != nil {
				t.Fatal(err)
			}
			checkRecs(t, r, want)
			mustClose(t, r)
			mustClose(t, w)
			checkClosedFile(t, path, want)
		})
	}
}

// TestArrayOptions refuses an option given to an Array that cannot take
// it, and a negative spin.
func TestArrayOptions(t *testing.T) {
	path := arrayPath(t)
	writeArray(t, path, 1)
	for _, c := range []struct {
		name string
		open func() error
		says string
	}{
		{"WithSpin for Create", func() error { _, err := Create[rec](path+"2", WithSpin(time.Millisecond)); return err }, "WithSpin is an option for a reader or a log's reader, not for Create"},
		{"WithSpin for a writer", func() error { _, err := Open[rec](path, RDWR, WithSpin(time.Millisecond)); return err }, "WithSpin is an option for a reader or a log's reader, not for a writer"},
		{"WithAutoPublish for a reader", func() error { _, err := Open[rec](path, RDONLY, WithAutoPublish()); return err }, "WithAutoPublish is an option for a writer or a log's writer, not for a reader"},
		{"WithCapacity for Open", func() error { _, err := Open[rec](path, RDWR, WithCapacity(5)); return err }, "WithCapacity is an option for Create, not for a writer"},
		{"WithPerm for a reader", func() error { _, err := Open[rec](path, RDONLY, WithPerm(0o600)); return err }, "WithPerm is an option for Create or a log's writer, not for a reader"},
		{"a negative spin", func() error { _, err := Open[rec](path, RDONLY, WithSpin(-time.Second)); return err }, "negative spin -1s"},
	} {
		err := c.open()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want ErrInvalid saying %q", c.name, err, c.says)
		}
	}
	if _, err := os.Stat(path + "2"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a Create refused for its options made the file: %v", err)
	}
}

// TestSpinningReader follows a writer with a reader that spins: it must
// see every record, and a reader that spins must still end when the
// writer closes.
func TestSpinningReader(t *testing.T) {
	path := arrayPath(t)
	w := mustCreate[rec](t, path, WithAutoPublish())
	r := mustOpen[rec](t, path, RDONLY, WithSpin(10*time.Millisecond))
	done := make(chan error, 1)
	go func() {
		n := 0
		for rec, err := range r.Follow(context.Background(), 0) {
			if err != nil {
				done <- err
				return
			}
			if rec != mkrec(uint64(n), 0) {
				done <- fmt.Errorf("record %d is %+v", n, rec)
				return
			}
			n++
		}
		if n != 20000 {
			done <- fmt.Errorf("the spinning reader saw %d records; want 20000", n)
		}
		done <- nil
	}()
	for i := range 20000 {
		if err := w.Append(mkrec(uint64(i), 0)); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			time.Sleep(time.Millisecond) // past the spin, now and then
		}
	}
	mustClose(t, w)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Errorf("Publish on a reader: %v; want nothing done", err)
	}
	mustClose(t, r)
	if err := r.Publish(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Publish after Close: %v; want ErrClosed", err)
	}
}

// TestSleepersOfKilledReaders leaves the sidecar counting readers asleep
// that are gone, as readers killed in their sleep do: the next writer
// forgets them when no reader has the file, and keeps them otherwise.
func TestSleepersOfKilledReaders(t *testing.T) {
	path := arrayPath(t)
	a := syncedArray(t, path, 3)
	atomic.AddUint32(a.side.sleepers, 3)
	crash(t, a)
	r := mustOpen[rec](t, path, RDONLY)
	w := mustOpen[rec](t, path, RDWR)
	if n := atomic.LoadUint32(w.side.sleepers); n != 3 {
		t.Errorf("a writer with a reader present counts %d sleepers; want the 3 it cannot tell from live ones", n)
	}
	crash(t, w)
	mustClose(t, r)
	w = mustOpen[rec](t, path, RDWR)
	if n := atomic.LoadUint32(w.side.sleepers); n != 0 {
		t.Errorf("a writer with no reader counts %d sleepers; want 0", n)
	}
	mustClose(t, w)
}
