// Tail shows one writer and a live reader in another process: the writer
// appends readings to an mmap.Array and syncs every few of them; the reader,
// started while the writer works, follows the file and prints each reading
// as it arrives, with how long after its append it saw it.
//
//	go run ./examples/tail            # 50 readings, synced every 5
//	go run ./examples/tail -n 200 -every 20
//
// It runs itself twice more, as the writer and as the reader.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/typedmmap/mmap"
)

// Reading is one record: when it was taken and what it says.
type Reading struct {
	Seq   int64
	Time  int64 // Unix nanoseconds, at Append
	Value float64
}

func main() {
	role := flag.String("role", "", "writer or reader: what this process does (set by the parent)")
	path := flag.String("path", "", "the array file (set by the parent)")
	n := flag.Int("n", 50, "readings to write")
	every := flag.Int("every", 5, "sync after this many readings")
	flag.Parse()
	log.SetFlags(0)
	var err error
	switch *role {
	case "writer":
		err = write(*path, *n, *every)
	case "reader":
		err = read(*path, *n)
	case "":
		err = run(*n, *every)
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		log.Fatalf("tail %s: %v", *role, err)
	}
}

// run starts the writer and, once the file exists, the reader, and waits
// for both.
func run(n, every int) error {
	if n <= 0 || every <= 0 {
		return fmt.Errorf("-n and -every must be positive, got %d and %d", n, every)
	}
	dir, err := os.MkdirTemp("", "tail-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "readings.npy")
	if err := create(path); err != nil {
		return err
	}
	fmt.Printf("writer and reader share %s\n", path)
	writer := child("writer", path, n, every)
	reader := child("reader", path, n, every)
	for _, c := range []*exec.Cmd{writer, reader} {
		if err := c.Start(); err != nil {
			return err
		}
	}
	return errors.Join(writer.Wait(), reader.Wait())
}

// create makes the empty array the writer then opens, so that the reader
// can open it whichever process starts first.
func create(path string) error {
	a, err := mmap.Create[Reading](path)
	if err != nil {
		return err
	}
	return a.Close()
}

func child(role, path string, n, every int) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	c := exec.Command(exe, "-role", role, "-path", path, "-n", fmt.Sprint(n), "-every", fmt.Sprint(every))
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	return c
}

// write appends n readings, one every 2 ms, and syncs after every few: a
// Sync makes them durable and shows them to readers in other processes.
func write(path string, n, every int) error {
	a, err := mmap.Open[Reading](path, mmap.RDWR)
	if err != nil {
		return err
	}
	for i := range n {
		r := Reading{Seq: int64(i), Time: time.Now().UnixNano(), Value: math.Sin(float64(i) / 5)}
		if err := a.Append(r); err != nil {
			a.Close()
			return err
		}
		if (i+1)%every == 0 || i == n-1 {
			if err := a.Sync(); err != nil {
				a.Close()
				return err
			}
			fmt.Printf("writer: synced %d readings\n", a.Len())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return a.Close()
}

// read follows the array and prints every reading as it arrives.
func read(path string, n int) error {
	a, err := mmap.Open[Reading](path, mmap.RDONLY)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for r, err := range a.Follow(ctx, 0) {
		if err != nil {
			return err
		}
		late := time.Duration(time.Now().UnixNano() - r.Time)
		fmt.Printf("reader:   reading %3d = %+.3f, seen %v after its append\n", r.Seq, r.Value, late.Round(10*time.Microsecond))
		if r.Seq == int64(n-1) {
			return nil
		}
	}
	return nil
}
