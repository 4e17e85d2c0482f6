package mmap

import "github.com/typedmmap/mmap/internal/npy"

// How an Array's records become visible and durable: Publish, and Sync in
// the order FORMAT.md argues ("Writing: the order of Sync").

// Publish shows the records appended so far to readers in other processes
// at once, without waiting for the disk: when it returns, their Refresh,
// Wait and Follow see them. It does not make them durable; [Array.Sync]
// does. Published records outlive the writer's process, killed or not (the
// machine keeps them in its page cache, and the next writer makes them
// durable when it opens the file), but not the machine: after a power cut
// or a crash of the OS, every Open sees the records of the last completed
// Sync, and no reader that saw more is left running. With no reader asleep
// Publish is one atomic store and one load, no system call; it wakes the
// readers asleep in Wait. On a reader it does nothing.
//
// Where the OS tells no identity of its boot (other than Linux, Windows
// and macOS), a reader could not tell a published count from one that a
// machine crash cut short, so there Publish syncs.
func (a *Array[T]) Publish() error {
	if err := a.usable(false); err != nil || !a.writable {
		return err
	}
	if !a.w.publishes {
		return wrapErr("publish", a.path, a.sync())
	}
	a.side.publish(a.w.count, false)
	return nil
}

// Sync makes the records and their count durable, and shows them to
// readers in other processes. It waits for the disk twice: for the records
// (with the header that the Sync before wrote), then for their count in the
// sidecar's older slot; the header that counts them is written last, and
// reaches the disk by the next Sync or Close. A crash at any point leaves
// the last count whose records are all durable (FORMAT.md). On a reader it
// does nothing.
func (a *Array[T]) Sync() error {
	if err := a.usable(false); err != nil || !a.writable {
		return err
	}
	return wrapErr("sync", a.path, a.sync())
}

func (a *Array[T]) sync() error {
	w := &a.w
	if w.resizedSinceSync {
		// The file's new size must be durable with the records.
		if err := a.f.Sync(); err != nil {
			return err
		}
		w.resizedSinceSync, w.headerPending = false, false
	} else if err := a.flushRecords(); err != nil {
		return err
	}
	if w.count != w.synced {
		hdr, err := a.h.Rewrite(a.hdr, int64(w.count))
		if err != nil {
			return err
		}
		// The slot written here holds the header before the last: the
		// file's header is the last one, made durable just now, which
		// the other slot holds.
		if err := a.side.writeSlot(int64(w.count), hdr); err != nil {
			return err
		}
		// A lower count (Truncate) is waited for: until it is durable,
		// the header on disk would count the dropped records, which the
		// next appends overwrite, and a reader of the file alone (numpy,
		// after a power cut) would read them torn.
		if err := a.writeHeader(hdr, w.count < w.synced); err != nil {
			return err
		}
		w.synced = w.count
	}
	a.side.publish(w.count, false)
	return nil
}

// flushRecords makes the records durable, and the header before them if
// it was written since it last was: in one flush, from the file's start to
// its last record.
func (a *Array[T]) flushRecords() error {
	w := &a.w
	switch {
	case !w.headerPending && w.count == 0:
		return nil
	case !w.headerPending:
		return a.rec[:w.count].Flush()
	case len(a.views) == 0:
		if err := a.f.Sync(); err != nil {
			return err
		}
	default:
		end := a.h.Len + w.count*a.l.size
		if err := a.views[len(a.views)-1][:end].Flush(); err != nil {
			return err
		}
	}
	w.headerPending = false
	return nil
}

// writeHeader writes hdr over the file's header, and with wait makes it
// durable; without, the next Sync's first flush does (flushRecords). One
// write, within a page for any header under 4 KiB: a process killed
// during it leaves the old header or the new.
func (a *Array[T]) writeHeader(hdr []byte, wait bool) error {
	h, err := npy.Parse(hdr)
	if err != nil {
		return err
	}
	if _, err := a.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	a.setHeader(hdr, h)
	a.w.headerPending = true
	if wait {
		return a.flushHeader()
	}
	return nil
}

// flushHeader makes the header durable, if it was written since it last
// was.
func (a *Array[T]) flushHeader() error {
	if !a.w.headerPending {
		return nil
	}
	if len(a.views) > 0 {
		if err := a.views[len(a.views)-1][:len(a.hdr)].Flush(); err != nil {
			return err
		}
	} else if err := a.f.Sync(); err != nil {
		return err
	}
	a.w.headerPending = false
	return nil
}
