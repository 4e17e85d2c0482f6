package mmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// Layer 4: a log, a directory of array files (segments) that reads as one
// array of records, each at its index since the log began (FORMAT.md,
// "Logs").

// Log is a directory of array files of T, its segments, that reads as one
// array: each record has an index, its position since the log began, which
// dropping old records does not change. Each segment is a .npy file named
// by the index of its first record, in 20 digits, so that the names sort as
// the records do (00000000000000001000.npy holds the records from index
// 1000 on); numpy loads each, and the segments concatenated in name order
// are the log. A segment the writer has rolled past is an exact .npy file,
// cut to its last record, once no reader has it open.
//
// One writer, [OpenLog] with RDWR, appends ([Log.Append]), rolling to a
// new segment once the newest holds as many records or bytes as its options
// say ([WithSegmentRecords], [WithSegmentBytes]); it publishes
// ([Log.Publish]) and syncs ([Log.Sync]) as an [Array] does, and drops the
// oldest segments ([Log.DropBefore], [Log.KeepNewest]) while readers read
// them. A second writer, in this process or another, gets [ErrLocked].
//
// Readers, OpenLog with RDONLY, in any number of processes, read records by
// index ([Log.At], [Log.Read], [Log.Chunks], [Log.Search]) and follow the
// writer across segments ([Log.Follow], [Log.Wait]); none of them holds up
// the writer, a roll or a drop. A reader that asks for an index below
// [Log.First] gets an [IndexError] that names First. A reader reading a
// segment that a drop removes reads on to its end: on Unix its mapping
// outlives its name; on Windows, where a file that a process has open
// cannot be removed, the writer removes it once the reader has left it
// (at its next Publish, Sync, roll, drop or Close); First has moved all
// the same.
//
// A reader's methods may be called from any number of goroutines at once,
// and Close from another while they wait. The writer's are for one
// goroutine at a time, End and First included, as an Array's Append is.
type Log[T any] struct {
	dir      string
	writable bool
	t        arrayfile.Type
	size     int           // bytes per record
	spin     time.Duration // a reader's WithSpin
	// meta is log.meta: the writer's lock, the index below which segments
	// are dropped, and whether the writer closed the log. A reader opens
	// it when it first asks; nil until then, or if there is none.
	meta  *os.File
	inode bool // the writer's lock on meta is lockInode, not lockFile

	// mu guards segs, and a reader's segments' arrays.
	mu   sync.Mutex
	segs []*segment[T] // the segments kept, oldest first (a reader's, as it last looked)

	first  atomic.Int64 // the index of the oldest record kept
	end    atomic.Int64 // a reader's: one past the newest record, as it last looked
	closed atomic.Bool

	w logWriter[T]
}

// segment is one segment of a log.
type segment[T any] struct {
	first int64
	// A reader's Array of it, opened when first read, and closed when no
	// one reads it (refs) and it is not the newest, or it is dropped.
	arr     *Array[T]
	refs    int
	dropped bool
}

// logWriter is what only a log's writer has.
type logWriter[T any] struct {
	cur        *Array[T] // the newest segment, which Append appends to
	curFirst   int64
	perRecords int // records per segment, at which Append rolls
	perm       fs.FileMode
	opts       []Option // for the newest segment's Open
	dropTo     int64    // segments below it are dropped; some may not be removed yet
	untrimmed  []int64  // the segments rolled past that still have a sidecar and spare room
	choresAt   time.Time
	// spare is the next segment, made ahead under a temporary name by the
	// roll before, which the next roll renames into place; "" if there is
	// none (the writer's first roll makes it then).
	spare string
	// job is the end of the last roll, running in another goroutine
	// (afterRoll); nil once collected.
	job chan rolled
}

// rolled is what the end of a roll did.
type rolled struct {
	first int64  // the segment rolled past
	spare string // the spare it made for the next roll, or ""
	err   error
}

// The files of a log's directory besides its segments.
const (
	logMetaName  = "log.meta"
	logMetaMagic = "MMAPLOG1"
	logMetaSize  = 24 // magic, state word, its complement
	// defaultSegmentBytes is how many bytes of records a segment holds
	// unless the options say otherwise.
	defaultSegmentBytes = 64 << 20
)

// WithSegmentRecords makes a log's writer roll to a new segment once the
// newest holds n records. For a log's writer ([OpenLog] with RDWR).
func WithSegmentRecords(n int) Option {
	return func(o *options) { o.segmentRecords = n; o.give("WithSegmentRecords", "a log's writer") }
}

// WithSegmentBytes makes a log's writer roll to a new segment once the
// newest holds n bytes of records (at least one record). The default is
// 64 MiB. With [WithSegmentRecords] too, whichever is reached first rolls.
// For a log's writer ([OpenLog] with RDWR).
func WithSegmentBytes(n int64) Option {
	return func(o *options) { o.segmentBytes = n; o.give("WithSegmentBytes", "a log's writer") }
}

// segmentName is the name of the segment whose first record has index
// first.
func segmentName(first int64) string { return fmt.Sprintf("%020d.npy", first) }

// parseSegment returns the index that name, a segment's name, starts at.
func parseSegment(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, ".npy")
	if !ok || len(digits) != 20 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	first, err := strconv.ParseInt(digits, 10, 64)
	return first, err == nil
}

// readDir lists a directory: os.ReadDir, which a test counts the calls
// of (a reader lists the log's directory when it opens, refreshes, follows
// the writer to a new segment, or finds First moved; not for each segment
// it reads on into).
var readDir = os.ReadDir

func (l *Log[T]) segPath(first int64) string { return filepath.Join(l.dir, segmentName(first)) }

// OpenLog opens the log in directory dir, of records of T: with RDWR as
// its writer, creating dir and the log's first segment if there are none;
// with RDONLY as a reader, which may open before a writer makes the first
// segment (until a writer has the log, its Wait and Follow find the stream
// ended: [Log.WaitWriter] waits for one). The writer takes [WithSegmentRecords], [WithSegmentBytes],
// [WithAutoPublish] and [WithPerm]; a reader [WithSpin]. The writer refuses
// a log.meta file that someone else could have planted (SECURITY.md).
func OpenLog[T any](dir string, prot int, opts ...Option) (*Log[T], error) {
	if prot != RDONLY && prot != RDWR {
		return nil, wrapErr("open log", dir, errorf(ErrInvalid, "OpenLog takes RDONLY or RDWR, got prot %#x", prot))
	}
	who := "a log's reader"
	if prot == RDWR {
		who = "a log's writer"
	}
	o, err := optionsFor(who, opts)
	if err != nil {
		return nil, wrapErr("open log", dir, err)
	}
	lay, t, err := arrayType[T]()
	if err != nil {
		return nil, err
	}
	l := &Log[T]{dir: dir, writable: prot == RDWR, t: t, size: lay.size, spin: o.spin}
	if l.writable {
		err = l.openWriter(o)
	} else {
		err = l.openReader()
	}
	if err != nil {
		return nil, errors.Join(wrapErr("open log", dir, err), l.release())
	}
	return l, nil
}

// listSegments returns the indexes that the segments in dir start at, in
// order.
func listSegments(dir string) ([]int64, error) {
	entries, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	var firsts []int64
	for _, e := range entries {
		if first, ok := parseSegment(e.Name()); ok {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

// kept returns the segments of firsts that the log keeps, given that those
// wholly below dropTo are dropped: the newest one that starts at or below
// dropTo, and all after it.
func kept(firsts []int64, dropTo int64) []int64 {
	i := 0
	for i+1 < len(firsts) && firsts[i+1] <= dropTo {
		i++
	}
	return firsts[i:]
}

// The state word of log.meta: dropTo<<1 | closed.
func stateWord(dropTo int64, closed bool) uint64 {
	w := uint64(dropTo) << 1
	if closed {
		w |= 1
	}
	return w
}

// writeState writes log.meta's state: the index below which segments are
// dropped, and whether the writer has closed the log. The word is followed
// by its complement, so that a reader that reads it while it is written
// sees that they differ, and reads again.
func (l *Log[T]) writeState(dropTo int64, closed bool) error {
	b := make([]byte, logMetaSize)
	copy(b, logMetaMagic)
	w := stateWord(dropTo, closed)
	binary.LittleEndian.PutUint64(b[8:], w)
	binary.LittleEndian.PutUint64(b[16:], ^w)
	_, err := l.meta.WriteAt(b, 0)
	return err
}

// readLogState reads log.meta's state; ok is false if f holds none.
func readLogState(f *os.File) (dropTo int64, closed, ok bool) {
	b := make([]byte, logMetaSize)
	for range 100 {
		if n, _ := f.ReadAt(b, 0); n < logMetaSize || string(b[:8]) != logMetaMagic {
			return 0, false, false
		}
		w := binary.LittleEndian.Uint64(b[8:])
		if w == ^binary.LittleEndian.Uint64(b[16:]) {
			return int64(w >> 1), w&1 != 0, true
		}
	}
	return 0, false, false
}

// First returns the index of the oldest record the log keeps: on the
// writer, as its drops left it; on a reader, as it last looked (Refresh,
// Wait, Follow).
func (l *Log[T]) First() int64 { return l.first.Load() }

// End returns one past the index of the newest record: on the writer,
// every record appended; on a reader, those published when it last looked.
// The log holds End − First records.
func (l *Log[T]) End() int64 {
	if l.writable && l.w.cur != nil {
		return l.w.curFirst + int64(l.w.cur.Len())
	}
	return l.end.Load()
}

// Close closes the log. The writer syncs the newest segment, marks the
// log closed, so that followers end after its last record, and trims and
// removes what no reader holds; a segment a reader still holds is trimmed,
// or removed if dropped, by the next writer when it opens the log. A
// reader closes the segments it has open; its Wait and Follow return an
// error wrapping [fs.ErrClosed]. A second Close returns an error wrapping
// fs.ErrClosed.
func (l *Log[T]) Close() error {
	if l.closed.Swap(true) {
		return wrapErr("close log", l.dir, os.ErrClosed)
	}
	var err error
	if l.writable && l.w.cur != nil {
		err = l.collect(true)
		if l.w.spare != "" {
			err = errors.Join(err, os.Remove(l.w.spare))
			l.w.spare = ""
		}
		l.end.Store(l.End())
		err = errors.Join(err, l.writeState(l.w.dropTo, true))
		err = errors.Join(err, l.w.cur.Close())
		if l.hasSidecar(l.w.curFirst) {
			l.w.untrimmed = append(l.w.untrimmed, l.w.curFirst)
		}
		l.w.cur = nil
		err = errors.Join(err, l.chores())
	}
	return errors.Join(wrapErr("close log", l.dir, err), l.release())
}

// release closes a reader's segments, and log.meta, which releases the
// writer's lock.
func (l *Log[T]) release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	for _, s := range l.segs {
		if s.arr != nil {
			// Left in place: a Follow may be reading s, and finds it
			// closed.
			err = errors.Join(err, s.arr.Close())
		}
	}
	if l.meta != nil {
		if l.writable {
			if l.inode {
				err = errors.Join(err, withFD(l.meta, unlockInode))
			} else {
				err = errors.Join(err, withFD(l.meta, unlockFile))
			}
		}
		err = errors.Join(err, l.meta.Close())
		l.meta = nil
	}
	if l.w.cur != nil {
		err = errors.Join(err, l.w.cur.Close())
		l.w.cur = nil
	}
	return err
}

// usable says why l cannot be used by a caller that needs the writer, or
// a reader: it is closed, or of the other role.
func (l *Log[T]) usable(writer bool) error {
	switch {
	case l.closed.Load():
		return wrapErr("log", l.dir, os.ErrClosed)
	case writer && !l.writable:
		return wrapErr("log", l.dir, errorf(ErrInvalid, "a reader of a log cannot write it; open it with RDWR"))
	case !writer && l.writable:
		return wrapErr("log", l.dir, errorf(ErrInvalid, "the writer of a log does not read it; open the log again with RDONLY, in this process or another"))
	}
	return nil
}
