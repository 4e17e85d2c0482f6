//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// nbdClient is the least NBD client that talks to a cacheDisk the way
// qemu's does: the fixed newstyle handshake with NBD_OPT_GO, then simple
// requests, one at a time.
type nbdClient struct {
	t      *testing.T
	c      net.Conn
	r      *bufio.Reader
	handle uint64
}

// dialNBD connects to d and reads the server's greeting.
func dialNBD(t *testing.T, d *cacheDisk) *nbdClient {
	t.Helper()
	c, err := net.Dial("unix", strings.TrimPrefix(d.URI(), "nbd+unix:///?socket="))
	if err != nil {
		t.Fatal(err)
	}
	cl := &nbdClient{t: t, c: c, r: bufio.NewReader(c)}
	var hello struct {
		Magic, OptMagic uint64
		Flags           uint16
	}
	cl.read(&hello)
	if hello.Magic != nbdMagic || hello.OptMagic != nbdOptMagic || hello.Flags&nbdFlagFixedNewstyle == 0 {
		t.Fatalf("handshake: %+v", hello)
	}
	return cl
}

// dialCacheDisk connects to d and negotiates as qemu does.
func dialCacheDisk(t *testing.T, d *cacheDisk) *nbdClient {
	t.Helper()
	cl := dialNBD(t, d)
	// An option the server does not know, then GO for the default export
	// with no information requests.
	cl.write(uint32(nbdFlagFixedNewstyle | nbdFlagNoZeroes))
	cl.write(uint64(nbdOptMagic), uint32(8), uint32(0))
	var unsup struct {
		Magic    uint64
		Opt, Typ uint32
		Length   uint32
	}
	cl.read(&unsup)
	if unsup.Typ != nbdRepErrUnsup {
		t.Fatalf("reply to an unknown option: %+v", unsup)
	}
	cl.write(uint64(nbdOptMagic), uint32(nbdOptGo), uint32(6), uint32(0), uint16(0))
	var info struct {
		Magic         uint64
		Opt, Typ, Len uint32
		InfoType      uint16
		Size          uint64
		Flags         uint16
	}
	cl.read(&info)
	if info.Typ != nbdRepInfo || info.Size != uint64(d.size) || info.Flags&nbdFlagSendFlush == 0 {
		t.Fatalf("export info: %+v", info)
	}
	var ack struct {
		Magic         uint64
		Opt, Typ, Len uint32
	}
	cl.read(&ack)
	if ack.Typ != nbdRepAck {
		t.Fatalf("GO: %+v", ack)
	}
	return cl
}

func (cl *nbdClient) read(v any) {
	cl.t.Helper()
	if err := binary.Read(cl.r, binary.BigEndian, v); err != nil {
		cl.t.Fatal(err)
	}
}

// write sends vs in one write, so that a server that stops reading after
// their first part does not make it fail.
func (cl *nbdClient) write(vs ...any) {
	cl.t.Helper()
	var b bytes.Buffer
	for _, v := range vs {
		if err := binary.Write(&b, binary.BigEndian, v); err != nil {
			cl.t.Fatal(err)
		}
	}
	if _, err := cl.c.Write(b.Bytes()); err != nil {
		cl.t.Fatal(err)
	}
}

// request sends one request and returns the reply's error and data.
func (cl *nbdClient) request(typ uint16, off int64, n uint32, data []byte) (uint32, []byte) {
	cl.t.Helper()
	cl.handle++
	cl.write(uint32(nbdReqMagic), uint16(0), typ, cl.handle, uint64(off), n)
	if data != nil {
		cl.write(data)
	}
	var reply struct {
		Magic, Errno uint32
		Handle       uint64
	}
	cl.read(&reply)
	if reply.Magic != nbdSimpleRepl || reply.Handle != cl.handle {
		cl.t.Fatalf("reply %+v to request %d", reply, cl.handle)
	}
	var got []byte
	if typ == nbdCmdRead && reply.Errno == 0 {
		got = make([]byte, n)
		cl.read(got)
	}
	return reply.Errno, got
}

func newTestImage(t *testing.T, size int) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestCacheDisk(t *testing.T) {
	img := newTestImage(t, 1<<16)
	var flushes []int
	d, err := newCacheDisk(img, filepath.Join(t.TempDir(), "nbd.sock"), rand.New(rand.NewPCG(1, 2)), func(w int, _ waiting) { flushes = append(flushes, w) })
	if err != nil {
		t.Fatal(err)
	}
	cl := dialCacheDisk(t, d)
	flushed := bytes.Repeat([]byte{1}, 4096)
	unflushed := bytes.Repeat([]byte{2}, 1024)
	if errno, _ := cl.request(nbdCmdWrite, 4096, 4096, flushed); errno != 0 {
		t.Fatalf("write: errno %d", errno)
	}
	if errno, _ := cl.request(nbdCmdFlush, 0, 0, nil); errno != 0 {
		t.Fatalf("flush: errno %d", errno)
	}
	// Unflushed, and over part of the flushed write.
	cl.request(nbdCmdWrite, 7680, 1024, unflushed)
	_, got := cl.request(nbdCmdRead, 4096, 8192, nil)
	want := append(append(bytes.Repeat([]byte{1}, 3584), unflushed...), make([]byte, 3584)...)
	if !bytes.Equal(got, want) {
		t.Error("a read does not see the cached write over the flushed one")
	}
	if errno, _ := cl.request(nbdCmdRead, 1<<16-512, 1024, nil); errno != errInval {
		t.Errorf("a read past the end: errno %d, want %d", errno, errInval)
	}
	d.powerOff()
	cl.c.Close()
	if err := d.close(); err != nil {
		t.Fatal(err)
	}
	if len(flushes) != 1 || flushes[0] != 1 {
		t.Errorf("onFlush calls: %v, want one with 1 write", flushes)
	}
	if d.unflushed != 2 || d.persisted > 2 {
		t.Errorf("at the cut: %d unflushed sectors, %d kept; want 2 unflushed", d.unflushed, d.persisted)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	// The flushed write is there, except where the unflushed one may have
	// reached the image; each of its two sectors is whole, old or new.
	if !bytes.Equal(b[4096:7680], flushed[:3584]) {
		t.Error("the flushed write is not in the image")
	}
	for _, s := range []struct {
		got []byte
		old byte
	}{{b[7680:8192], 1}, {b[8192:8704], 0}} {
		if !bytes.Equal(s.got, bytes.Repeat([]byte{2}, 512)) && !bytes.Equal(s.got, bytes.Repeat([]byte{s.old}, 512)) {
			t.Errorf("a sector of the unflushed write is neither old nor new: % x...", s.got[:8])
		}
	}
}

// TestCacheDiskWaiting checks that a flush tells the blocks of the array's
// header, of a sidecar slot and of the live area from those of records,
// wherever they lie in the writes that wait.
func TestCacheDiskWaiting(t *testing.T) {
	hdr, err := npy.Build(npy.DType{Str: "<u8"}, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	block := func(fill func(b []byte)) []byte {
		b := bytes.Repeat([]byte{0xa5}, blockSize)
		fill(b)
		return b
	}
	header := block(func(b []byte) { copy(b, hdr) })
	slot := block(func(b []byte) { arrayfile.PutSlot(b, arrayfile.Slot{Seq: 2, Count: 3, Header: hdr}) })
	control := make([]byte, arrayfile.ControlSize)
	arrayfile.PutControl(control, arrayfile.Control{Dev: 1, Ino: 2, SlotSize: blockSize})
	records := block(func([]byte) {})
	for _, c := range []struct {
		name   string
		writes []diskWrite
		want   string
	}{
		{"records", []diskWrite{{0, records}, {blockSize, records}}, "records"},
		{"the header", []diskWrite{{0, header}}, "header"},
		{"a slot after the header", []diskWrite{{0, header}, {3 * blockSize, slot}}, "slot"},
		{"the live area within a longer write", []diskWrite{{blockSize, append(append(records, control...), records...)}}, "records+live"},
		{"a header not at a block's start", []diskWrite{{512, header}}, "records"},
		{"a slot and the live area", []diskWrite{{0, control}, {blockSize, slot}}, "slot+live"},
	} {
		d := &cacheDisk{pending: c.writes}
		if got := d.waiting().String(); got != c.want {
			t.Errorf("%s: %s waits, want %s", c.name, got, c.want)
		}
	}
}

// TestCacheDiskFates checks that over many cuts every fate of the
// unflushed writes comes up: all lost, all kept, and some of each.
func TestCacheDiskFates(t *testing.T) {
	var none, all, some int
	for seed := range uint64(40) {
		img := newTestImage(t, 1<<14)
		d, err := newCacheDisk(img, filepath.Join(t.TempDir(), "nbd.sock"), rand.New(rand.NewPCG(seed, 0)), func(int, waiting) {})
		if err != nil {
			t.Fatal(err)
		}
		cl := dialCacheDisk(t, d)
		for i := range 4 {
			cl.request(nbdCmdWrite, int64(i)*4096, 4096, bytes.Repeat([]byte{byte(i + 1)}, 4096))
		}
		d.powerOff()
		cl.c.Close()
		if err := d.close(); err != nil {
			t.Fatal(err)
		}
		switch d.persisted {
		case 0:
			none++
		case d.unflushed:
			all++
		default:
			some++
		}
	}
	if none == 0 || all == 0 || some == 0 {
		t.Errorf("over 40 cuts: %d lost all, %d kept all, %d kept some", none, all, some)
	}
}

// newTestDisk serves a new image of size bytes; cuts and flushes are seeded
// with seed.
func newTestDisk(t *testing.T, size int, seed uint64, onFlush func(*cacheDisk, int)) *cacheDisk {
	t.Helper()
	var d *cacheDisk
	d, err := newCacheDisk(newTestImage(t, size), filepath.Join(t.TempDir(), "nbd.sock"), rand.New(rand.NewPCG(seed, 0)),
		func(w int, _ waiting) { onFlush(d, w) })
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func noFlushCut(*cacheDisk, int) {}

// TestCacheDiskExportName negotiates with the oldest option, without
// NoZeroes, then sends a command the server does not know and disconnects.
func TestCacheDiskExportName(t *testing.T) {
	d := newTestDisk(t, 1<<12, 1, noFlushCut)
	cl := dialNBD(t, d)
	cl.write(uint32(nbdFlagFixedNewstyle), uint64(nbdOptMagic), uint32(nbdOptExportName), uint32(0))
	var export struct {
		Size   uint64
		Flags  uint16
		Zeroes [124]byte
	}
	cl.read(&export)
	if export.Size != 1<<12 || export.Flags != transmitFlags || export.Zeroes != [124]byte{} {
		t.Fatalf("export: %+v", export)
	}
	if errno, _ := cl.request(9, 0, 0, nil); errno != errInval {
		t.Errorf("an unknown command: errno %d, want %d", errno, errInval)
	}
	cl.write(uint32(nbdReqMagic), uint16(0), uint16(nbdCmdDisc), uint64(0), uint64(0), uint32(0))
	if err := d.close(); err != nil {
		t.Error(err)
	}
	cl.c.Close()
}

func TestCacheDiskAbort(t *testing.T) {
	d := newTestDisk(t, 1<<12, 1, noFlushCut)
	cl := dialNBD(t, d)
	cl.write(uint32(nbdFlagFixedNewstyle|nbdFlagNoZeroes), uint64(nbdOptMagic), uint32(nbdOptAbort), uint32(0))
	var ack struct {
		Magic         uint64
		Opt, Typ, Len uint32
	}
	cl.read(&ack)
	if ack.Typ != nbdRepAck || ack.Opt != nbdOptAbort {
		t.Errorf("abort: %+v", ack)
	}
	if err := d.close(); err != nil {
		t.Error(err)
	}
	cl.c.Close()
}

// TestCacheDiskProtocolErrors checks that a client that breaks the
// protocol ends the connection with an error, and one that goes away does
// not.
func TestCacheDiskProtocolErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(cl *nbdClient)
		want string // "" for no error
	}{
		{"option magic", func(cl *nbdClient) {
			cl.write(uint32(nbdFlagNoZeroes), uint64(1), uint32(nbdOptGo), uint32(0))
		}, "option magic"},
		{"a long option", func(cl *nbdClient) {
			cl.write(uint32(nbdFlagNoZeroes), uint64(nbdOptMagic), uint32(nbdOptGo), uint32(1<<20))
		}, "option 7 of 1048576 bytes"},
		{"gone in the handshake", func(cl *nbdClient) {
			cl.write(uint32(nbdFlagNoZeroes), uint64(nbdOptMagic))
		}, ""},
		{"request magic", func(cl *nbdClient) {
			cl.write(uint32(nbdFlagNoZeroes), uint64(nbdOptMagic), uint32(nbdOptExportName), uint32(0))
			cl.read(&struct {
				Size  uint64
				Flags uint16
			}{})
			cl.write(uint32(1), uint16(0), uint16(nbdCmdRead), uint64(1), uint64(0), uint32(512))
		}, "request magic"},
	} {
		d := newTestDisk(t, 1<<12, 1, noFlushCut)
		cl := dialNBD(t, d)
		c.send(cl)
		if c.want == "" {
			cl.c.Close()
		}
		err := <-d.done
		d.done <- err // for close
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v; want an error saying %q", c.name, err, c.want)
		}
		cl.c.Close()
		d.close()
	}
}

// TestCacheDiskNeverConnected closes a disk qemu never connected to.
func TestCacheDiskNeverConnected(t *testing.T) {
	d := newTestDisk(t, 1<<12, 1, noFlushCut)
	if err := d.close(); err != nil || d.unflushed != 0 {
		t.Errorf("close: %v, %d unflushed sectors", err, d.unflushed)
	}
	if _, err := newCacheDisk(filepath.Join(t.TempDir(), "missing.img"), filepath.Join(t.TempDir(), "nbd.sock"), nil, nil); err == nil {
		t.Error("a disk over a missing image")
	}
}

// TestCacheDiskCutInFlush cuts the power as a flush of waiting writes
// begins, as the flush plan does: the flush must not happen, however short
// it would have been, and a write qemu sends after the cut joins the
// unflushed ones.
func TestCacheDiskCutInFlush(t *testing.T) {
	for seed := range uint64(20) {
		d := newTestDisk(t, 1<<14, seed, func(d *cacheDisk, _ int) { d.powerOff() })
		cl := dialCacheDisk(t, d)
		cl.request(nbdCmdWrite, 0, 1024, bytes.Repeat([]byte{1}, 1024))
		// No reply comes to these.
		cl.write(uint32(nbdReqMagic), uint16(0), uint16(nbdCmdFlush), uint64(100), uint64(0), uint32(0))
		cl.write(uint32(nbdReqMagic), uint16(0), uint16(nbdCmdWrite), uint64(101), uint64(4096), uint32(512), bytes.Repeat([]byte{2}, 512))
		cl.write(uint32(nbdReqMagic), uint16(0), uint16(nbdCmdFlush), uint64(102), uint64(0), uint32(0))
		cl.c.Close()
		if err := d.close(); err != nil {
			t.Fatal(err)
		}
		if d.unflushed != 3 {
			t.Fatalf("seed %d: %d unflushed sectors at the cut, want 3: a flush happened after the power went", seed, d.unflushed)
		}
	}
}
