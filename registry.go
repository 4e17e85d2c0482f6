package mmap

import (
	"cmp"
	"os"
	"slices"
	"sync"
)

// A mapping is one region mapped by the OS, with the part of it handed out.
type mapping struct {
	mem   []byte // the whole OS mapping, from the aligned-down offset
	off   int    // where the caller's bytes start in mem
	n     int    // how many bytes the caller got
	prot  int
	flags int
	h     sysHandle
}

// user returns the slice handed to the caller, with its capacity capped so
// that append cannot reach the alignment slack.
func (mp *mapping) user() []byte { return mp.mem[mp.off : mp.off+mp.n : mp.off+mp.n] }

// fileWritable reports whether writes to the mapping reach a file.
func (mp *mapping) fileWritable() bool {
	return mp.flags&ANON == 0 && mp.prot&COPY == 0 && mp.prot&RDWR != 0
}

// private reports whether the mapping's changes are private to the process.
func (mp *mapping) private() bool { return mp.prot&COPY != 0 }

// registry holds every live mapping, ordered by address, so that a slice can
// be traced back to the mapping that contains it.
type registry struct {
	mu   sync.Mutex
	live []*mapping // sorted by address of mem
}

var mappings registry

// find returns the index of the mapping that contains the address a, or -1.
// The caller holds r.mu.
func (r *registry) find(a uintptr) int {
	i, found := slices.BinarySearchFunc(r.live, a, func(mp *mapping, a uintptr) int {
		switch start := addr(mp.mem); {
		case a < start:
			return 1
		case a-start >= uintptr(len(mp.mem)):
			return -1
		}
		return 0
	})
	if !found {
		return -1
	}
	return i
}

func (r *registry) add(mp *mapping) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.insert(mp)
}

// insert puts mp in address order. The caller holds r.mu.
func (r *registry) insert(mp *mapping) {
	a := addr(mp.mem)
	i, _ := slices.BinarySearchFunc(r.live, a, func(x *mapping, a uintptr) int {
		return cmp.Compare(addr(x.mem), a)
	})
	r.live = slices.Insert(r.live, i, mp)
}

// pages returns the mapping that contains b and the page-aligned part of its
// memory that covers b. An empty b gives a nil mapping and no error. A b that
// no mapping contains is an error wrapping ErrInvalid.
func (r *registry) pages(b []byte) (*mapping, []byte, error) {
	if len(b) == 0 {
		return nil, nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(addr(b))
	if i < 0 {
		return nil, nil, errorf(ErrInvalid, "%d bytes at %#x, not mapped by this package (or already unmapped)", len(b), addr(b))
	}
	mp := r.live[i]
	start := int(addr(b) - addr(mp.mem))
	if len(b) > len(mp.mem)-start {
		return nil, nil, errorf(ErrInvalid, "%d bytes at %#x run past the end of their mapping", len(b), addr(b))
	}
	page := os.Getpagesize()
	lo := start - start%page
	hi := min((start+len(b)+page-1)/page*page, len(mp.mem))
	return mp, mp.mem[lo:hi], nil
}

// exact returns the index of the mapping whose caller's slice is exactly m.
// An m that no mapping contains is -1 with no error. The caller holds r.mu.
func (r *registry) exact(m []byte, op string) (int, error) {
	i := r.find(addr(m))
	if i < 0 {
		if len(m) == 0 {
			return -1, nil // nil, or an empty region that was never mapped
		}
		return -1, errorf(ErrInvalid, "%s of %d bytes at %#x, not mapped by this package (or already unmapped)", op, len(m), addr(m))
	}
	mp := r.live[i]
	if addr(m) != addr(mp.user()) || len(m) != mp.n {
		return -1, errorf(ErrInvalid, "%s of a sub-slice (%d bytes at offset %d of a %d-byte mapping); call it on the MMap that Map returned", op, len(m), int(addr(m)-addr(mp.user())), mp.n)
	}
	return i, nil
}

// unmap unmaps the mapping whose caller's slice is exactly m.
func (r *registry) unmap(m []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, err := r.exact(m, "Unmap")
	if i < 0 {
		return err
	}
	mp := r.live[i]
	// Held under r.mu: once the OS frees the range it may hand it out again,
	// and the registry must not hold an overlapping entry at that moment.
	if err := unmap(mp.mem, mp.h); err != nil {
		return syscallError("unmap", err)
	}
	r.live = slices.Delete(r.live, i, i+1)
	return nil
}
