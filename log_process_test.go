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
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Logs across processes: readers that follow a writer in another process
// across rolls and drops, and a writer killed at random moments.

var logKills = flag.Int("logkills", 100, "how many times TestKillLogWriterWithReaders kills its writer")

// logFollower opens the log at dir as a reader, says "open", and follows
// it from its first record, checking each: record i is whole and has
// index i, and says "at N" every 65,536 records. When a Follow ends, as
// a writer closes the log, it says "ended"; then, or when a writer dies, it waits for the next writer
// (WaitWriter) and follows on; when it falls below First, it goes on from
// First (the records between are counted as missed). When its stdin
// closes, it reads what was published last;
// then it checks that every record it saw that the log still holds is
// unchanged, and prints how many records it saw, how many it missed, and
// the log's End.
func logFollower(dir string) error {
	l, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println("open")
	ctx := untilStdinCloses()
	gens := map[int64]uint32{}
	next, missed := l.First(), int64(0)
	for ctx.Err() == nil {
		var stop error
		for r, err := range l.Follow(ctx, next) {
			if err == nil && (r.I != uint64(next) || !r.valid()) {
				return fmt.Errorf("record %d is %+v: torn or wrong", next, r)
			}
			if err != nil {
				stop = err
				break
			}
			gens[next] = r.Gen
			next++
			if next%(1<<16) == 0 {
				fmt.Println("at", next)
			}
		}
		var ie *IndexError
		switch {
		case errors.As(stop, &ie) && ie.Index < ie.First:
			missed += ie.First - next
			next = ie.First
			continue
		case stop == nil:
			fmt.Println("ended") // the writer closed the log
		case ctx.Err() != nil:
			continue
		case !errors.Is(stop, ErrWriterDied):
			return stop
		}
		if err := l.WaitWriter(ctx); err != nil && ctx.Err() == nil {
			return err
		}
	}
	// Told to stop: what was published last, too.
	if err := l.Refresh(); err != nil {
		return err
	}
	if next < l.First() {
		missed += l.First() - next
		next = l.First()
	}
	for recs, err := range l.Chunks(next, l.End()) {
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.I != uint64(next) || !r.valid() {
				return fmt.Errorf("record %d is %+v: torn or wrong", next, r)
			}
			gens[next] = r.Gen
			next++
		}
	}
	for i, gen := range gens {
		if i < l.First() {
			continue
		}
		r, err := l.At(i)
		if err != nil {
			return err
		}
		if r != mkrec(uint64(i), gen) {
			return fmt.Errorf("record %d changed after it was seen: %+v; it was of writer %#x", i, r, gen)
		}
	}
	fmt.Println(len(gens), missed, l.End())
	return nil
}

// logLagger opens the log at dir as a reader, says "open", waits for a
// line on stdin, and then follows from index 0, which the writer has
// dropped meanwhile: it prints the First that the IndexError names.
func logLagger(dir string) error {
	l, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println("open")
	bufio.NewReader(os.Stdin).ReadString('\n')
	for r, err := range l.Follow(context.Background(), 0) {
		var ie *IndexError
		if !errors.As(err, &ie) || !errors.Is(err, ErrRange) {
			return fmt.Errorf("Follow from a dropped index gave %+v, %v; want an IndexError", r, err)
		}
		fmt.Println(ie.First)
		return nil
	}
	return errors.New("Follow from a dropped index ended without an error")
}

// followerProc is a logFollower child process, whose lines a goroutine
// reads: its progress, its "ended", and its last line.
type followerProc struct {
	stdin io.WriteCloser
	wait  func() error
	at    atomic.Int64  // the index it said it reached
	ended chan struct{} // a value for each "ended"
	last  chan string   // its last line
}

// startFollower starts a logFollower on the log at dir.
func startFollower(t *testing.T, dir string) *followerProc {
	t.Helper()
	cmd, stdin, stdout := startOpen(t, "log-follower", dir)
	f := &followerProc{stdin: stdin, wait: cmd.Wait, ended: make(chan struct{}, 1000), last: make(chan string, 1)}
	go func() {
		var line string
		for {
			l, err := stdout.ReadString('\n')
			if err != nil {
				f.last <- line + l
				return
			}
			line = l
			var at int64
			if _, err := fmt.Sscanf(l, "at %d", &at); err == nil {
				f.at.Store(at)
			} else if l == "ended\n" {
				f.ended <- struct{}{}
			}
		}
	}()
	return f
}

// finish closes the follower's stdin, waits for it to end, and returns
// what it says at its end.
func (f *followerProc) finish(t *testing.T) (seen, missed, end int64) {
	t.Helper()
	f.stdin.Close()
	line := <-f.last
	if err := f.wait(); err != nil {
		t.Fatalf("follower: %v", err)
	}
	if _, err := fmt.Sscan(line, &seen, &missed, &end); err != nil {
		t.Fatalf("a follower said %q at its end", line)
	}
	return seen, missed, end
}

// TestLogTenMillion writes 10 million records in 100 segments, keeping
// the newest 5 million, while two reader processes follow from the start
// and check every record, and a third, which waits until the first
// segments are dropped, is told First when it asks for index 0. The writer
// waits for a follower that falls 2 million records behind, so that the
// retention never overtakes them however busy the machine. The segments
// rolled past are trimmed as the readers leave them.
func TestLogTenMillion(t *testing.T) {
	n, per := int64(10_000_000), 100_000
	if testing.Short() || raceEnabled {
		n, per = 1_000_000, 10_000 // 100 segments still
	}
	dir := filepath.Join(tempDir(t), "log")
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(per))
	if err != nil {
		t.Fatal(err)
	}
	followers := []*followerProc{startFollower(t, dir), startFollower(t, dir)}
	lagCmd, lagIn, lagOut := startOpen(t, "log-lagger", dir)
	keep := n / 2
	waited := time.Duration(0)
	for i := int64(0); i < n; i++ {
		if err := w.Append(mkrec(uint64(i), 1)); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			if err := w.Publish(); err != nil {
				t.Fatal(err)
			}
			for _, f := range followers {
				start := time.Now()
				for i-f.at.Load() > 2*keep/5 {
					time.Sleep(time.Millisecond)
				}
				waited += time.Since(start)
			}
		}
		if i%int64(per) == 0 {
			if err := w.KeepNewest(keep); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.First() == 0 {
		t.Fatalf("First is 0 after %d records, keeping %d", n, keep)
	}
	fmt.Fprintln(lagIn, "go")
	line, _ := lagOut.ReadString('\n')
	if err := lagCmd.Wait(); err != nil {
		t.Fatalf("lagging reader: %v", err)
	}
	if first, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64); err != nil || first <= 0 || first > w.First() {
		t.Errorf("the lagging reader was told First %q; want one in (0, %d]", line, w.First())
	}
	// The lagging reader held the segment that was the newest when it
	// opened: on Windows that file, and those after it, stayed until it
	// left; the writer's next Sync removes them.
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if segs := len(segmentFiles(t, dir)); int64(segs) > keep/int64(per)+2 {
		t.Errorf("%d segments kept; want at most %d", segs, keep/int64(per)+2)
	}
	first := w.First()
	mustCloseLog(t, w)
	t.Logf("the writer waited %v for its followers", waited.Round(time.Millisecond))
	for i, f := range followers {
		// Follow ends after the last record.
		select {
		case <-f.ended:
		case <-time.After(time.Minute):
			t.Fatalf("follower %d: Follow did not end after the writer closed the log", i)
		}
		seen, missed, end := f.finish(t)
		if seen != n || missed != 0 || end != n {
			t.Errorf("follower %d saw %d records and missed %d, End %d; want all %d", i, seen, missed, end, n)
		}
	}
	// The writer trimmed every segment it rolled past but those the
	// followers still read when it closed; the next writer trims them.
	if held := sidecars(t, dir); len(held) > 2 {
		t.Errorf("segments not trimmed after the readers left them: %v", held)
	}
	w, err = OpenLog[rec](dir, RDWR)
	if err != nil {
		t.Fatal(err)
	}
	mustCloseLog(t, w)
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, r)
	if r.First() != first || r.End() != n {
		t.Errorf("reopened: [%d, %d); want [%d, %d)", r.First(), r.End(), first, n)
	}
	checkLogFiles(t, dir, r)
}

// sidecars returns the names of the sidecars in dir.
func sidecars(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.npy.meta"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// checkLogFiles checks that the log in dir, which r reads, is its
// segments and log.meta alone, each segment an exact .npy of the records
// from its first index to the next one's, every record whole and at its
// index.
func checkLogFiles(t *testing.T, dir string, r *Log[rec]) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var firsts []int64
	for _, e := range entries {
		first, ok := parseSegment(e.Name())
		if !ok && e.Name() != logMetaName {
			t.Errorf("a file %s in the log's directory", e.Name())
		}
		if ok {
			firsts = append(firsts, first)
		}
	}
	if len(firsts) == 0 || firsts[0] != r.First() {
		t.Fatalf("segments %v; want the first at %d", firsts, r.First())
	}
	for j, first := range firsts {
		end := r.End()
		if j+1 < len(firsts) {
			end = firsts[j+1]
		}
		checkClosedFile(t, filepath.Join(dir, segmentName(first)), int(end-first))
	}
	i := r.First()
	for recs, err := range r.Chunks(r.First(), r.End()) {
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range recs {
			if x.I != uint64(i) || !x.valid() {
				t.Fatalf("record %d is %+v: torn or wrong", i, x)
			}
			i++
		}
	}
}

// logKillWriter opens the log at dir as its writer, says "open", and appends
// batches of records, with small segments, publishing each batch, syncing
// every few and dropping now and then, until it is killed: kills come in
// the middle of rolls and drops as well as between them.
func logKillWriter(dir string) error {
	l, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(300))
	if err != nil {
		return err
	}
	fmt.Println("open")
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	gen := r.Uint32()
	for {
		for range 1 + r.IntN(1500) {
			// Segments start at multiples of 300: this Append rolls.
			rolls := l.End()%300 == 0
			if rolls {
				fmt.Println("rolling")
			}
			if err := l.Append(mkrec(uint64(l.End()), gen)); err != nil {
				return err
			}
			if rolls {
				fmt.Println("rolled")
			}
		}
		if err := l.Publish(); err != nil {
			return err
		}
		switch r.IntN(8) {
		case 0:
			if err := l.Sync(); err != nil {
				return err
			}
		case 1:
			fmt.Println("dropping")
			if err := l.KeepNewest(int64(20_000 + r.IntN(20_000))); err != nil {
				return err
			}
			fmt.Println("dropped")
		}
	}
}

// TestKillLogWriterWithReaders kills a log's writer at random moments,
// many of them inside a roll or a drop, while two reader processes follow
// it and check every record, and starts a new writer after each kill: no
// reader may crash or see a torn or wrong record, none may find a gap,
// the records they saw never change, and in the end the log's segments
// are exact .npy files with no gap and no overlap.
func TestKillLogWriterWithReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the test runs a writer process many times")
	}
	dir := filepath.Join(tempDir(t), "log")
	w, err := OpenLog[rec](dir, RDWR)
	if err != nil {
		t.Fatal(err)
	}
	mustCloseLog(t, w)
	followers := []*followerProc{startFollower(t, dir), startFollower(t, dir)}
	r := rand.New(rand.NewPCG(5, 6))
	inside := map[string]int{}
	for kill := range *logKills {
		cmd, stdin, stdout := startOpen(t, "log-kill-writer", dir)
		// A third of the kills come as a roll begins, a third as a drop
		// begins, the rest at random.
		var out []byte
		if aim := []string{"rolling\n", "dropping\n", ""}[kill%3]; aim != "" {
			for {
				line, err := stdout.ReadString('\n')
				out = append(out, line...)
				if line == aim || err != nil {
					break
				}
			}
		} else {
			time.Sleep(time.Duration(r.IntN(60_000)) * time.Microsecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(stdout)
		out = append(out, rest...)
		cmd.Wait()
		stdin.Close()
		if i := strings.Index(string(out), childFailed); i >= 0 {
			t.Fatalf("kill %d: the writer failed before it was killed: %s", kill, out[i:])
		}
		lines := strings.Fields(string(out))
		if n := len(lines); n > 0 && (lines[n-1] == "rolling" || lines[n-1] == "dropping") {
			inside[lines[n-1]]++
		}
	}
	t.Logf("%d kills inside a roll, %d inside a drop", inside["rolling"], inside["dropping"])
	// A writer that closes cleanly ends the followers' stream.
	w, err = OpenLog[rec](dir, RDWR)
	if err != nil {
		t.Fatal(err)
	}
	final := w.End()
	mustCloseLog(t, w)
	for i, f := range followers {
		seen, missed, end := f.finish(t)
		if seen+missed != final || end != final {
			t.Errorf("follower %d saw %d records and missed %d, End %d; want %d in all", i, seen, missed, end, final)
		}
		t.Logf("follower %d saw %d records, missed %d", i, seen, missed)
	}
	// The next writer trims what the followers held at the last Close.
	w, err = OpenLog[rec](dir, RDWR)
	if err != nil {
		t.Fatal(err)
	}
	mustCloseLog(t, w)
	rd, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, rd)
	t.Logf("%d kills; records [%d, %d) kept in %d segments", *logKills, rd.First(), rd.End(), len(segmentFiles(t, dir)))
	checkLogFiles(t, dir, rd)
}

// TestLogWriterDies kills a log's writer process under a follower: the
// follower reads every record it published, then learns that the writer
// died (ErrWriterDied) within a bounded time; it waits for the next writer
// (WaitWriter) and follows on from where it stopped.
func TestLogWriterDies(t *testing.T) {
	dir := filepath.Join(tempDir(t), "log")
	cmd, stdin, stdout := startOpen(t, "log-kill-writer", dir)
	defer stdin.Close()
	r, err := OpenLog[rec](dir, RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer mustCloseLog(t, r)
	ctx := context.Background()
	if err := r.Wait(ctx, 2000); err != nil { // a few rolls
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	cmd.Wait()
	io.Copy(io.Discard, stdout)
	next := r.First()
	var stop error
	for x, err := range r.Follow(ctx, next) {
		if err != nil {
			stop = err
			break
		}
		if x.I != uint64(next) || !x.valid() {
			t.Fatalf("record %d is %+v", next, x)
		}
		next++
	}
	if !errors.Is(stop, ErrWriterDied) {
		t.Fatalf("Follow after the writer was killed: %v; want ErrWriterDied", stop)
	}
	if took := time.Since(killed); took > time.Second {
		t.Errorf("ErrWriterDied came %v after the kill; want it within 0.2 s (a second here)", took)
	}
	if err := r.Refresh(); err != nil || next != r.End() {
		t.Errorf("the follower stopped at %d; the log ends at %d (%v)", next, r.End(), err)
	}
	came := make(chan error)
	go func() { came <- r.WaitWriter(ctx) }()
	w, err := OpenLog[rec](dir, RDWR, WithSegmentRecords(300), WithAutoPublish())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-came; err != nil {
		t.Fatal(err)
	}
	if w.End() != next {
		t.Errorf("the next writer goes on at %d; the follower saw up to %d", w.End(), next)
	}
	for i := w.End(); i < next+500; i++ {
		if err := w.Append(mkrec(uint64(i), 9)); err != nil {
			t.Fatal(err)
		}
	}
	mustCloseLog(t, w)
	for x, err := range r.Follow(ctx, next) {
		if err != nil || x.I != uint64(next) || !x.valid() {
			t.Fatalf("record %d after the next writer: %+v, %v", next, x, err)
		}
		next++
	}
	if next != r.End() || r.End() != w.End() {
		t.Errorf("the follower stopped at %d; the log ends at %d, the writer at %d", next, r.End(), w.End())
	}
}
