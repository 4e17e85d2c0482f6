// Package model holds what the power-cut test's guest program and its host
// driver share: the records the writer appends, the console lines it prints,
// what the host concludes from them about what must have survived a cut, and
// the check of an array against that.
//
// It depends on nothing but the standard library, so that the host driver
// builds without the library under test and the checks are unit-tested
// on any host.
package model

// Record is one record of the array under test. Every word after Epoch is
// derived from Index and Epoch, so a checker recomputes a record whole from
// its first two words: zeros, stale bytes and a record torn between two
// writes never pass. Its 88 bytes do not divide a 4096-byte page or a
// 512-byte sector, so records straddle page and sector boundaries, and a
// write torn at such a boundary tears a record.
type Record struct {
	Index uint64    // the record's position in the array
	Epoch uint64    // which writer session or truncation wrote it (from 1)
	Fill  [8]uint64 // derived
	Check uint64    // derived
}

// AfterCut names the copy of the array file, as a cut left it, that the
// checker makes next to it for the host to read with numpy.
const AfterCut = "after-cut.npy"

// NewRecord returns the record with this index and epoch.
func NewRecord(index, epoch uint64) Record {
	r := Record{Index: index, Epoch: epoch}
	s := index*0x9e3779b97f4a7c15 ^ epoch*0xd1b54a32d192ed03 ^ 0x5bd1e9955bd1e995
	for i := range r.Fill {
		r.Fill[i] = splitmix(&s)
	}
	r.Check = splitmix(&s)
	return r
}

// splitmix advances *s and returns its next output (SplitMix64).
func splitmix(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Whole reports whether r is a whole, valid record for position i.
func (r *Record) Whole(i uint64) bool {
	return r.Index == i && *r == NewRecord(i, r.Epoch)
}
