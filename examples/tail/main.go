// Tail shows one writer and a live reader in another process: the writer
// appends readings to an mmap.Array, publishes each at once and syncs every
// few of them; the reader, started once the writer has the file, follows it
// and prints each reading as it arrives, with how long after its append it
// saw it, until the writer closes the array and the stream ends.
//
//	go run ./examples/tail            # 50 readings, synced every 5
//	go run ./examples/tail -n 200 -every 20
//
// It runs itself twice more, as the writer and as the reader.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
		err = read(*path)
	case "":
		err = run(*n, *every)
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		log.Fatalf("tail %s: %v", *role, err)
	}
}

// run starts the writer and, once it has the file open, the reader, and
// waits for both.
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
	writer.Stdout = nil
	out, err := writer.StdoutPipe()
	if err != nil {
		return err
	}
	if err := writer.Start(); err != nil {
		return err
	}
	// The writer's first line says that it has the file open: a reader
	// that started before would find no writer, and its stream ended.
	lines := bufio.NewReader(out)
	first, err := lines.ReadString('\n')
	fmt.Print(first)
	if err != nil {
		return errors.Join(err, writer.Wait())
	}
	reader := child("reader", path, n, every)
	if err := reader.Start(); err != nil {
		return errors.Join(err, writer.Wait())
	}
	_, err = io.Copy(os.Stdout, lines)
	return errors.Join(err, writer.Wait(), reader.Wait())
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

// write appends n readings, one every 2 ms: each is published as it is
// appended (WithAutoPublish), so readers in other processes see it at
// once, and every few are synced, which makes them durable. Close syncs
// the rest and ends the stream.
func write(path string, n, every int) error {
	a, err := mmap.Open[Reading](path, mmap.RDWR, mmap.WithAutoPublish())
	if err != nil {
		return err
	}
	fmt.Println("writer: open")
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

// read follows the array and prints every reading as it arrives, until
// the stream ends: Follow ends when the writer closes, and yields
// mmap.ErrWriterDied if it dies first.
func read(path string) error {
	a, err := mmap.Open[Reading](path, mmap.RDONLY)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for r, err := range a.Follow(ctx, 0) {
		if errors.Is(err, mmap.ErrWriterDied) {
			fmt.Printf("reader:   the writer died after %d readings\n", a.Len())
			return nil
		}
		if err != nil {
			return err
		}
		late := time.Duration(time.Now().UnixNano() - r.Time)
		fmt.Printf("reader:   reading %3d = %+.3f, seen %v after its append\n", r.Seq, r.Value, late.Round(time.Microsecond))
	}
	fmt.Printf("reader:   the writer closed after %d readings: the stream has ended\n", a.Len())
	return nil
}
