//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mnt is where the disk is mounted.
const mnt = "/mnt"

// boot loads the modules and mounts what the program needs: /dev, /sys,
// /proc, and the disk /dev/vda as ext4 on mnt, which replays its journal
// after a cut as a reboot would.
func boot() error {
	// The kernel modules that /dev/vda needs are in /mod, uncompressed,
	// and /mod/order names them in the order they depend on each other
	// (see .ci/vm-initrd.sh).
	order, err := os.ReadFile("/mod/order")
	if err != nil {
		return err
	}
	for _, m := range strings.Fields(string(order)) {
		if err := loadModule("/mod/" + m + ".ko"); err != nil {
			return err
		}
	}
	for _, m := range []struct{ fstype, dir string }{{"devtmpfs", "/dev"}, {"sysfs", "/sys"}, {"proc", "/proc"}} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %v", m.fstype, m.dir, err)
		}
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return err
	}
	// The disk appears once virtio_blk has probed it, asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := unix.Mount("/dev/vda", mnt, "ext4", 0, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENXIO) || time.Now().After(deadline) {
			return fmt.Errorf("mount /dev/vda: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// loadModule loads one kernel module file.
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load %s: %v", path, err)
	}
	return nil
}

// params returns the words powercut.KEY=VALUE of the kernel command line,
// by KEY.
func params() (map[string]string, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, err
	}
	p := map[string]string{}
	for _, w := range strings.Fields(string(b)) {
		if kv, ok := strings.CutPrefix(w, "powercut."); ok {
			k, v, _ := strings.Cut(kv, "=")
			p[k] = v
		}
	}
	return p, nil
}

// say prints one line on the console and waits until it has left the
// serial port, so that the host has it before the program goes on: a line
// still in the kernel's buffer would be lost with the power.
func say(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
	// TCSBRK with a nonzero argument is tcdrain: no break is sent.
	_ = unix.IoctlSetInt(1, unix.TCSBRK, 1)
}

// shutdown unmounts the disk cleanly and powers the machine off.
func shutdown() {
	if err := unix.Unmount(mnt, 0); err != nil {
		say("ERROR unmount %s: %v", mnt, err)
	}
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		say("ERROR power off: %v", err)
	}
	// The kernel panics when PID 1 exits; with panic=-1 on its command
	// line the VM then ends, which is all that is left to do.
	os.Exit(1)
}
