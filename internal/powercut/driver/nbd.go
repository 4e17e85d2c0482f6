//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
	"github.com/typedmmap/mmap/internal/npy"
)

// cacheDisk is a disk with a volatile write cache, served to qemu over NBD
// from an image file. It completes each write at once but keeps it in
// memory, visible to reads, until a flush writes it to the image (a flush
// takes a few milliseconds, like a real disk's). When the power is cut (qemu
// dies and the connection closes), each 512-byte sector of the writes not
// yet flushed reaches the image or not: the unflushed writes are lost,
// torn at sector boundaries and reordered, as on a real disk whose
// cache loses power (see cut). Every write a flush covered is kept.
type cacheDisk struct {
	img     *os.File
	size    int64
	ln      net.Listener
	rng     *rand.Rand
	pending []diskWrite // completed, not flushed, in order
	done    chan error  // the outcome of serve, once the connection ends
	// onFlush is called when a flush of unflushed writes starts, with how
	// many writes wait for it and what they hold, so that a cut can come
	// then. It runs on the server's goroutine.
	onFlush func(writes int, w waiting)
	off     chan struct{} // closed by powerOff
	offOnce sync.Once
	// At the cut: the unflushed sectors, and how many of them reached the
	// image.
	unflushed, persisted int
}

// diskWrite is one write in the cache.
type diskWrite struct {
	off  int64
	data []byte
}

// The parts of the NBD protocol (the "fixed newstyle" handshake, simple
// replies) that qemu's client needs, from the NBD protocol document.
const (
	nbdMagic      = 0x4e42444d41474943 // "NBDMAGIC"
	nbdOptMagic   = 0x49484156454f5054 // "IHAVEOPT"
	nbdReplyMagic = 0x0003e889045565a9 // option replies
	nbdReqMagic   = 0x25609513
	nbdSimpleRepl = 0x67446698

	nbdFlagFixedNewstyle = 1 << 0 // handshake flags
	nbdFlagNoZeroes      = 1 << 1
	nbdFlagHasFlags      = 1 << 0 // transmission flags
	nbdFlagSendFlush     = 1 << 2

	nbdOptExportName = 1
	nbdOptAbort      = 2
	nbdOptInfo       = 6
	nbdOptGo         = 7

	nbdRepAck      = 1
	nbdRepInfo     = 3
	nbdRepErrUnsup = 1<<31 | 1
	nbdInfoExport  = 0

	nbdCmdRead  = 0
	nbdCmdWrite = 1
	nbdCmdDisc  = 2
	nbdCmdFlush = 3

	errIO    = 5 // errno values in replies
	errInval = 22
)

// maxFlushTime bounds how long a flush takes. A real disk takes
// milliseconds; so that cuts land while writes wait for a flush, this one
// takes a random time up to this.
const maxFlushTime = 4 * time.Millisecond

// sectorSize is the unit in which an unflushed write reaches the image or
// not.
const sectorSize = 512

// waiting says what the writes that wait for a flush hold, told by the
// blocks they write whole: the page cache writes a page of a file as one
// block of the file system, 4096 bytes at a multiple of 4096 on the disk.
type waiting struct {
	header bool // the array file's first block, with its header (npy.Parse reads it)
	slot   bool // a slot of the sidecar (arrayfile.ParseSlot reads it)
	live   bool // the sidecar's control page, with the live area (it starts with arrayfile.SidecarMagic)
}

// blockSize is the file system's block, and the page cache's page.
const blockSize = 4096

// String names what waits: "slot", "header" (and no slot), or "records"
// (neither), with "+live" when the live area waits too.
func (w waiting) String() string {
	s := "records"
	switch {
	case w.slot:
		s = "slot"
	case w.header:
		s = "header"
	}
	if w.live {
		s += "+live"
	}
	return s
}

// waiting tells what the unflushed writes hold. A slot of more than one
// block (a header of more than 4 KiB) is not told apart; the test's array
// has a short header.
func (d *cacheDisk) waiting() waiting {
	var w waiting
	for _, p := range d.pending {
		end := p.off + int64(len(p.data))
		for at := (p.off + blockSize - 1) / blockSize * blockSize; at+blockSize <= end; at += blockSize {
			b := p.data[at-p.off : at-p.off+blockSize]
			if bytes.HasPrefix(b, []byte(arrayfile.SidecarMagic)) {
				w.live = true
			} else if _, err := arrayfile.ParseSlot(b); err == nil {
				w.slot = true
			} else if bytes.HasPrefix(b, []byte(npy.Magic)) {
				if _, err := npy.Parse(b); err == nil {
					w.header = true
				}
			}
		}
	}
	return w
}

// newCacheDisk serves the image at img on a Unix socket at sock, for one
// machine. See [cacheDisk] for onFlush.
func newCacheDisk(img, sock string, rng *rand.Rand, onFlush func(writes int, w waiting)) (*cacheDisk, error) {
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		f.Close()
		return nil, err
	}
	d := &cacheDisk{img: f, size: st.Size(), ln: ln, rng: rng, done: make(chan error, 1), onFlush: onFlush, off: make(chan struct{})}
	go func() { d.done <- d.serve() }()
	return d, nil
}

// URI is the disk as qemu's -drive file= takes it.
func (d *cacheDisk) URI() string { return "nbd+unix:///?socket=" + d.ln.Addr().String() }

// powerOff cuts the disk's power, at the moment qemu is killed: from now on
// no flush completes and no request is answered. The writes qemu had sent
// still arrive, and join the unflushed ones.
func (d *cacheDisk) powerOff() { d.offOnce.Do(func() { close(d.off) }) }

// isOff reports whether powerOff was called.
func (d *cacheDisk) isOff() bool {
	select {
	case <-d.off:
		return true
	default:
		return false
	}
}

// close waits for the connection to end, which it does when qemu dies (or
// at once if qemu never connected), decides the fate of the unflushed
// writes, and closes the image.
func (d *cacheDisk) close() error {
	d.powerOff()
	d.ln.Close()
	err := <-d.done
	d.cut()
	return errors.Join(err, d.img.Close())
}

// serve serves one connection, until it ends.
func (d *cacheDisk) serve() error {
	c, err := d.ln.Accept()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	d.ln.Close()
	r, w := &nbdReader{r: bufio.NewReader(c)}, &nbdWriter{w: bufio.NewWriter(c)}
	done, err := d.handshake(r, w)
	if err != nil || done {
		return ignoreEOF(err)
	}
	return ignoreEOF(d.transmit(r, w))
}

// ignoreEOF turns the end of the connection into no error: qemu is killed.
func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return nil // connection reset
	}
	return err
}

// nbdReader reads big-endian integers; its first error sticks.
type nbdReader struct {
	r   *bufio.Reader
	err error
}

func (s *nbdReader) read(n int) []byte {
	b := make([]byte, n)
	if s.err == nil {
		_, s.err = io.ReadFull(s.r, b)
	}
	return b
}

func (s *nbdReader) u16() uint16 { return binary.BigEndian.Uint16(s.read(2)) }
func (s *nbdReader) u32() uint32 { return binary.BigEndian.Uint32(s.read(4)) }
func (s *nbdReader) u64() uint64 { return binary.BigEndian.Uint64(s.read(8)) }

// nbdWriter writes big-endian integers, buffered; its first error sticks.
type nbdWriter struct {
	w   *bufio.Writer
	err error
}

// put writes integers of the sizes of their types, and byte slices.
func (s *nbdWriter) put(vs ...any) {
	for _, v := range vs {
		if s.err == nil {
			if b, ok := v.([]byte); ok {
				_, s.err = s.w.Write(b)
			} else {
				s.err = binary.Write(s.w, binary.BigEndian, v)
			}
		}
	}
}

// flush sends what put wrote.
func (s *nbdWriter) flush() {
	if s.err == nil {
		s.err = s.w.Flush()
	}
}

const transmitFlags = uint16(nbdFlagHasFlags | nbdFlagSendFlush)

// handshake negotiates the export. It reports whether the client left.
func (d *cacheDisk) handshake(r *nbdReader, w *nbdWriter) (done bool, err error) {
	w.put(uint64(nbdMagic), uint64(nbdOptMagic), uint16(nbdFlagFixedNewstyle|nbdFlagNoZeroes))
	w.flush()
	noZeroes := r.u32()&nbdFlagNoZeroes != 0
	for r.err == nil && w.err == nil {
		if magic := r.u64(); r.err == nil && magic != nbdOptMagic {
			return false, fmt.Errorf("nbd: option magic %#x", magic)
		}
		opt, n := r.u32(), r.u32()
		if n > 4096 {
			return false, fmt.Errorf("nbd: option %d of %d bytes", opt, n)
		}
		r.read(int(n))
		if r.err != nil {
			break
		}
		switch opt {
		case nbdOptExportName:
			w.put(uint64(d.size), transmitFlags)
			if !noZeroes {
				w.put(make([]byte, 124))
			}
			w.flush()
			return false, w.err
		case nbdOptInfo, nbdOptGo:
			w.put(uint64(nbdReplyMagic), opt, uint32(nbdRepInfo), uint32(12), uint16(nbdInfoExport), uint64(d.size), transmitFlags)
			w.put(uint64(nbdReplyMagic), opt, uint32(nbdRepAck), uint32(0))
			w.flush()
			if opt == nbdOptGo {
				return false, w.err
			}
		case nbdOptAbort:
			w.put(uint64(nbdReplyMagic), opt, uint32(nbdRepAck), uint32(0))
			w.flush()
			return true, w.err
		default: // structured replies, meta contexts, TLS, lists
			w.put(uint64(nbdReplyMagic), opt, uint32(nbdRepErrUnsup), uint32(0))
			w.flush()
		}
	}
	return false, errors.Join(r.err, w.err)
}

// nbdRequest is one request of the transmission phase.
type nbdRequest struct {
	typ    uint16
	handle uint64
	off    int64
	n      uint32
	data   []byte // a write's
}

// maxInFlight is more requests than qemu's NBD client has in flight (16),
// so that the goroutine that reads them never waits for the one that
// serves them.
const maxInFlight = 64

// transmit serves requests in the order they come, until the client
// disconnects or the connection ends. A flush that the power cut
// interrupts does not happen.
func (d *cacheDisk) transmit(r *nbdReader, w *nbdWriter) error {
	reqs := make(chan nbdRequest, maxInFlight)
	go func() {
		defer close(reqs)
		for {
			magic := r.u32()
			r.u16() // command flags: none that matter are negotiated
			req := nbdRequest{typ: r.u16(), handle: r.u64(), off: int64(r.u64()), n: r.u32()}
			if r.err == nil && magic != nbdReqMagic {
				r.err = fmt.Errorf("nbd: request magic %#x", magic)
			}
			if req.typ == nbdCmdWrite {
				req.data = r.read(int(req.n))
			}
			if r.err != nil {
				return
			}
			reqs <- req
			if req.typ == nbdCmdDisc {
				return
			}
		}
	}()
	for req := range reqs {
		if d.isOff() {
			// Only the writes qemu had sent count.
			if req.typ == nbdCmdWrite {
				d.pending = append(d.pending, diskWrite{req.off, req.data})
			}
			continue
		}
		errno := uint32(0)
		var reply []byte
		switch {
		case req.typ == nbdCmdDisc:
			return nil
		case (req.typ == nbdCmdRead || req.typ == nbdCmdWrite) && (req.off < 0 || req.off+int64(req.n) > d.size):
			errno = errInval
		case req.typ == nbdCmdRead:
			reply = make([]byte, req.n)
			if err := d.readAt(reply, req.off); err != nil {
				errno, reply = errIO, nil
			}
		case req.typ == nbdCmdWrite:
			d.pending = append(d.pending, diskWrite{req.off, req.data})
		case req.typ == nbdCmdFlush:
			if len(d.pending) > 0 {
				d.onFlush(len(d.pending), d.waiting())
			}
			select {
			case <-time.After(time.Duration(d.rng.Int64N(int64(maxFlushTime)))):
			case <-d.off:
			}
			if d.isOff() {
				// The power went before the flush was done (perhaps cut by
				// onFlush, as the flush began, and the flush was short
				// enough that both were ready): it did not happen.
				continue
			}
			if err := d.writeBack(); err != nil {
				errno = errIO
			}
		default:
			errno = errInval
		}
		w.put(uint32(nbdSimpleRepl), errno, req.handle, reply)
		if len(reqs) == 0 {
			w.flush()
		}
		if w.err != nil {
			return w.err
		}
	}
	return r.err
}

// readAt reads from the image, with the cached writes over it.
func (d *cacheDisk) readAt(b []byte, off int64) error {
	if _, err := d.img.ReadAt(b, off); err != nil {
		return err
	}
	end := off + int64(len(b))
	for _, w := range d.pending {
		wend := w.off + int64(len(w.data))
		if w.off < end && wend > off {
			lo, hi := max(w.off, off), min(wend, end)
			copy(b[lo-off:hi-off], w.data[lo-w.off:hi-w.off])
		}
	}
	return nil
}

// writeBack writes the cached writes to the image, in order.
func (d *cacheDisk) writeBack() error {
	for _, w := range d.pending {
		if _, err := d.img.WriteAt(w.data, w.off); err != nil {
			return err
		}
	}
	d.pending = nil
	return nil
}

// cut is the power cut. The unflushed sectors, in the order they were
// written, meet one of four fates, each the way some cache loses power:
// all are lost; each reaches the image with a probability drawn for this
// cut (so writes are torn and reordered); only those before a random point
// reach it (a cache that writes back in order); or only those after it (one
// that wrote the newest first). Of several writes to a sector, the last
// that reached the image stays.
func (d *cacheDisk) cut() {
	type sector struct {
		off  int64
		data []byte
	}
	var sectors []sector
	for _, w := range d.pending {
		// Sectors are counted from the start of the disk: the write's
		// first and last may be partial.
		for lo := w.off; lo < w.off+int64(len(w.data)); {
			hi := min((lo/sectorSize+1)*sectorSize, w.off+int64(len(w.data)))
			sectors = append(sectors, sector{lo, w.data[lo-w.off : hi-w.off]})
			lo = hi
		}
	}
	p, k := d.rng.Float64(), d.rng.IntN(len(sectors)+1)
	keep := [...]func(i int) bool{
		func(int) bool { return false },
		func(int) bool { return d.rng.Float64() < p },
		func(i int) bool { return i < k },
		func(i int) bool { return i >= k },
	}[d.rng.IntN(4)]
	for i, s := range sectors {
		if keep(i) {
			d.persisted++
			// An error here leaves the sector as it was, which is one of
			// the outcomes anyway.
			_, _ = d.img.WriteAt(s.data, s.off)
		}
	}
	d.unflushed = len(sectors)
	d.pending = nil
}
