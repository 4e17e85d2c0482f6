//go:build linux

package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// arrayPath is the array file inside the disk's file system.
const arrayPath = "/powercut/array.npy"

// diskSize is the size of a disk image; it is sparse.
const diskSize = 1 << 30

// maxExpectArg bounds the expectation passed on the kernel command line
// (2048 bytes on x86, with room left for the other words). A disk whose
// history of epochs, an array's or a log's, gets longer than half of it is
// replaced by a new one, so that a writer session's truncations cannot
// push it over.
const maxExpectArg = 1500

// errNoInit is the error of a machine whose kernel stopped before it ran
// /init: a failure of the virtual machine, not of the test, so the boot is
// tried again, up to maxBoots times.
var errNoInit = errors.New("the kernel stopped before it ran /init")

// errNeedsFsck is the error of a checker that could not mount the disk:
// ext4 found its journal corrupt, as it can when a disk tears a write within
// a 4 KiB block (the cached disk keeps sectors at random). A machine that
// boots after such a power cut runs fsck first; so does the driver.
var errNeedsFsck = errors.New("ext4 needs fsck before it mounts")

const maxBoots = 3

// Limits on how long a machine may take.
const (
	bootTimeout  = 60 * time.Second  // from start to the writer's open line
	writeTimeout = 10 * time.Second  // from the open line to the cut
	checkTimeout = 120 * time.Second // the whole checker
)

// lineage is one job's disk and what is known to be on it. Trials on the
// same lineage go on with the same array and log, unless one starts fresh.
type lineage struct {
	*setup
	dir   string  // the job's scratch directory
	keep  string  // where failing trials go
	fresh float64 // chance of a new disk
	cache float64 // chance of a disk with a volatile write cache
	disk  string  // the disk image, or "" before the first trial
	// before is what the disk durably holds: the checker's last state.
	// It is nil when there is no array file on the disk.
	before *model.State
	// log is the same for the log: nil when there is no log on the disk.
	log   *model.LogState
	epoch uint64        // the last epoch used
	boot  time.Duration // how long the last writer took to open the array or log
}

// result is what one trial found.
type result struct {
	n     int
	plan  plan
	fresh bool // the trial started on a new disk
	cache bool // the writer's disk had a volatile write cache
	// The writer's session: its array published each Append
	// (WithAutoPublish), and its page cache wrote back a changed page
	// once it was writeback hundredths of a second old (0: the kernel's
	// 30 s).
	auto      bool
	writeback int
	// log: the trial wrote and checked the log, not the array; follow: a
	// reader followed the log's writer, in its machine.
	log, follow bool

	// fallback is set when the line the plan waited for did not come in
	// time, and the cut came at the timeout.
	fallback bool
	// With a cache: the sectors of unflushed writes at the cut, and how
	// many of them reached the image; for a cut at a flush, what waited
	// for it.
	unflushed, persisted int
	held                 string

	// From the writer's lines: what it was doing at the cut, the Syncs and
	// Truncates it started, the growths of the file and Grow calls, the
	// Closes that cut the file to its last record, its Publishes and
	// spills of the live area, and by how many records the count it
	// published last was ahead of every count Open may find.
	phase                         string
	syncs, truncs, grows, shrinks int
	publishes, spills             int
	ahead                         uint64
	// A log's writer's: its Appends that rolled, and its drops; and
	// whether a drop that moves First was in flight at the cut.
	rolls, drops int
	dropMoves    bool

	verdict    model.Verdict
	logVerdict model.LogVerdict // the log's checker's
	err        error            // the trial failed: the checker's reason, or a failure of the harness
	kept       string           // where the failing trial's files are

	noInit int  // boots whose kernel stopped before /init, tried again
	fsck   bool // the checker could not mount the disk until e2fsck repaired it

	boot, write, check time.Duration // the writer's boot, its writing, the checker
	wall               time.Duration // the whole trial
}

func (r result) String() string {
	cut := r.plan.String()
	if r.fallback {
		cut = "timeout"
	}
	s := fmt.Sprintf("trial %3d  cut %-18s phase %-8s syncs %3d truncs %2d grows %2d pubs %3d ahead %5d  ", r.n, cut, r.phase, r.syncs, r.truncs, r.grows, r.publishes, r.ahead)
	if r.log {
		s = fmt.Sprintf("trial %3d  log %-18s phase %-8s syncs %3d rolls %3d drops %2d pubs %3d ahead %5d  ", r.n, cut, r.phase, r.syncs, r.rolls, r.drops, r.publishes, r.ahead)
	}
	if r.fresh {
		s = "*" + s // a new disk
	} else {
		s = " " + s
	}
	if r.cache {
		s += fmt.Sprintf("cache %5d/%-5d ", r.persisted, r.unflushed)
	} else {
		s += "kill        "
	}
	v, lv := r.verdict, r.logVerdict
	switch {
	case r.err == nil && r.log:
		s += fmt.Sprintf("PASS found %-7s first %-7s [%d, %d) bound %d, %d segments, below %d temp %d sidecars %d",
			lv.Found, lv.FirstFound, lv.First, lv.End, lv.Bound, lv.Segments, lv.Below, lv.Temp, lv.Sidecars)
		if r.follow {
			s += ", followed"
		}
	case r.err == nil:
		s += fmt.Sprintf("PASS found %-8s count %6d bound %6d live %6d", v.Found, v.Count, v.Bound, v.Live)
	default:
		s += fmt.Sprintf("FAIL %v (files in %s)", r.err, r.kept)
	}
	s += fmt.Sprintf("  (boot %.1fs write %.1fs check %.1fs)", r.boot.Seconds(), r.write.Seconds(), r.check.Seconds())
	if r.noInit > 0 {
		s += fmt.Sprintf(" (%d boots stopped before /init)", r.noInit)
	}
	return s
}

// trial runs one cut: a writer session on the lineage's disk, of the log
// or of the array, cut by the plan, then the checker.
func (l *lineage) trial(n int, log bool, rng *rand.Rand) result {
	start := time.Now()
	r := result{n: n, cache: rng.Float64() < l.cache, auto: rng.IntN(3) == 0, log: log}
	if rng.IntN(3) == 0 {
		r.writeback = []int{5, 10, 25, 50}[rng.IntN(4)]
	}
	r.plan = newPlan(rng, l.boot, r.cache, log)
	r.follow = log && rng.IntN(3) == 0
	dir := filepath.Join(l.dir, fmt.Sprint("trial", n))
	if err := os.Mkdir(dir, 0o755); err != nil {
		r.err = err
		return r
	}
	defer os.RemoveAll(dir)
	r.err = l.run(&r, dir, rng)
	r.wall = time.Since(start)
	if r.err != nil {
		l.disk, l.before, l.log = "", nil, nil // the next trial starts on a new disk
		r.kept = filepath.Join(l.keep, fmt.Sprint("trial", n))
		if err := os.Rename(dir, r.kept); err != nil {
			// Another file system: copy.
			if out, err := exec.Command("cp", "-r", "--sparse=always", dir, r.kept).CombinedOutput(); err != nil {
				r.err = fmt.Errorf("%v; keeping its files: %v: %s", r.err, err, out)
			}
		}
	}
	return r
}

// run runs the trial's machines, with dir as its scratch directory.
func (l *lineage) run(r *result, dir string, rng *rand.Rand) error {
	long := l.before != nil && len(expectFrom(l.before, 0).Arg()) > maxExpectArg/2 ||
		l.log != nil && len(logExpectFrom(l.log, 0).Arg()) > maxExpectArg/2
	if l.disk == "" || rng.Float64() < l.fresh || long {
		if err := l.newDisk(); err != nil {
			return err
		}
		r.fresh = true
	}
	epoch := l.epoch + 1
	var tr watch
	var werr error
	wseed := rng.Uint64()
	for range maxBoots {
		if r.log {
			tr = logWatch{model.NewLogTracker(logExpectFrom(l.log, epoch), epoch), epoch}
		} else {
			tr = arrayWatch{model.NewTracker(expectFrom(l.before, epoch), epoch)}
		}
		if werr = l.write(r, dir, wseed, epoch, tr, rng); !errors.Is(werr, errNoInit) {
			break
		}
		r.noInit++
	}
	// The image as the cut left it, and what the host expects of it, kept
	// if the trial fails.
	if out, err := exec.Command("cp", "--sparse=always", l.disk, filepath.Join(dir, "after-cut.img")).CombinedOutput(); err != nil {
		return errors.Join(werr, fmt.Errorf("copying the disk: %v: %s", err, out))
	}
	arg := tr.expectArg()
	note := fmt.Sprintf("cut %v, writer seed %d epoch %d log %t follow %t autopublish %t writeback %d, writer's phase at the cut %s, published %d ahead\nexpectation %s\n",
		r.plan, wseed, epoch, r.log, r.follow, r.auto, r.writeback, r.phase, r.ahead, arg)
	note += tr.note()
	if err := os.WriteFile(filepath.Join(dir, "trial.txt"), []byte(note), 0o644); err != nil {
		return errors.Join(werr, err)
	}
	if werr != nil {
		return werr
	}
	if len(arg) > maxExpectArg {
		return fmt.Errorf("harness: the expectation is %d bytes, too long for the kernel command line", len(arg))
	}
	l.epoch = tr.lastEpoch() + 1
	cseed := rng.Uint64()
	var err error
	for range maxBoots {
		err = l.check(r, dir, cseed, l.epoch, arg)
		if errors.Is(err, errNeedsFsck) && !r.fsck {
			if err = fsck(l.disk, dir); err != nil {
				return err
			}
			r.fsck = true
			err = l.check(r, dir, cseed, l.epoch, arg)
		}
		if !errors.Is(err, errNoInit) {
			break
		}
		r.noInit++
	}
	if err != nil {
		return err
	}
	if r.log {
		v := r.logVerdict
		l.log = &model.LogState{First: v.First, End: v.Final, Epochs: v.Runs}
		err = extractLog(l.disk, dir, *l.log)
	} else {
		if r.verdict.Found == "nofile" {
			l.before = nil
			return nil
		}
		l.before = &model.State{Count: r.verdict.Final, Epochs: r.verdict.Runs}
		err = extract(l.disk, dir, tr.(arrayWatch).Expect(), r.verdict)
	}
	if err != nil {
		if out, cerr := exec.Command("cp", "--sparse=always", l.disk, filepath.Join(dir, "after-check.img")).CombinedOutput(); cerr != nil {
			err = fmt.Errorf("%v; copying the disk: %v: %s", err, cerr, out)
		}
		return err
	}
	return nil
}

// expectFrom returns what a disk holding before (nil: no array) promises
// before a writer session in epoch starts on it.
func expectFrom(before *model.State, epoch uint64) model.Expect {
	if before == nil {
		return model.Expect{Fresh: true, Promise: model.State{Epochs: model.Epochs{{Start: 0, Epoch: epoch}}}}
	}
	return model.Expect{Promise: *before}
}

// newDisk makes a new, empty ext4 disk image for the lineage.
func (l *lineage) newDisk() error {
	l.disk, l.before, l.log = filepath.Join(l.dir, "disk.img"), nil, nil
	if err := os.Remove(l.disk); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.Create(l.disk)
	if err != nil {
		return err
	}
	err = f.Truncate(diskSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", l.disk).CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4: %v: %s", err, out)
	}
	return nil
}

// write boots the writer and cuts its power as r.plan says. With r.cache,
// its disk is a cacheDisk over the image, seeded from rng.
func (l *lineage) write(r *result, dir string, seed, epoch uint64, tr watch, rng *rand.Rand) error {
	disk := l.disk
	var cache *cacheDisk
	var cut func()
	var machine atomic.Pointer[vm] // for the cache's goroutine
	if r.cache {
		p, n := r.plan, 0
		onFlush := func(writes int, w waiting) {
			if !p.takes(writes, w) {
				return
			}
			if n++; n == p.after {
				if v := machine.Load(); v != nil {
					r.held = w.String()
					v.kill()
				}
			}
		}
		var err error
		if cache, err = newCacheDisk(l.disk, filepath.Join(dir, "nbd.sock"), rand.New(rand.NewPCG(rng.Uint64(), 0)), onFlush); err != nil {
			return err
		}
		disk, cut = cache.URI(), cache.powerOff
	}
	v, err := startVM(l.root, l.setup, disk, filepath.Join(dir, "writer.log"), cut,
		append(r.scenario(), "powercut.role=writer", fmt.Sprint("powercut.seed=", seed), fmt.Sprint("powercut.epoch=", epoch),
			fmt.Sprint("powercut.autopublish=", r.auto), fmt.Sprint("powercut.writeback=", r.writeback), fmt.Sprint("powercut.follow=", r.follow))...)
	if err != nil {
		if cache != nil {
			err = errors.Join(err, cache.close())
		}
		return err
	}
	machine.Store(v)
	cutAfter := func(d time.Duration) { time.AfterFunc(d, v.kill) }
	var timedOut atomic.Bool
	timeout := time.AfterFunc(bootTimeout, func() {
		timedOut.Store(true)
		v.kill()
	})
	if r.plan.at == "boot" {
		cutAfter(r.plan.delay)
	}
	var opened time.Time
	armed, started := r.plan.at == "boot", false
	for line := range v.lines {
		started = started || line == model.Started
		tr.Line(line)
		if opened.IsZero() && tr.opened() {
			opened = time.Now()
			r.boot = opened.Sub(v.started)
			l.boot = r.boot
			timeout.Reset(writeTimeout)
		}
		if armed || opened.IsZero() {
			continue
		}
		if r.plan.at == "run" || r.plan.after > 0 && tr.events(r.plan.at) >= r.plan.after {
			cutAfter(r.plan.delay)
			armed = true
		}
	}
	timeout.Stop()
	werr := v.wait()
	if cache != nil {
		if err := cache.close(); err != nil {
			return fmt.Errorf("the disk's cache: %v", err)
		}
		r.unflushed, r.persisted = cache.unflushed, cache.persisted
	}
	r.write = time.Since(v.started) - r.boot
	if opened.IsZero() {
		r.boot, r.write = time.Since(v.started), 0
	}
	tr.report(r)
	r.fallback = timedOut.Load()
	switch {
	case tr.failed() != nil:
		return tr.failed()
	case !v.wasKilled() && !started:
		return fmt.Errorf("writer: %w (qemu: %v)", errNoInit, werr)
	case !v.wasKilled():
		return fmt.Errorf("the writer's machine stopped by itself: %v", werr)
	case opened.IsZero() && r.fallback:
		return fmt.Errorf("the writer did not open the array or log in %v", bootTimeout)
	}
	return nil
}

// scenario returns the kernel command-line words that say what the trial
// writes and checks, and where.
func (r *result) scenario() []string {
	if r.log {
		return []string{"powercut.scenario=log", "powercut.file=" + logPath}
	}
	return []string{"powercut.scenario=array", "powercut.file=" + arrayPath}
}

// takeVerdict takes a line of the checker's console, taken telling
// whether a verdict came already, and reports whether it was the first, with whether it passed and, if not, what it found
// and why.
func (r *result) takeVerdict(line string, taken bool) (ok, pass bool, found, reason string) {
	if taken {
		return false, false, "", ""
	}
	if r.log {
		v, ok := model.ParseLogVerdict(line)
		if ok {
			r.logVerdict = v
		}
		return ok, v.Pass, v.Found, v.Reason
	}
	v, ok := model.ParseVerdict(line)
	if ok {
		r.verdict = v
	}
	return ok, v.Pass, v.Found, v.Reason
}

// check boots the checker on the disk, with the expectation arg, and
// reads its verdict.
func (l *lineage) check(r *result, dir string, seed, epoch uint64, arg string) error {
	start := time.Now()
	v, err := startVM(l.root, l.setup, l.disk, filepath.Join(dir, "checker.log"), nil,
		append(r.scenario(), "powercut.role=checker", fmt.Sprint("powercut.seed=", seed), fmt.Sprint("powercut.epoch=", epoch),
			"powercut.expect="+arg)...)
	if err != nil {
		return err
	}
	timeout := time.AfterFunc(checkTimeout, v.kill)
	var guestErr, mountErr, found, reason string
	started, mountNeedsFsck, verdict, pass := false, false, false, false
	for line := range v.lines {
		started = started || line == model.Started
		if ok, p, f, why := r.takeVerdict(line, verdict); ok {
			verdict, pass, found, reason = true, p, f, why
		}
		if strings.HasPrefix(line, model.Error+" ") {
			guestErr = line
			if strings.HasPrefix(line, model.Error+" mount ") {
				mountErr = line
				mountNeedsFsck = strings.HasSuffix(line, "structure needs cleaning")
			}
		}
	}
	timeout.Stop()
	werr := v.wait()
	r.check = time.Since(start)
	switch {
	case v.wasKilled():
		return fmt.Errorf("the checker did not finish in %v", checkTimeout)
	case !verdict && !started:
		return fmt.Errorf("checker: %w (qemu: %v)", errNoInit, werr)
	case !verdict && mountNeedsFsck:
		return fmt.Errorf("checker: %w: %s", errNeedsFsck, mountErr)
	case !verdict:
		return fmt.Errorf("the checker gave no verdict: %s (qemu: %v)", guestErr, werr)
	case !pass:
		return fmt.Errorf("found %s: %s", found, reason)
	case guestErr != "":
		return fmt.Errorf("checker: %s", guestErr)
	}
	return nil
}

// fsck repairs the ext4 file system of the image disk with e2fsck, as a
// machine does when it boots after a power cut and finds the file system
// dirty, and keeps its output in dir/fsck.log. e2fsck exits 1 when it
// fixed something, which is what it is run for.
func fsck(disk, dir string) error {
	out, err := exec.Command("e2fsck", "-fy", disk).CombinedOutput()
	if werr := os.WriteFile(filepath.Join(dir, "fsck.log"), out, 0o644); werr != nil {
		return werr
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("e2fsck: %v: %s", err, out)
	}
	return nil
}
