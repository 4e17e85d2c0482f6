package fileid

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Holders returns the IDs of the processes that hold a lock on the file
// whose identity is id, as /proc/locks lists them: the process that took
// each lock, where the kernel knows it.
func Holders(id Info) []int {
	f, err := os.Open("/proc/locks")
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(id.Dev), unix.Minor(id.Dev), id.Ino)
	var pids []int
	s := bufio.NewScanner(f)
	for s.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 3567 fd:01:1704236 0 EOF"
		fields := strings.Fields(s.Text())
		if len(fields) < 6 || fields[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}
