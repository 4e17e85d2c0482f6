package mmap

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/boot"
	"github.com/typedmmap/mmap/internal/fileid"
	"github.com/typedmmap/mmap/internal/npy"
)

// TestArrayVersion1Sidecar opens a file next to a sidecar of version 1, as
// a writer from before live publishing leaves it when it is killed between
// the slot and the header of a Sync: the header counts 3 records, the
// newest slot 5, and the file has room for 8. A reader takes the slot's 5
// and nothing from the live area; the next writer takes the 5 too, writes
// the sidecar afresh as version 2, and the reader, still open, follows
// what that writer publishes.
func TestArrayVersion1Sidecar(t *testing.T) {
	for _, c := range []struct {
		name string
		live func(b []byte) // writes the live area of the control page b
	}{
		{"as version 1 wrote it", func(b []byte) {
			// A sequence number of publishes, and the count last synced.
			binary.NativeEndian.PutUint32(b[arrayfile.LiveSleepersOffset:], 9)
			binary.NativeEndian.PutUint64(b[arrayfile.LiveWordOffset:], 3)
		}},
		{"holding what version 2 reads as 7 records published in this boot", func(b []byte) {
			arrayfile.PutLive(b, arrayfile.Live{Count: 7, Boot: boot.ID()}, binary.NativeEndian)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := arrayPath(t)
			writeArray(t, path, 8)
			hdr3, hdr5 := crashedBetweenSlotAndHeader(t, path)
			writeVersion1Sidecar(t, path, [2]arrayfile.Slot{{Seq: 1, Count: 3, Header: hdr3}, {Seq: 2, Count: 5, Header: hdr5}}, c.live)

			r := mustOpen[rec](t, path, RDONLY)
			checkRecs(t, r, 5)
			if err := r.Refresh(); err != nil {
				t.Fatal(err)
			}
			checkRecs(t, r, 5)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Wait(ctx, 6); !errors.Is(err, ErrWriterClosed) || !strings.Contains(err.Error(), "no writer has it open") {
				t.Fatalf("Wait with no writer: %v; want ErrWriterClosed, no writer", err)
			}

			w := mustOpen[rec](t, path, RDWR)
			checkRecs(t, w, 5)
			checkVersion2Sidecar(t, path, 5)
			if h, err := npy.Parse(fileBytes(t, path)); err != nil || h.Shape[0] != 5 {
				t.Errorf("the header once a writer opened it: %v, %v; want it repaired to count 5", h, err)
			}
			appendN(t, w, 5, 6)
			if err := w.Publish(); err != nil {
				t.Fatal(err)
			}
			if err := r.Wait(ctx, 6); err != nil {
				t.Fatalf("the reader's Wait for the record the writer published: %v", err)
			}
			checkRecs(t, r, 6)
			mustClose(t, w)
			if err := r.Wait(ctx, 7); !errors.Is(err, ErrWriterClosed) || !strings.Contains(err.Error(), "after 6 records") {
				t.Fatalf("Wait after the writer closed: %v; want ErrWriterClosed after 6 records", err)
			}
			mustClose(t, r)
			// The writer left the sidecar and the spare room for the
			// reader it had; the next writer's close takes them away.
			mustClose(t, mustOpen[rec](t, path, RDWR))
			checkClosedFile(t, path, 6)
		})
	}
}

// crashedBetweenSlotAndHeader rewrites the header of the array file at
// path to count 3 records, as a crash leaves it after a Sync of 5 wrote its
// slot and before it wrote the header, and returns the headers of 3 and 5.
func crashedBetweenSlotAndHeader(t *testing.T, path string) (hdr3, hdr5 []byte) {
	t.Helper()
	b := fileBytes(t, path)
	h, err := npy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if hdr3, err = h.Rewrite(b[:h.Len], 3); err != nil {
		t.Fatal(err)
	}
	if hdr5, err = h.Rewrite(b[:h.Len], 5); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(hdr3, 0); err != nil {
		t.Fatal(err)
	}
	return hdr3, hdr5
}

// writeVersion1Sidecar writes a sidecar of version 1 (FORMAT.md) for the
// array file at path: its slots, and the live area that live writes.
func writeVersion1Sidecar(t *testing.T, path string, slots [2]arrayfile.Slot, live func([]byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := fileid.Stat(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctl := arrayfile.Control{Dev: id.Dev, Ino: id.Ino, SlotSize: arrayfile.SlotSize(len(slots[0].Header))}
	b := make([]byte, arrayfile.SidecarSize(ctl.SlotSize))
	arrayfile.PutControl(b, ctl)
	// PutControl writes the current version; version 1's control header
	// differs in that field alone, and so in its CRC-32C at 60.
	binary.LittleEndian.PutUint32(b[8:], 1)
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)))
	live(b)
	for i, s := range slots {
		arrayfile.PutSlot(b[ctl.SlotOffset(i):], s)
	}
	if got, err := arrayfile.ParseControl(b); err != nil || got.Version != 1 {
		t.Fatalf("the sidecar written as version 1 reads as %+v, %v", got, err)
	}
	if err := os.WriteFile(path+arrayfile.Suffix, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkVersion2Sidecar checks that the sidecar of the array file at path
// is of version 2, with a newest slot and a live word that count n records,
// published in this boot by a writer that has not closed.
func checkVersion2Sidecar(t *testing.T, path string, n int64) {
	t.Helper()
	b := fileBytes(t, path+arrayfile.Suffix)
	ctl, err := arrayfile.ParseControl(b)
	if err != nil || ctl.Version != arrayfile.SidecarVersion {
		t.Fatalf("the sidecar's control page once a writer opened it: %+v, %v; want version %d", ctl, err, arrayfile.SidecarVersion)
	}
	var newest arrayfile.Slot
	for i := range 2 {
		if s, err := arrayfile.ParseSlot(b[ctl.SlotOffset(i) : ctl.SlotOffset(i)+ctl.SlotSize]); err == nil && s.Seq > newest.Seq {
			newest = s
		}
	}
	if newest.Count != n {
		t.Errorf("the sidecar's newest slot counts %d records; want %d", newest.Count, n)
	}
	if l := arrayfile.ParseLive(b, binary.NativeEndian); l.Count != n || l.Ended || l.Boot != boot.ID() {
		t.Errorf("the sidecar's live area holds %+v; want %d records of this boot, not ended", l, n)
	}
}
