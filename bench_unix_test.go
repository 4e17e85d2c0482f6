//go:build unix

package mmap

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkOpen maps and unmaps a file: the cost must not depend on its
// size beyond what the kernel itself charges, and must stay close to a bare
// mmap and munmap of the same range, and to fstat, mmap and munmap (the
// least a mapping that checks the file's size can do).
func BenchmarkOpen(b *testing.B) {
	for _, c := range []struct {
		name string
		size int64
	}{
		{"size=1MiB", 1 << 20},
		{"size=16GiB", 16 << 30},
	} {
		path := filepath.Join(tempDir(b), "sparse")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Truncate(path, c.size); err != nil {
			b.Fatal(err)
		}
		f := openFile(b, path, os.O_RDONLY)
		b.Run(c.name+"/impl=MapSlice", func(b *testing.B) {
			for b.Loop() {
				s, err := MapSlice[benchRec](f, RDONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Unmap(); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What any mapping that stays inside the file must do at least:
		// learn the file's size, then map.
		b.Run(c.name+"/impl=unix.Fstat+Mmap", func(b *testing.B) {
			var st unix.Stat_t
			for b.Loop() {
				if err := unix.Fstat(int(f.Fd()), &st); err != nil {
					b.Fatal(err)
				}
				m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
				if err != nil {
					b.Fatal(err)
				}
				if err := unix.Munmap(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/impl=unix.Mmap", func(b *testing.B) {
			for b.Loop() {
				m, err := unix.Mmap(int(f.Fd()), 0, int(c.size), unix.PROT_READ, unix.MAP_SHARED)
				if err != nil {
					b.Fatal(err)
				}
				if err := unix.Munmap(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
