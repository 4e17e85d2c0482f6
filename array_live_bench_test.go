package mmap

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The benchmarks in this file measure a writer with readers in other
// processes: what readers cost the writer, how soon a reader sees what the
// writer synced, and what a waiting reader costs the machine.

const liveAppends = 4 << 20

// BenchmarkAppendWithReaders appends liveAppends records one at a time,
// syncing every 512Ki of them, with 0, 1 or 2 reader processes following the
// array and checking every record: readers see the records as each Sync
// publishes them (publish=sync), or as each Append does (publish=auto,
// WithAutoPublish). Syncs run outside the timer: ns/record is the cost of
// Append.
func BenchmarkAppendWithReaders(b *testing.B) {
	for _, publish := range []string{"sync", "auto"} {
		for _, readers := range []int{0, 1, 2} {
			b.Run(fmt.Sprintf("readers=%d/publish=%s", readers, publish), func(b *testing.B) {
				appendWithReaders(b, readers, publish == "auto")
			})
		}
	}
}

// appendWithReaders is BenchmarkAppendWithReaders with so many readers,
// publishing on every Append if auto.
func appendWithReaders(b *testing.B, readers int, auto bool) {
	var opts []Option
	if auto {
		opts = append(opts, WithAutoPublish())
	}
	path := arrayPath(b)
	for b.Loop() {
		b.StopTimer()
		os.Remove(path)
		w, err := Create[rec](path, opts...)
		if err != nil {
			b.Fatal(err)
		}
		stop := startFollowers(b, path, readers)
		b.StartTimer()
		for i := range liveAppends {
			if err := w.Append(mkrec(uint64(i), 0)); err != nil {
				b.Fatal(err)
			}
			if i%(512<<10) == 512<<10-1 {
				b.StopTimer()
				if err := w.Sync(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		}
		b.StopTimer()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		stop(liveAppends)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/liveAppends, "ns/record")
}

// startFollowers starts n follower processes on path and returns a function
// that stops them and checks that each saw want records.
func startFollowers(b *testing.B, path string, n int) func(want int) {
	var stops []func(int)
	for range n {
		cmd, stdin, stdout := startOpen(b, "follower", path)
		stops = append(stops, func(want int) {
			stdin.Close()
			line, _ := stdout.ReadString('\n')
			if err := cmd.Wait(); err != nil {
				b.Fatalf("follower: %v", err)
			}
			if strings.TrimSpace(line) != strconv.Itoa(want) {
				b.Fatalf("follower saw %q records; want %d", line, want)
			}
		})
	}
	return func(want int) {
		for _, stop := range stops {
			stop(want)
		}
	}
}

// BenchmarkSyncToReader appends one record and syncs it, b.N times, while a
// reader in another process waits for each; it reports the time from the
// writer's Sync returning to the reader seeing the record (it can be
// negative: Sync publishes just before it returns), as p50 and p99, and
// Sync's own time.
func BenchmarkSyncToReader(b *testing.B) {
	path := arrayPath(b)
	w := mustCreate[rec](b, path)
	cmd, stdin, stdout := startOpen(b, "latency-reader", path)
	var synced, syncs []time.Duration
	epoch := time.Now()
	for b.Loop() {
		if err := w.Append(mkrec(uint64(w.Len()), 0)); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := w.Sync(); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		syncs = append(syncs, end.Sub(start))
		synced = append(synced, end.Sub(epoch))
		time.Sleep(time.Millisecond) // let the reader go back to sleep
	}
	stdin.Close()
	seen := make([]time.Duration, 0, len(synced))
	for range synced {
		line, err := stdout.ReadString('\n')
		if err != nil {
			b.Fatalf("reader: %v", err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
		if err != nil {
			b.Fatalf("reader said %q", line)
		}
		seen = append(seen, time.Unix(0, ns).Sub(epoch))
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("reader: %v", err)
	}
	lat := make([]time.Duration, len(seen))
	for i := range seen {
		lat[i] = seen[i] - synced[i]
	}
	b.ReportMetric(float64(percentile(lat, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(percentile(syncs, 50).Microseconds()), "sync-p50-µs")
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// latencyReader waits for each record in turn and prints, for each, the
// time it saw it, until its stdin closes.
func latencyReader(path string) error {
	a, ctx, err := openUntilStdinCloses(path)
	if err != nil {
		return err
	}
	defer a.Close()
	var seen []int64
	for n := 1; ; n++ {
		if err := a.Wait(ctx, n); err != nil {
			break
		}
		seen = append(seen, time.Now().UnixNano())
	}
	for _, t := range seen {
		fmt.Println(t)
	}
	return nil
}

// BenchmarkWaitingReader runs a reader process that waits idleWait for a
// record that never comes, and reports the CPU time the wait used, in
// percent of one core. (Windows counts CPU time in ticks of 10 ms or more:
// the wait is long enough for that to matter little.)
func BenchmarkWaitingReader(b *testing.B) {
	path := arrayPath(b)
	mustCreate[rec](b, path)
	var cpu, wall time.Duration
	for b.Loop() {
		cmd, stdin, stdout := startChild(b, "idle-reader", path)
		line, err := stdout.ReadString('\n')
		if err != nil {
			b.Fatalf("reader: %v", err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("reader: %v", err)
		}
		stdin.Close()
		var d, c time.Duration
		if _, err := fmt.Sscan(line, &d, &c); err != nil {
			b.Fatalf("reader said %q", line)
		}
		wall += d
		cpu += c
	}
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
}

const idleWait = 3 * time.Second

// idleReader opens the array and waits idleWait for one record more than it
// has, then prints how long it waited and the CPU time it used meanwhile, in
// nanoseconds.
func idleReader(path string) error {
	a, err := Open[rec](path, RDONLY)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), idleWait)
	defer cancel()
	cpu0, err := processCPU()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := a.Wait(ctx, a.Len()+1); err != context.DeadlineExceeded {
		return fmt.Errorf("Wait: got %v; want the deadline", err)
	}
	wall := time.Since(start)
	cpu, err := processCPU()
	if err != nil {
		return err
	}
	fmt.Println(int64(wall), int64(cpu-cpu0))
	return nil
}
