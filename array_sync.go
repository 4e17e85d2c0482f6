package mmap

import "github.com/typedmmap/mmap/internal/npy"

// How an Array's records become durable: Sync, in the order FORMAT.md
// argues ("Writing: the order of Sync").

// Sync makes the records and their count durable, and shows them to
// readers in other processes. It writes the records to disk and waits;
// then the count, into the sidecar, and waits; then the .npy header that
// counts them, and waits. A crash at any point leaves the last count whose
// records are all durable (FORMAT.md). On a reader it does nothing.
func (a *Array[T]) Sync() error {
	if err := a.usable(false); err != nil || !a.writable {
		return err
	}
	return wrapErr("sync", a.path, a.sync())
}

func (a *Array[T]) sync() error {
	w := &a.w
	if w.count > 0 {
		if err := a.rec[:w.count].Flush(); err != nil {
			return err
		}
	}
	if w.resizedSinceSync {
		// The records are flushed; the file's new size must be too.
		if err := a.f.Sync(); err != nil {
			return err
		}
		w.resizedSinceSync = false
	}
	if w.count != w.synced {
		hdr, err := a.h.Rewrite(a.hdr, int64(w.count))
		if err != nil {
			return err
		}
		if err := a.side.writeSlot(int64(w.count), hdr); err != nil {
			return err
		}
		if err := a.writeHeader(hdr); err != nil {
			return err
		}
		w.synced = w.count
	}
	a.side.publish(w.count)
	return nil
}

// writeHeader writes hdr over the file's header and makes it durable. One
// write, within a page for any header under 4 KiB: a process killed during
// it leaves the old header or the new.
func (a *Array[T]) writeHeader(hdr []byte) error {
	if _, err := a.f.WriteAt(hdr, 0); err != nil {
		return err
	}
	if len(a.views) > 0 {
		if err := a.views[len(a.views)-1][:len(hdr)].Flush(); err != nil {
			return err
		}
	} else if err := a.f.Sync(); err != nil {
		return err
	}
	h, err := npy.Parse(hdr)
	if err != nil {
		return err
	}
	a.setHeader(hdr, h)
	return nil
}
