package mmap

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests in this file run the test binary again as a child process, with
// childEnv naming the child's role.
const childEnv = "MMAP_TEST_CHILD"

var crashKills = flag.Int("crashkills", 200, "how many times TestCrashDuringAppend kills its writer")

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role, os.Getenv("MMAP_TEST_PATH")))
	}
	code := m.Run()
	tellNumpySkipped()
	os.Exit(code)
}

// runChild plays a child role and returns the exit code.
func runChild(role, path string) int {
	var err error
	switch role {
	case "writer":
		err = crashWriter(path)
	case "hold-RDWR":
		err = holdOpen(path, RDWR)
	case "hold-RDONLY":
		err = holdOpen(path, RDONLY)
	case "read-one":
		err = readOne(path)
	case "create-one":
		err = createOne(path)
	case "live-writer":
		err = liveWriter(path)
	case "follower":
		err = follower(path)
	case "latency-reader":
		err = latencyReader(path)
	case "idle-reader":
		err = idleReader(path)
	case "stamp-reader":
		err = stampReader(path)
	case "floor-reader":
		err = floorReader(path)
	case "log-stamp-reader":
		err = logStampReader(path)
	case "check-follower":
		err = checkFollower(path)
	case "waiter":
		err = waiter(path)
	case "grow-limited":
		err = growLimited(path)
	case "replaced-reader":
		err = replacedReader(path)
	case "stream-follower":
		err = streamFollower(path)
	case "publish-and-hang":
		err = publishAndHang(path)
	case "log-follower":
		err = logFollower(path)
	case "log-lagger":
		err = logLagger(path)
	case "log-kill-writer":
		err = logKillWriter(path)
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		// On stdout too: a parent that kills its children cannot tell a
		// failure from the kill by the exit status on every OS.
		fmt.Println(childFailed, err)
		fmt.Fprintln(os.Stderr, childFailed, err)
		return 1
	}
	return 0
}

// childFailed starts the line a child prints when it fails.
const childFailed = "child failed:"

// startChild starts the test binary in role on path, with its stdin and
// stdout connected to the returned pipes. Starting a process is retried a
// few times: Wine now and then fails to create one, which is not what these
// tests are about.
func startChild(t testing.TB, role, path string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), childEnv+"="+role, "MMAP_TEST_PATH="+path)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		err = cmd.Start()
		if err == nil {
			return cmd, stdin, bufio.NewReader(stdout)
		}
		if isForeignBinary(err) {
			cannotRun(t, "cannot start a child process of this architecture here: %v", err)
		}
		if attempt == 3 {
			t.Fatalf("starting a child process, 3 times: %v", err)
		}
		t.Logf("starting a child process: %v; trying again", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// startOpen starts a child as startChild does and waits until it says it
// has the array open.
func startOpen(t testing.TB, role, path string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd, stdin, stdout := startChild(t, role, path)
	if line, err := stdout.ReadString('\n'); line != "open\n" {
		t.Fatalf("%s child said %q, %v; want \"open\"", role, line, err)
	}
	return cmd, stdin, stdout
}

// holdOpen opens the array, says "open", and keeps it open until its stdin
// closes.
func holdOpen(path string, prot int) error {
	a, err := Open[rec](path, prot)
	if err != nil {
		return err
	}
	fmt.Println("open")
	io.Copy(io.Discard, os.Stdin)
	return a.Close()
}

func TestArrayLockAcrossProcesses(t *testing.T) {
	path := arrayPath(t)
	writeArray(t, path, 1)
	for _, c := range []struct {
		child   string
		refused []int // what this process may not open meanwhile
		allowed []int
	}{
		{"hold-RDWR", []int{RDWR}, []int{RDONLY}},
		{"hold-RDONLY", nil, []int{RDONLY, RDWR}},
	} {
		t.Run(c.child, func(t *testing.T) {
			cmd, stdin, _ := startOpen(t, c.child, path)
			for _, prot := range c.refused {
				if _, err := Open[rec](path, prot); !errors.Is(err, ErrLocked) {
					t.Errorf("Open(prot %d) while the child holds the file: got %v; want ErrLocked", prot, err)
				}
			}
			for _, prot := range c.allowed {
				r, err := Open[rec](path, prot)
				if err != nil {
					t.Errorf("Open(prot %d) while the child holds the file: %v", prot, err)
					continue
				}
				checkRecs(t, r, 1)
				mustClose(t, r)
			}
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}
			mustClose(t, mustOpen[rec](t, path, RDWR)) // free again
		})
	}
}

// crashWriter appends records to the array at path and syncs after each
// batch, printing the count each Sync made durable. Now and then it
// truncates and starts a new generation, so that rewritten records differ
// from the ones they replace; it prints the new count first, since Truncate
// lowers the durable count. It runs until it is killed.
func crashWriter(path string) error {
	a, err := Open[rec](path, RDWR)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	gen := uint32(r.Uint32())
	for {
		switch n := a.Len(); {
		case n > 50_000 || r.IntN(20) == 0:
			keep := r.IntN(n + 1)
			fmt.Println(keep)
			if err := a.Truncate(keep); err != nil {
				return err
			}
			gen++
		default:
			batch := 1 + r.IntN(2000)
			for range batch {
				if err := a.Append(mkrec(uint64(a.Len()), gen)); err != nil {
					return err
				}
			}
		}
		if err := a.Sync(); err != nil {
			return err
		}
		fmt.Println(a.Len())
	}
}

// TestCrashDuringAppend kills a writer at random moments and checks that
// the file then opens with every record the writer last reported synced,
// or more, and that every record is whole: none torn, none made up.
func TestCrashDuringAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test runs a writer process many times")
	}
	path := arrayPath(t)
	a := mustCreate[rec](t, path)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	samples := tempDir(t)
	var sampled []string
	for kill := range *crashKills {
		cmd, stdin, stdout := startChild(t, "writer", path)
		lines := make(chan string)
		go func() {
			defer close(lines)
			for {
				line, err := stdout.ReadString('\n')
				if err != nil {
					return
				}
				lines <- strings.TrimSpace(line)
			}
		}()
		// Let the writer start and sync at least once, then kill it at a
		// random moment.
		synced := -1
		deadline := time.After(time.Duration(r.IntN(40_000)) * time.Microsecond)
		for expired := false; !expired || synced < 0; {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("kill %d: the writer stopped before it was killed", kill)
				}
				synced = syncedCount(t, kill, line)
			case <-deadline:
				expired = true
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Read to the end (the pipe closes when the writer is gone) before
		// Wait, which closes the pipe and would drop unread lines.
		for line := range lines {
			synced = syncedCount(t, kill, line) // syncs completed before it died
		}
		cmd.Wait()
		stdin.Close()
		checkAfterCrash(t, kill, path, synced)
		if kill%20 == 0 {
			// numpy reads the .npy alone, as the writer left it.
			sample := filepath.Join(samples, fmt.Sprintf("kill-%d.npy", kill))
			if err := os.WriteFile(sample, fileBytes(t, path), 0o644); err != nil {
				t.Fatal(err)
			}
			sampled = append(sampled, sample)
		}
	}
	if runtime.GOOS == "linux" {
		python(t, numpyCheck+`
for path in sys.argv[1:]:
    check(np.load(path))
`, sampled...)
	}
}

// syncedCount reads a count the writer printed.
func syncedCount(t *testing.T, kill int, line string) int {
	t.Helper()
	n, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("kill %d: the writer said %q", kill, line)
	}
	return n
}

// checkAfterCrash opens the array a killed writer left and checks it.
func checkAfterCrash(t *testing.T, kill int, path string, synced int) {
	t.Helper()
	a, err := Open[rec](path, RDONLY)
	if err != nil {
		t.Fatalf("kill %d: Open after the crash: %v", kill, err)
	}
	defer a.Close()
	if a.Len() < synced {
		t.Fatalf("kill %d: %d records after the crash; the writer had synced %d", kill, a.Len(), synced)
	}
	for i, r := range a.Items() {
		if r.I != uint64(i) || !r.valid() {
			t.Fatalf("kill %d: record %d of %d is %+v: torn or made up", kill, i, a.Len(), r)
		}
	}
}

// readOne prints the process's peak resident memory, opens the array, reads
// its last record and prints the peak again.
func readOne(path string) error {
	if err := printPeakMemory(); err != nil {
		return err
	}
	a, err := Open[benchRec](path, RDONLY)
	if err != nil {
		return err
	}
	defer a.Close()
	if last := a.Items()[a.Len()-1]; last.ID != 42 {
		return fmt.Errorf("last record: got %+v; want ID 42", last)
	}
	return printPeakMemory()
}

// createOne prints the process's peak resident memory, creates an array
// and appends one record, and prints the peak again.
func createOne(path string) error {
	if err := printPeakMemory(); err != nil {
		return err
	}
	a, err := Create[benchRec](path)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Append(benchRec{ID: 42}); err != nil {
		return err
	}
	return printPeakMemory()
}

// printPeakMemory prints the peak resident memory in KiB, from
// /proc/self/status.
func printPeakMemory() error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Println(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return nil
		}
	}
	return fmt.Errorf("no VmHWM in /proc/self/status")
}

// sparseArray writes an array file of n records of benchRec by hand, as a
// sparse file: every record zero and never written, but the last.
func sparseArray(t *testing.T, n int64, last benchRec) string {
	t.Helper()
	_, typ, err := arrayType[benchRec]()
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, err := newHeader(typ, int(n))
	if err != nil {
		t.Fatal(err)
	}
	path := arrayPath(t)
	f := openFile(t, path, os.O_RDWR|os.O_CREATE)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(Slice[benchRec]{last}.Bytes(), int64(len(hdr))+(n-1)*32); err != nil {
		t.Fatal(err)
	}
	return path
}

// peakMemory runs the child role on path and returns the peak resident
// memory it printed, in KiB, before and after its work.
func peakMemory(t *testing.T, role, path string) [2]int {
	t.Helper()
	cmd, stdin, stdout := startChild(t, role, path)
	var kib [2]int
	for i := range kib {
		line, _ := stdout.ReadString('\n')
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		kib[i] = n
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	return kib
}

// TestMemoryAfterCreate creates an array, with the room it reserves to
// grow, and appends a record: that must add little to the process's
// memory, since a reservation costs address space, not memory.
func TestMemoryAfterCreate(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("peak memory is read from /proc/self/status, which this OS lacks: %v", err)
	}
	kib := peakMemory(t, "create-one", arrayPath(t))
	t.Logf("peak resident memory: %d KiB at start, %d KiB after Create and one Append", kib[0], kib[1])
	// Append prefaults the 2 MiB its next records will land on.
	if grew := kib[1] - kib[0]; grew > 3<<10 {
		t.Errorf("Create and one Append raised the peak by %d KiB; want at most 3 MiB", grew)
	}
}

// TestMemoryOfHugeSparseArray opens a 16 GiB array whose records are not in
// memory and reads one: the process must stay small, because opening maps
// but reads nothing.
func TestMemoryOfHugeSparseArray(t *testing.T) {
	if strconv.IntSize == 32 {
		t.Skip("a 16 GiB mapping does not fit in a 32-bit address space")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("peak memory is read from /proc/self/status, which this OS lacks: %v", err)
	}
	const records = 16 << 30 / 32
	path := sparseArray(t, records, benchRec{ID: 42})

	kib := peakMemory(t, "read-one", path)
	t.Logf("peak resident memory: %d KiB at start, %d KiB after opening 16 GiB and reading one record", kib[0], kib[1])
	if grew := kib[1] - kib[0]; grew > 4<<10 {
		t.Errorf("opening and reading one record raised the peak by %d KiB; want at most 4 MiB", grew)
	}
	// The race detector's shadow memory alone brings a process near 20 MiB.
	if !raceEnabled && kib[1] > 20<<10 {
		t.Errorf("peak resident memory %d KiB; want at most 20 MiB", kib[1])
	}
}
