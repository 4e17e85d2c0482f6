package mmap_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/typedmmap/mmap"
)

// tempFile writes data to a new file and returns its path and a function that
// removes it. (os.Remove, not os.RemoveAll, so that it also works under Wine.)
func tempFile(data []byte) (string, func()) {
	dir, err := os.MkdirTemp("", "mmap-example-")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "data")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
	return path, func() {
		os.Remove(path)
		os.Remove(dir)
	}
}

func ExampleMap() {
	path, cleanup := tempFile([]byte("hello, mapped world"))
	defer cleanup()

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	f.Close() // the mapping stays valid
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unmap()

	fmt.Printf("%d bytes: %s\n", len(m), m[7:])
	// Output: 19 bytes: mapped world
}

func ExampleMapRegion() {
	path, cleanup := tempFile([]byte("0123456789abcdef"))
	defer cleanup()

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	// Any offset works; a negative length maps to the end of the file.
	m, err := mmap.MapRegion(f, -1, mmap.RDONLY, 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unmap()
	fmt.Printf("%s\n", m)

	// A region past the end of the file is refused, not mapped.
	_, err = mmap.MapRegion(f, 8, mmap.RDONLY, 0, 10)
	fmt.Println(err)
	// Output:
	// abcdef
	// mmap: region at offset 10, length 8 runs past the end (size 16)
}

func ExampleMMap_Flush() {
	path, cleanup := tempFile([]byte("hello, world"))
	defer cleanup()

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, err := mmap.Map(f, mmap.RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	copy(m[7:], "there")
	// Flush waits until the changed pages are written to the file.
	if err := m.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := m.Unmap(); err != nil {
		log.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", b)
	// Output: hello, there
}
