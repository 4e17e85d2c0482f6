//go:build linux

// Command driver runs the power-cut test of the library's Array and Log: it
// boots a virtual machine whose /init (../powercut) appends, publishes,
// syncs, truncates and grows an array, or appends to a log, rolling,
// publishing, syncing and dropping, on a virtual disk, cuts the power at a
// random moment, boots a checker on the same disk, and counts what the
// checker finds.
//
//	go run ./internal/powercut/driver -cuts 20
//	go run ./internal/powercut/driver -cuts 100 -scenario log
//
// -scenario both (the default) makes every third trial one of the log, the
// others of the array; array or log makes them all one kind. Each job's
// disk holds both, and a trial of one leaves the other as it was.
//
// It needs qemu-system-x86, the Debian cloud kernel, e2fsprogs, cpio and
// numpy; .ci/powercut installs them and runs it. A trial that fails keeps its disk
// image as it was right after the cut, the consoles of both boots and what
// the host expected, in the directory it prints. -seed repeats a run's
// choices, not its timing.
//
// # Fault model
//
// Each trial's writer runs on one of two disks; the checker always boots on
// the plain image, as a machine does after the power comes back.
//
// A plain disk ("kill" in the output) is a raw image file that qemu (TCG,
// one CPU) opens with cache=writeback, and the cut is a SIGKILL of qemu.
// The guest loses what a power cut loses: all of its memory, so its page
// cache (pages of the mapping that were changed and not yet written back),
// the ext4 journal's uncommitted transaction, and the requests in its block
// queues that qemu had not taken yet. What survives is every write qemu had
// already made to the image: with cache=writeback qemu has no cache of its
// own, and its writes are in the host's page cache, which the kill does not
// touch (the host keeps its power). A request qemu was in the middle of may
// be partly done, at the host's page granularity. This disk never loses or
// reorders a write it has completed, flushed or not: it is a disk without
// a volatile write cache, and it cannot catch a missing flush.
//
// A cached disk ("cache") is a disk with a volatile write cache, which can:
// the driver serves the image to qemu over NBD itself (cacheDisk). It
// completes writes at once but keeps them in memory until the guest
// flushes, and a flush takes up to 4 ms. Its power goes with qemu's: a flush
// under way then does not happen, and the unflushed writes meet one of four
// fates, at random: all are lost; each 512-byte sector is kept or not (torn
// and reordered writes); only those before a random point are kept (a
// cache that writes back in order); or only those after it. Flushed writes
// are always kept. Some cuts aim at a flush that finds writes waiting: the
// moment a missing flush between two writes shows. qemu has no option for
// this: cache=unsafe ignores flushes but still makes every write, blkdebug
// injects errors but does not drop writes, and throttling only delays them.
// The guest kernel has dm-log-writes and dm-flakey as modules, but they
// need device-mapper ioctls in /init and a replay tool; the NBD server
// needs neither.
//
// # Published records
//
// The writer publishes records between Syncs (Publish, or an array opened
// WithAutoPublish), and reports the counts it published; they are no
// promise. After the cut the checker reads the sidecar's live area as the
// disk holds it, then opens the array as a reader, before any writer has
// opened it, and checks that its Len, at Open and after a Refresh, is
// exactly a count Open may find ([model.Expect.States]), never one that
// was only published. For that check to bite, the live area must reach
// the disk ahead of its records: the writer sometimes writes the sidecar's
// first page to the disk itself, with sync_file_range or fdatasync and no
// msync ("spilled"); a third of the writers boot with their page cache
// writing a changed page back once it is 0.05 to 0.5 s old, so that the
// live area, the header and the records reach the disk in no order. Cuts aim at the
// moments after a Publish and after a spill; on the cached disk, some aim
// at a flush with a sidecar slot waiting (a Sync's second wait) or with
// the array's first block, its header, waiting (its first wait, which
// carries the header the Sync before wrote); the cached disk tells them by
// the blocks the waiting writes hold.
//
// # The log
//
// The log's writer appends records whose content is a function of their
// index and the session's epoch, in segments of 200 to 500 records
// (WithSegmentRecords, drawn per session), so that it rolls every few
// hundred records; it publishes, syncs, drops the oldest segments
// (DropBefore of a random index, KeepNewest of a random count) and closes
// and reopens the log at random, and a third of the sessions run a reader
// that follows the writer in its machine (Follow, checking each record),
// which holds segments the writer then cannot trim. It reports the End
// after each Sync returns, each Append that rolls before it starts (it
// knows from the segment size) and the newest segment after it returns,
// and, for each drop, the First it moves to (by the segments' names) before
// it starts and First after it returns. Cuts aim at the moments after a
// rolling Append starts (up to 100 ms after, which spans the roll's Sync
// of the full segment, the making of the next under a temporary name, its
// rename and the directory's sync, and the Close of the old one) and after
// a drop starts (up to 15 ms: log.meta's write and sync, then the
// removals), as well as after Publishes, in Syncs and at flushes.
//
// The log's checker opens the log as a reader before any writer, and
// checks ([model.LogExpect]) that First is the First of the last drop that
// returned, or the one the drop in flight moves to; that End is the
// End of the last Sync or roll that returned, of the Sync in flight, or a
// roll's of the Append in flight; that the segments from First on are
// contiguous (each one's count is the next one's name minus its own, each
// read by an array reader) and the newest ends at End; and that every
// record in [First, End) is whole and of its epoch. It then opens the log
// as its writer, which must find the same First and End, appends, syncs
// and closes; a reader must read every record again, and the directory
// must hold log.meta, marked closed at First, and the segments from First
// on, each an exact .npy file (no sidecar, its size the header's and its
// records'), and nothing else. numpy on the host then reads every segment,
// which must hold exactly its records.
//
// Not covered: a sector torn inside itself, writes that land at the wrong
// place or corrupt data, other file systems and mount options than ext4's
// defaults (data=ordered), other kernels than the cloud kernel, several
// CPUs, and errors from the disk (EIO) rather than lost power.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

func main() {
	cuts := flag.Int("cuts", 20, "power cuts (trials) to run")
	scenario := flag.String("scenario", "both", "what the trials write and check: array, log, or both (every third trial the log, the others the array)")
	seed := flag.Uint64("seed", 0, "random seed (default: from the clock); the run prints it")
	jobs := flag.Int("jobs", runtime.NumCPU(), "machines to run at once, each with its own disk")
	fresh := flag.Float64("fresh", 0.2, "chance that a trial starts on a new disk instead of going on with the last one")
	cache := flag.Float64("cache", 0.5, "chance that the writer's disk has a volatile write cache, which loses unflushed writes at the cut")
	keep := flag.String("keep", "", "where to keep the files of failing trials (default: a new directory in $TMPDIR)")
	flag.Parse()
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	logTrial, ok := map[string]func(int) bool{
		"array": func(int) bool { return false },
		"log":   func(int) bool { return true },
		"both":  func(n int) bool { return n%3 == 0 },
	}[*scenario]
	if !ok {
		fmt.Fprintf(os.Stderr, "powercut: -scenario %q: want array, log or both\n", *scenario)
		os.Exit(2)
	}
	if err := run(*cuts, *seed, max(*jobs, 1), *fresh, *cache, *keep, logTrial); err != nil {
		fmt.Fprintln(os.Stderr, "powercut:", err)
		os.Exit(1)
	}
}

// run runs the trials; logTrial says which of them write and check the
// log rather than the array.
func run(cuts int, seed uint64, jobs int, fresh, cache float64, keep string, logTrial func(n int) bool) error {
	start := time.Now()
	work, err := os.MkdirTemp("", "powercut-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if keep == "" {
		keep, err = os.MkdirTemp("", "powercut-failed-")
	} else {
		err = os.MkdirAll(keep, 0o755)
	}
	if err != nil {
		return err
	}
	s, err := prepare(work)
	if err != nil {
		return err
	}
	fmt.Printf("powercut: seed %d, %d cuts, %d jobs; setup %.1fs\n", seed, cuts, jobs, time.Since(start).Seconds())

	trials := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for j := range min(jobs, cuts) {
		l := &lineage{setup: s, dir: filepath.Join(work, fmt.Sprint("job", j)), keep: keep, fresh: fresh, cache: cache, boot: 4 * time.Second}
		if err := os.Mkdir(l.dir, 0o755); err != nil {
			return err
		}
		wg.Go(func() {
			for n := range trials {
				results <- l.trial(n, logTrial(n), rand.New(rand.NewPCG(seed, uint64(n))))
			}
		})
	}
	go func() {
		for n := 1; n <= cuts; n++ {
			trials <- n
		}
		close(trials)
		wg.Wait()
		close(results)
	}()
	var sum summary
	for r := range results {
		fmt.Println(r)
		sum.add(r)
	}
	sum.print(time.Since(start))
	if sum.failed > 0 {
		fmt.Printf("powercut: the failing trials' disk images and consoles are in %s\n", keep)
		return fmt.Errorf("%d of %d trials failed", sum.failed, sum.trials)
	}
	os.Remove(keep) // empty unless asked for
	return nil
}

// setup is what every trial uses.
type setup struct {
	root   string // the module's directory
	kernel string
	initrd string
}

// prepare builds the guest program and the initramfs in work.
func prepare(work string) (*setup, error) {
	for _, tool := range []string{"mkfs.ext4", "debugfs", "cpio", "qemu-system-x86_64"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%v (.ci/powercut installs what the test needs)", err)
		}
	}
	if _, err := numpyPython(); err != nil {
		return nil, err
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %v", err)
	}
	s := &setup{root: filepath.Dir(strings.TrimSpace(string(gomod)))}
	build := exec.Command("go", "build", "-o", filepath.Join(work, "init"), "./internal/powercut")
	build.Dir = s.root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the guest program: %v\n%s", err, out)
	}
	s.initrd = filepath.Join(work, "initrd.gz")
	mk := exec.Command("sh", filepath.Join(s.root, ".ci/vm-initrd.sh"), filepath.Join(work, "init"), s.initrd)
	mk.Stderr = os.Stderr
	out, err := mk.Output()
	if err != nil {
		return nil, fmt.Errorf(".ci/vm-initrd.sh: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return nil, fmt.Errorf(".ci/vm-initrd.sh printed no kernel path")
	}
	s.kernel = lines[len(lines)-1]
	return s, nil
}
