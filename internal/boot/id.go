// Package boot tells the identity of the running boot, which an array's
// writer records next to the counts it publishes without syncing them: such
// a count holds while the machine keeps running (the records are in its
// page cache), and not after a restart, when only what was synced holds
// (FORMAT.md, "Live readers").
package boot

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// ID returns the identity of this boot, or zero where the OS tells none
// (bootText): there a writer's Publish syncs.
var ID = sync.OnceValue(func() [2]uint64 {
	text := bootText()
	if text == "" {
		return [2]uint64{}
	}
	sum := sha256.Sum256([]byte(text))
	id := [2]uint64{binary.LittleEndian.Uint64(sum[:]), binary.LittleEndian.Uint64(sum[8:])}
	id[0] |= 1 // never zero
	return id
})
