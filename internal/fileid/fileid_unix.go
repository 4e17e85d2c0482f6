//go:build unix

package fileid

import "golang.org/x/sys/unix"

func of(fd uintptr) (dev, ino uint64, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return 0, 0, err
	}
	return uint64(st.Dev), uint64(st.Ino), nil
}
