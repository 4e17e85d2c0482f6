package mmap

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var liveKills = flag.Int("livekills", 200, "how many times TestKillWriterWithReaders kills its writer")

// liveWriter opens the array at path as its writer and appends batches of
// records, each followed by Sync, printing the count each Sync published,
// until it is killed. It tries Truncate now and then: readers have the
// file, so it must fail with ErrLocked and change nothing.
func liveWriter(path string) error {
	a, err := Open[rec](path, RDWR)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	gen := r.Uint32()
	for {
		if r.IntN(50) == 0 && a.Len() > 0 {
			if err := a.Truncate(a.Len() - 1); !errors.Is(err, ErrLocked) {
				return fmt.Errorf("Truncate with readers present: got %v; want ErrLocked", err)
			}
		}
		for range 1 + r.IntN(2000) {
			if err := a.Append(mkrec(uint64(a.Len()), gen)); err != nil {
				return err
			}
		}
		if err := a.Sync(); err != nil {
			return err
		}
		fmt.Println(a.Len())
	}
}

// follower opens the array at path as a reader and checks every record as
// it arrives, until its stdin closes; then it catches up with what was
// published last, checks that too, and prints how many records it saw.
func follower(path string) error {
	a, ctx, err := openUntilStdinCloses(path)
	if err != nil {
		return err
	}
	defer a.Close()
	seen := 0
	check := func(r rec) error {
		if r.I != uint64(seen) || !r.valid() {
			return fmt.Errorf("record %d is %+v: torn or wrong", seen, r)
		}
		seen++
		return nil
	}
	for r, err := range a.Follow(ctx, 0) {
		if err != nil {
			break
		}
		if err := check(r); err != nil {
			return err
		}
	}
	if err := a.Refresh(); err != nil {
		return err
	}
	for _, r := range a.Items()[seen:] {
		if err := check(r); err != nil {
			return err
		}
	}
	fmt.Println(seen)
	return nil
}

// openUntilStdinCloses opens the array at path as a reader for a child
// process, says "open", and returns a context that ends when the child's
// stdin closes.
func openUntilStdinCloses(path string) (*Array[rec], context.Context, error) {
	a, err := Open[rec](path, RDONLY)
	if err != nil {
		return nil, nil, err
	}
	fmt.Println("open")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return a, ctx, nil
}

// TestKillWriterWithReaders kills a writer at random moments while two
// reader processes follow it and check every record, and starts a new
// writer after each kill: no reader may crash or see a torn or wrong record,
// and in the end both must have seen every record.
func TestKillWriterWithReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the test runs a writer process many times")
	}
	path := arrayPath(t)
	mustClose(t, mustCreate[rec](t, path))
	type reader struct {
		stdin  io.WriteCloser
		stdout *bufio.Reader
		wait   func() error
	}
	var readers []reader
	for range 2 {
		cmd, stdin, stdout := startOpen(t, "follower", path)
		readers = append(readers, reader{stdin, stdout, cmd.Wait})
	}
	r := rand.New(rand.NewPCG(3, 4))
	for kill := range *liveKills {
		cmd, stdin, stdout := startChild(t, "live-writer", path)
		time.Sleep(time.Duration(r.IntN(40_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(stdout)
		cmd.Wait()
		stdin.Close()
		if i := strings.Index(string(out), childFailed); i >= 0 {
			t.Fatalf("kill %d: the writer failed before it was killed: %s", kill, out[i:])
		}
	}
	// A writer that closes cleanly publishes the last count.
	w := mustOpen[rec](t, path, RDWR)
	final := w.Len()
	mustClose(t, w)
	for i, rd := range readers {
		rd.stdin.Close()
		line, _ := rd.stdout.ReadString('\n')
		if err := rd.wait(); err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		if seen, err := strconv.Atoi(strings.TrimSpace(line)); err != nil || seen != final {
			t.Errorf("reader %d saw %q records; want %d", i, line, final)
		}
	}
	t.Logf("%d kills; %d records in the end", *liveKills, final)
	mustClose(t, mustOpen[rec](t, path, RDWR)) // no reader left: this Close trims
	checkClosedFile(t, path, final)
}
