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

// liveWriter opens the array at path as its writer, says "open", and
// appends batches of records, publishing each batch and syncing every few,
// printing the count of each Sync, until it is killed: most kills come
// between a Publish and the next Sync. It tries Truncate now and then:
// readers have the file, so it must fail with ErrLocked and change nothing.
func liveWriter(path string) error {
	a, err := Open[rec](path, RDWR)
	if err != nil {
		return err
	}
	fmt.Println("open")
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
		if err := a.Publish(); err != nil {
			return err
		}
		if r.IntN(4) == 0 {
			if err := a.Sync(); err != nil {
				return err
			}
			fmt.Println(a.Len())
		}
	}
}

// follower opens the array at path as a reader and checks every record as
// it arrives, across writers: when one dies, it waits for the next
// (WaitWriter) and follows on. When its stdin closes, it catches up with
// what was published last, checks that every record it saw is still the
// same, and prints how many records it saw.
func follower(path string) error {
	a, ctx, err := openUntilStdinCloses(path)
	if err != nil {
		return err
	}
	defer a.Close()
	var gens []uint32
	check := func(r rec) error {
		if r.I != uint64(len(gens)) || !r.valid() {
			return fmt.Errorf("record %d is %+v: torn or wrong", len(gens), r)
		}
		gens = append(gens, r.Gen)
		return nil
	}
	for ctx.Err() == nil {
		for r, err := range a.Follow(ctx, len(gens)) {
			if err != nil {
				if !errors.Is(err, ErrWriterDied) && ctx.Err() == nil {
					return err
				}
				break
			}
			if err := check(r); err != nil {
				return err
			}
		}
		if err := a.WaitWriter(ctx); err != nil && ctx.Err() == nil {
			return err
		}
	}
	if err := a.Refresh(); err != nil {
		return err
	}
	items := a.Items()
	for _, r := range items[len(gens):] {
		if err := check(r); err != nil {
			return err
		}
	}
	for i, gen := range gens {
		if items[i] != mkrec(uint64(i), gen) {
			return fmt.Errorf("record %d changed after it was seen: %+v; it was of writer %#x", i, items[i], gen)
		}
	}
	fmt.Println(len(gens))
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
	return a, untilStdinCloses(), nil
}

// untilStdinCloses returns a context that ends when the child process's
// stdin closes: its parent tells it to stop.
func untilStdinCloses() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return ctx
}

// TestKillWriterWithReaders kills a writer that publishes between its
// syncs at random moments, while two reader processes follow it and check
// every record, and starts a new writer after each kill: no reader may
// crash or see a torn or wrong record, the next writer's records must
// follow the ones readers saw, which never change, and in the end both
// readers must have seen every record.
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
		cmd, stdin, stdout := startOpen(t, "live-writer", path)
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
