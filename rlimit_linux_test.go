package mmap

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// canLimitAddressSpace: Linux has RLIMIT_AS.
const canLimitAddressSpace = true

// errNoMemory is the error of a mapping that does not fit.
var errNoMemory = syscall.ENOMEM

// limitAddressSpace lets the process have room more bytes of address space
// than it has now (RLIMIT_AS), until liftAddressSpaceLimit.
func limitAddressSpace(room uint64) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return err
			}
			var lim unix.Rlimit
			if err := unix.Getrlimit(unix.RLIMIT_AS, &lim); err != nil {
				return err
			}
			lim.Cur = kib<<10 + room
			return unix.Setrlimit(unix.RLIMIT_AS, &lim)
		}
	}
	return fmt.Errorf("no VmSize in /proc/self/status")
}

// liftAddressSpaceLimit raises the limit to the hard limit.
func liftAddressSpaceLimit() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	return unix.Setrlimit(unix.RLIMIT_AS, &lim)
}
