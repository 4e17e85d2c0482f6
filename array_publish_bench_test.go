package mmap

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks in this file measure Publish: how soon a reader in another
// process sees a published record, against two processes that hand a
// counter through shared memory and do nothing else (the floor); how many
// records a second reach a reader that checks each; and what Publish costs
// the writer. Each reader is a child process (process_test.go), which
// reads its parameters from the first line of its stdin (startWith).

// stamped is the record of the latency benchmark: its index, and the
// writer's CLOCK_MONOTONIC when it appended it.
type stamped struct {
	I    uint64
	Mono int64
}

// readerSpin is how long a spinning reader's Wait spins (WithSpin).
const readerSpin = 100 * time.Millisecond

// childTimeout bounds a child reader's work, so that a writer that fails
// leaves no child behind for long.
const childTimeout = time.Minute

// startWith starts a child in role on path, hands it params as the first
// line of its stdin, and waits until it says it is ready ("open").
func startWith(t testing.TB, role, path string, params ...any) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd, stdin, stdout := startChild(t, role, path)
	if _, err := fmt.Fprintln(stdin, params...); err != nil {
		t.Fatal(err)
	}
	if line, err := stdout.ReadString('\n'); line != "open\n" {
		t.Fatalf("%s child said %q, %v; want \"open\"", role, line, err)
	}
	return cmd, stdin, stdout
}

// childParams reads the parameters that startWith handed a child into
// ptrs, and returns its stdin, to read on.
func childParams(ptrs ...any) (*bufio.Reader, error) {
	in := bufio.NewReader(os.Stdin)
	line, err := in.ReadString('\n')
	if err != nil {
		return nil, err
	}
	_, err = fmt.Sscan(line, ptrs...)
	return in, err
}

// openReader opens the array at path as a reader that spins for spin in
// Wait, or sleeps at once if spin is 0.
func openReader[T any](path string, spin time.Duration) (*Array[T], error) {
	var opts []Option
	if spin > 0 {
		opts = append(opts, WithSpin(spin))
	}
	return Open[T](path, RDONLY, opts...)
}

// pace calls step(i, now) for i from 0 to n-1, rate times a second,
// busy-waiting for each one's turn; now is monotonic() as the turn came.
// A step that comes late does not move the later ones: the writer catches
// up at once. It returns the rate it kept, in records a second.
func pace(rate, n int, step func(i int, now int64)) float64 {
	period := float64(time.Second) / float64(rate)
	start := monotonic()
	now := start
	for i := range n {
		due := start + int64(float64(i)*period)
		for now < due {
			now = monotonic()
		}
		step(i, now)
		now = monotonic()
	}
	return float64(n-1) / float64(now-start) * float64(time.Second)
}

// A writer of BenchmarkPublishLatency appends records for latencyWarmUp,
// which do not count (the scheduler settles the two processes on the two
// cores meanwhile), then for latencyTime.
const (
	latencyWarmUp = 100 * time.Millisecond
	latencyTime   = time.Second
)

// BenchmarkPublishLatency measures the time from a writer appending a
// record to a reader in another process seeing it, with a Publish per
// record, the writer paced at a rate (busy-waiting for each record's
// turn), for a reader that spins in Wait (WithSpin(readerSpin)) and one
// that sleeps (no spin); and the floors of each: two processes that hand a
// count and a timestamp through a shared mapping and do nothing else, the
// reader spinning on the count, or sleeping on it (a futex, woken by the
// writer when it says it sleeps). It reports p50, p99 and p99.9 of each,
// in ns, the rate each writer kept, p99 of the spinning reader over its
// floor's, and p50 of the sleeping reader over its floor's. The four take
// turns in each iteration, in the order reversed every other time (ABBA).
// The reader takes its time on seeing each record: records that reach it
// together, after a stall of the writer's or its own, count from their own
// appends. The array has room for every record (WithCapacity): the file
// does not grow meanwhile. Linux only: the clock must be one clock for
// both processes (monotonic).
func BenchmarkPublishLatency(b *testing.B) {
	if !sharedClock {
		b.Skip("needs a clock that processes share; read on Linux only")
	}
	kinds := []string{"floor-spin", "spin", "floor-sleep", "sleep"}
	for _, rate := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rate=%dk", rate/1000), func(b *testing.B) {
			warm := int(float64(rate) * latencyWarmUp.Seconds())
			n := warm + int(float64(rate)*latencyTime.Seconds())
			lats := map[string][]int64{}
			kept := map[string]float64{}
			dir := tempDir(b)
			for i := 0; b.Loop(); i++ {
				order := slices.Clone(kinds)
				if i%2 == 1 {
					slices.Reverse(order)
				}
				for _, kind := range order {
					var lat []int64
					var k float64
					switch kind {
					case "floor-spin", "floor-sleep":
						lat, k = floorRun(b, filepath.Join(dir, "floor"), rate, n, kind == "floor-sleep")
					case "spin":
						lat, k = publishRun(b, filepath.Join(dir, "stamped.npy"), rate, n, readerSpin)
					case "sleep":
						lat, k = publishRun(b, filepath.Join(dir, "stamped.npy"), rate, n, 0)
					}
					lats[kind] = append(lats[kind], lat[warm:]...)
					kept[kind] += k
				}
			}
			p50, p99 := map[string]float64{}, map[string]float64{}
			for _, kind := range kinds {
				lat := lats[kind]
				slices.Sort(lat)
				p50[kind], p99[kind] = quantile(lat, 0.50), quantile(lat, 0.99)
				b.ReportMetric(p50[kind], kind+"-p50-ns")
				b.ReportMetric(p99[kind], kind+"-p99-ns")
				b.ReportMetric(quantile(lat, 0.999), kind+"-p99.9-ns")
				b.ReportMetric(kept[kind]/float64(b.N)/1000, kind+"-krec/s")
			}
			b.ReportMetric(p99["spin"]/p99["floor-spin"], "spin/floor-p99")
			b.ReportMetric(p50["sleep"]/p50["floor-sleep"], "sleep/floor-p50")
		})
	}
}

// quantile returns the q quantile of sorted.
func quantile(sorted []int64, q float64) float64 {
	return float64(sorted[int(q*float64(len(sorted)-1))])
}

// publishRun creates the array at path, starts a stamp reader on it that
// spins for spin, appends n stamped records at rate, publishing each, and
// returns the latencies the reader saw and the rate the writer kept.
func publishRun(b testing.TB, path string, rate, n int, spin time.Duration) ([]int64, float64) {
	os.Remove(path)
	w, err := Create[stamped](path, WithCapacity(n))
	if err != nil {
		b.Fatal(err)
	}
	cmd, stdin, stdout := startWith(b, "stamp-reader", path, n, int64(spin))
	kept := pace(rate, n, func(i int, now int64) {
		if err := w.Append(stamped{I: uint64(i), Mono: now}); err != nil {
			b.Fatal(err)
		}
		if err := w.Publish(); err != nil {
			b.Fatal(err)
		}
	})
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return readLatencies(b, cmd, stdin, stdout, n), kept
}

// stampReader follows the array of stamped records at path, its
// parameters the number of records and how long to spin (openReader), and
// takes the time it sees each record. When the writer closes, it writes
// each record's latency, from the time the writer put in it to the time it
// saw it, to stdout (writeLatencies).
func stampReader(path string) error {
	var n int
	var spin time.Duration
	if _, err := childParams(&n, &spin); err != nil {
		return err
	}
	a, err := openReader[stamped](path, spin)
	if err != nil {
		return err
	}
	defer a.Close()
	return followStamps(n, func(ctx context.Context) iter.Seq2[stamped, error] { return a.Follow(ctx, 0) })
}

// followStamps says "open", follows the n records that follow yields,
// stamped with the writer's clock, from the first, and writes each one's
// latency to stdout (writeLatencies).
func followStamps(n int, follow func(context.Context) iter.Seq2[stamped, error]) error {
	lat := make([]int64, n)
	fmt.Println("open")
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	seen := 0
	for r, err := range follow(ctx) {
		now := monotonic()
		if err != nil {
			return err
		}
		if seen == n || r.I != uint64(seen) {
			return fmt.Errorf("record %d is %+v", seen, r)
		}
		lat[seen] = now - r.Mono
		seen++
	}
	if seen != n {
		return fmt.Errorf("saw %d records; want %d", seen, n)
	}
	return writeLatencies(lat)
}

// The floor's file: the count of records at word 0, the count of readers
// asleep on it next to it (as in the sidecar's live area), and from word
// floorStampsAt on (pages of their own) the records' timestamps. It holds
// every record, as an array does: a writer that catches up after a stall
// may get far ahead of the reader.
const floorStampsAt = 512

// floorWords maps the floor's file f and returns its words: the count, the
// sleepers, the count's low 32 bits (which a sleeping reader sleeps on),
// and the timestamps.
func floorWords(f *os.File) (m MMap, count, sleepers *int64, low *uint32, stamps []int64, err error) {
	if m, err = Map(f, RDWR, 0); err != nil {
		return nil, nil, nil, nil, nil, err
	}
	words, err := View[int64](m)
	if err != nil {
		m.Unmap()
		return nil, nil, nil, nil, nil, err
	}
	halves, err := View[uint32](m[lowHalf : lowHalf+4])
	if err != nil {
		m.Unmap()
		return nil, nil, nil, nil, nil, err
	}
	return m, &words[0], &words[1], &halves[0], words[floorStampsAt:], nil
}

// floorRun makes the floor's file at path, starts a floor reader on it
// that spins, or sleeps when it has seen every record there is, hands it n
// timestamps at rate, and returns the latencies the reader saw and the
// rate the writer kept. A writer to a sleeping reader wakes it when it
// says it sleeps.
func floorRun(b testing.TB, path string, rate, n int, sleep bool) ([]int64, float64) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 8*(floorStampsAt+n)), 0); err != nil {
		b.Fatal(err)
	}
	m, count, sleepers, low, stamps, err := floorWords(f)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Unmap()
	for i := range stamps { // its pages present and writable before the first record
		stamps[i] = 0
	}
	cmd, stdin, stdout := startWith(b, "floor-reader", path, n, sleep)
	var kept float64
	if sleep {
		kept = pace(rate, n, func(i int, now int64) {
			stamps[i] = now
			atomic.StoreInt64(count, int64(i+1))
			if atomic.LoadInt64(sleepers) != 0 {
				futexWake(low)
			}
		})
	} else {
		kept = pace(rate, n, func(i int, now int64) {
			stamps[i] = now
			atomic.StoreInt64(count, int64(i+1))
		})
	}
	return readLatencies(b, cmd, stdin, stdout, n), kept
}

// floorReader follows the floor's file at path, its parameters the number
// of records and whether to sleep when it has seen every record there is
// (else it spins), takes the time it sees each, and then writes the
// latencies to stdout (writeLatencies).
func floorReader(path string) error {
	var n int
	var sleep bool
	if _, err := childParams(&n, &sleep); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	m, count, sleepers, low, stamps, err := floorWords(f)
	if err != nil {
		return err
	}
	defer m.Unmap()
	if len(stamps) != n {
		return fmt.Errorf("room for %d timestamps; want %d", len(stamps), n)
	}
	var sum int64
	for _, t := range stamps { // its pages present before the first record
		sum += t
	}
	if sum != 0 {
		return fmt.Errorf("the timestamps are not zero")
	}
	lat := make([]int64, n)
	fmt.Println("open")
	deadline := monotonic() + int64(childTimeout)
	for seen, idle := 0, 0; seen < n; idle++ {
		c := int(atomic.LoadInt64(count))
		for ; seen < c; seen++ {
			now := monotonic()
			lat[seen] = now - stamps[seen]
			idle = 0
		}
		if sleep && c == seen {
			atomic.AddInt64(sleepers, 1)
			if atomic.LoadInt64(count) == int64(seen) {
				sleepOnFloor(low, uint32(seen))
			}
			atomic.AddInt64(sleepers, -1)
		}
		if idle%(1<<20) == 1<<20-1 && monotonic() > deadline {
			return fmt.Errorf("saw %d records of %d in %v", seen, n, childTimeout)
		}
	}
	return writeLatencies(lat)
}

// writeLatencies writes lat to stdout, in the host's byte order.
func writeLatencies(lat []int64) error {
	w := bufio.NewWriter(os.Stdout)
	if err := binary.Write(w, binary.NativeEndian, lat); err != nil {
		return err
	}
	return w.Flush()
}

// readLatencies reads the n latencies a child wrote (writeLatencies), and
// waits for it to end.
func readLatencies(b testing.TB, cmd *exec.Cmd, stdin io.WriteCloser, stdout *bufio.Reader, n int) []int64 {
	lat := make([]int64, n)
	err := binary.Read(stdout, binary.NativeEndian, lat)
	stdin.Close()
	if werr := cmd.Wait(); werr != nil || err != nil {
		b.Fatalf("reader: %v, %v", err, werr)
	}
	return lat
}

// publishRecords is how many records BenchmarkPublishThroughput appends.
const publishRecords = 4 << 20

// BenchmarkPublishThroughput appends publishRecords records as fast as it
// can, publishing them one at a time or in batches, to a reader process
// that follows the array and checks every record; it reports the records
// a second that reach the reader, from the first Append to the reader
// having checked the last record. The array has room for every record
// (WithCapacity), and its Close runs outside the timer.
func BenchmarkPublishThroughput(b *testing.B) {
	for _, reader := range []struct {
		name string
		spin time.Duration
	}{{"spin", readerSpin}, {"sleep", 0}} {
		for _, batch := range []int{1, 64, 1024} {
			b.Run(fmt.Sprintf("reader=%s/publish=%d", reader.name, batch), func(b *testing.B) {
				path := arrayPath(b)
				for b.Loop() {
					b.StopTimer()
					os.Remove(path)
					w, err := Create[rec](path, WithCapacity(publishRecords))
					if err != nil {
						b.Fatal(err)
					}
					cmd, stdin, stdout := startWith(b, "check-follower", path, publishRecords, int64(reader.spin))
					b.StartTimer()
					for i := range publishRecords {
						if err := w.Append(mkrec(uint64(i), 0)); err != nil {
							b.Fatal(err)
						}
						if (i+1)%batch == 0 {
							if err := w.Publish(); err != nil {
								b.Fatal(err)
							}
						}
					}
					line, err := stdout.ReadString('\n')
					b.StopTimer()
					if line != "done\n" {
						b.Fatalf("follower said %q, %v", line, err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
					stdin.Close()
					if err := cmd.Wait(); err != nil {
						b.Fatalf("follower: %v", err)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(publishRecords)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
			})
		}
	}
}

// checkFollower follows the array at path, its parameters the number of
// records to wait for and how long to spin (openReader), checks each
// record, and says "done" once it has checked them all.
func checkFollower(path string) error {
	var n int
	var spin time.Duration
	if _, err := childParams(&n, &spin); err != nil {
		return err
	}
	a, err := openReader[rec](path, spin)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Println("open")
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	seen := 0
	for r, err := range a.Follow(ctx, 0) {
		if err != nil {
			return err
		}
		if r != mkrec(uint64(seen), 0) {
			return fmt.Errorf("record %d is %+v", seen, r)
		}
		if seen++; seen == n {
			break
		}
	}
	if seen != n {
		return fmt.Errorf("saw %d records; want %d", seen, n)
	}
	fmt.Println("done")
	return nil
}

// BenchmarkPublish measures Publish of a count that does not change: with
// no reader, with a reader process asleep in Wait for a record that does
// not come (on Linux each Publish wakes it, and it goes back to sleep),
// and with a reader process spinning in Wait for it (WithSpin), which
// reads the live word that Publish writes.
func BenchmarkPublish(b *testing.B) {
	for _, reader := range []struct {
		name string
		spin time.Duration
	}{{"none", -1}, {"asleep", 0}, {"spinning", time.Hour}} {
		b.Run("reader="+reader.name, func(b *testing.B) {
			path := arrayPath(b)
			w := mustCreate[rec](b, path)
			if err := w.Append(mkrec(0, 0)); err != nil {
				b.Fatal(err)
			}
			if err := w.Publish(); err != nil {
				b.Fatal(err)
			}
			if reader.spin >= 0 {
				cmd, stdin, _ := startWith(b, "waiter", path, int64(reader.spin))
				defer func() {
					stdin.Close()
					if err := cmd.Wait(); err != nil {
						b.Errorf("waiter: %v", err)
					}
				}()
				time.Sleep(50 * time.Millisecond) // until it sleeps, or spins
			}
			for b.Loop() {
				if err := w.Publish(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// waiter opens the array at path as a reader that spins for its parameter
// (openReader) and waits, until its stdin closes, for one record more than
// the array has.
func waiter(path string) error {
	var spin time.Duration
	in, err := childParams(&spin)
	if err != nil {
		return err
	}
	a, err := openReader[rec](path, spin)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Refresh(); err != nil { // Open counts what was synced
		return err
	}
	fmt.Println("open")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, in)
		cancel()
	}()
	if err := a.Wait(ctx, a.Len()+1); err != context.Canceled {
		return fmt.Errorf("Wait: got %v; want it cancelled", err)
	}
	return nil
}
