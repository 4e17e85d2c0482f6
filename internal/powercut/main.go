//go:build linux

// Command powercut is the /init of the virtual machine in which the power-cut
// test runs the library: a writer that appends, publishes, syncs, truncates
// and grows an Array, or appends to a Log, rolling, publishing, syncing and
// dropping, until the host cuts the power, and, booted on the same disk
// afterwards, a checker that opens the array or the log, as a reader before
// any writer and then as the writer, and checks it against what the writer
// had promised. The host driver is ./driver; it says what the test covers
// and what it does not.
//
// Its parameters are words of the kernel command line:
//
//	powercut.role=writer|checker
//	powercut.scenario=array|log  what it writes or checks
//	powercut.file=PATH    the array file, or the log's directory, inside the
//	                      disk's file system
//	powercut.seed=N       seeds the random choices, with the epoch
//	powercut.epoch=N      the epoch of the records it appends
//	powercut.expect=X     the checker's expectation, from model.Expect.Arg
//	                      or model.LogExpect.Arg
//	powercut.autopublish=true|false  the writer's array or log publishes
//	                      each Append
//	powercut.writeback=N  the writer's page cache writes a changed page back
//	                      once it is N hundredths of a second old; 0: the
//	                      kernel's default (30 s)
//	powercut.follow=true|false  a reader follows the log's writer, in its
//	                      process
//
// Build it static: CGO_ENABLED=0 go build.
package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

func main() {
	// The firmware's output before this does not end in a newline.
	say("\n%s", model.Started)
	if err := run(); err != nil {
		say("%s %v", model.Error, err)
	}
	shutdown()
}

// run boots, then runs the role the command line names.
func run() error {
	if err := boot(); err != nil {
		return err
	}
	p, err := params()
	if err != nil {
		return err
	}
	seed, err := strconv.ParseUint(p["seed"], 10, 64)
	if err != nil {
		return fmt.Errorf("powercut.seed: %v", err)
	}
	epoch, err := strconv.ParseUint(p["epoch"], 10, 64)
	if err != nil {
		return fmt.Errorf("powercut.epoch: %v", err)
	}
	if !strings.HasPrefix(p["file"], "/") {
		return fmt.Errorf("powercut.file=%q: want an absolute path", p["file"])
	}
	path := mnt + p["file"]
	scenario := p["scenario"]
	if scenario != "array" && scenario != "log" {
		return fmt.Errorf("powercut.scenario=%q: want array or log", scenario)
	}
	switch p["role"] {
	case "writer":
		var s session
		if s.autoPublish, err = strconv.ParseBool(p["autopublish"]); err != nil {
			return fmt.Errorf("powercut.autopublish: %v", err)
		}
		if s.writeback, err = strconv.Atoi(p["writeback"]); err != nil || s.writeback < 0 {
			return fmt.Errorf("powercut.writeback=%q: want hundredths of a second", p["writeback"])
		}
		if scenario == "array" {
			return write(path, seed, epoch, s)
		}
		if s.follow, err = strconv.ParseBool(p["follow"]); err != nil {
			return fmt.Errorf("powercut.follow: %v", err)
		}
		return writeLog(path, seed, epoch, s)
	case "checker":
		if scenario == "log" {
			x, err := model.ParseLogExpect(p["expect"])
			if err != nil {
				return err
			}
			say("%s", checkLog(path, x, seed, epoch))
			return nil
		}
		x, err := model.ParseExpect(p["expect"])
		if err != nil {
			return err
		}
		say("%s", check(path, x, seed, epoch))
		return nil
	}
	return fmt.Errorf("powercut.role=%q: want writer or checker", p["role"])
}
