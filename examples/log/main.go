// Log shows a log that lives for months in small: a logger appends events
// to an mmap.Log, which rolls to a new .npy segment every few thousand
// events and keeps only the newest ones, dropping whole old segments; a
// follower in another process reads every event from the start of what is
// kept, across the segments, while they roll and drop under it. At the end
// it prints the Python lines that load the same directory with numpy and
// dask.
//
//	go run ./examples/log                        # 100,000 events, keep 20,000
//	go run ./examples/log -n 1000000 -rate 500000 -keep 100000 -dir /tmp/events
//
// It runs itself twice more, as the logger and as the follower.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/typedmmap/mmap"
)

// Event is one record: its sequence number, when it was logged (a
// datetime64[ns] column for numpy and pandas), and a value.
type Event struct {
	Seq   int64
	Time  int64 `npy:"Time,M8[ns]"`
	Value float64
}

type config struct {
	n, segment, keep int
	rate             float64
	dir              string
}

func main() {
	role := flag.String("role", "", "logger or follower: what this process does (set by the parent)")
	var c config
	flag.IntVar(&c.n, "n", 100_000, "events to log")
	flag.IntVar(&c.segment, "segment", 5_000, "events per segment")
	flag.IntVar(&c.keep, "keep", 20_000, "keep at least the newest this many events")
	flag.Float64Var(&c.rate, "rate", 50_000, "events per second")
	flag.StringVar(&c.dir, "dir", "", "the log's directory, kept afterwards (default: a temporary one, removed)")
	flag.Parse()
	log.SetFlags(0)
	var err error
	switch *role {
	case "logger":
		err = logger(c)
	case "follower":
		err = follower(c.dir)
	case "":
		err = run(c)
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		log.Fatalf("log %s: %v", *role, err)
	}
}

// run starts the logger and, once it has the log open, the follower, and
// waits for both; then it prints how to load the log from Python.
func run(c config) error {
	if c.n <= 0 || c.segment <= 0 || c.keep < 0 || c.rate <= 0 {
		return fmt.Errorf("-n, -segment and -rate must be positive, -keep not negative")
	}
	kept := c.dir != ""
	if !kept {
		tmp, err := os.MkdirTemp("", "log-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		c.dir = filepath.Join(tmp, "events")
	}
	logger := child("logger", c)
	logger.Stdout = nil
	out, err := logger.StdoutPipe()
	if err != nil {
		return err
	}
	if err := logger.Start(); err != nil {
		return err
	}
	// The logger's first line says that it has the log open: a follower
	// that started before would find no writer, and its stream ended.
	lines := bufio.NewReader(out)
	first, err := lines.ReadString('\n')
	fmt.Print(first)
	if err != nil {
		return errors.Join(err, logger.Wait())
	}
	follower := child("follower", c)
	if err := follower.Start(); err != nil {
		return errors.Join(err, logger.Wait())
	}
	_, err = io.Copy(os.Stdout, lines)
	if err := errors.Join(err, logger.Wait(), follower.Wait()); err != nil {
		return err
	}
	if !kept {
		fmt.Println("\nThe log was in a temporary directory, removed now; with -dir DIR it stays, and")
		c.dir = "DIR"
	}
	fmt.Printf(`numpy and dask load the directory, each segment mapped:
python3 -c "import numpy as np, glob; a = np.concatenate([np.load(f, mmap_mode='r') for f in sorted(glob.glob('%[1]s/*.npy'))]); print(len(a), a[0])"
python3 -c "import numpy as np, glob, dask.array as da; d = da.concatenate([da.from_array(np.load(f, mmap_mode='r')) for f in sorted(glob.glob('%[1]s/*.npy'))]); print(d['Value'].mean().compute())"
`, c.dir)
	return nil
}

func child(role string, c config) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(exe, "-role", role, "-dir", c.dir, "-n", fmt.Sprint(c.n),
		"-segment", fmt.Sprint(c.segment), "-keep", fmt.Sprint(c.keep), "-rate", fmt.Sprint(c.rate))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd
}

// logger logs c.n events at c.rate a second. Each is published as it is
// appended (WithAutoPublish), so the follower sees it at once; the log
// rolls every c.segment events (a roll makes the segment durable), and
// after each roll the logger keeps the newest c.keep events, dropping
// whole segments below them. Close syncs the rest and ends the stream.
func logger(c config) error {
	l, err := mmap.OpenLog[Event](c.dir, mmap.RDWR, mmap.WithSegmentRecords(c.segment), mmap.WithAutoPublish())
	if err != nil {
		return err
	}
	fmt.Printf("logger:   open; segments of %d events, keeping the newest %d\n", c.segment, c.keep)
	start := time.Now()
	for i := range c.n {
		e := Event{Seq: l.End(), Time: time.Now().UnixNano(), Value: math.Sin(float64(i) / 100)}
		if err := l.Append(e); err != nil {
			l.Close()
			return err
		}
		if l.End()%int64(c.segment) == 0 {
			if err := l.KeepNewest(int64(c.keep)); err != nil {
				l.Close()
				return err
			}
		}
		if ahead := time.Duration(float64(i+1)/c.rate*1e9) - time.Since(start); ahead > time.Millisecond {
			time.Sleep(ahead)
		}
	}
	fmt.Printf("logger:   logged %d events in %v; the log keeps [%d, %d)\n", c.n, time.Since(start).Round(time.Millisecond), l.First(), l.End())
	return l.Close()
}

// follower follows the log from the first event it keeps to the end of
// the stream, checking that each event is the next in sequence, and says
// how many it read, how long after its append it saw the last, and what
// the log keeps at the end.
func follower(dir string) error {
	l, err := mmap.OpenLog[Event](dir, mmap.RDONLY)
	if err != nil {
		return err
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	from := l.First()
	next, read := from, 0
	var late time.Duration
	for e, err := range l.Follow(ctx, from) {
		var ie *mmap.IndexError
		if errors.As(err, &ie) {
			// Too slow for the logger's retention: the events before
			// First were dropped before this follower read them.
			return fmt.Errorf("fell behind: %w", err)
		}
		if err != nil {
			return err
		}
		if e.Seq != next {
			return fmt.Errorf("event %d has sequence number %d", next, e.Seq)
		}
		next++
		read++
		late = time.Duration(time.Now().UnixNano() - e.Time)
	}
	segments, err := filepath.Glob(filepath.Join(dir, "*.npy"))
	if err != nil {
		return err
	}
	fmt.Printf("follower: read every event of [%d, %d) in order (%d), the last %v after its append;\n", from, next, read, late.Round(time.Microsecond))
	fmt.Printf("follower: the logger closed the log, which keeps [%d, %d) in %d segments\n", l.First(), l.End(), len(segments))
	return nil
}
