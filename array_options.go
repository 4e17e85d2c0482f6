package mmap

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/typedmmap/mmap/internal/boot"
)

// The options of Create and Open, and which of them each takes.

// Option configures [Create], [Open] and [OpenLog]: each says which of
// them takes it.
type Option func(*options)

type options struct {
	capacity       int
	perm           fs.FileMode
	autoPublish    bool
	spin           time.Duration
	segmentRecords int
	segmentBytes   int64
	// Who may take each option given: "Create", "a writer", "a reader",
	// "a log's writer", "a log's reader".
	given map[string][]string
}

func (o *options) give(name string, who ...string) {
	if o.given == nil {
		o.given = map[string][]string{}
	}
	o.given[name] = who
}

// WithCapacity makes room for n records at once, so that the first n
// appends never grow the file. A full disk makes Create fail. For Create.
func WithCapacity(n int) Option {
	return func(o *options) { o.capacity = n; o.give("WithCapacity", "Create") }
}

// WithPerm sets the permission bits of a new file (before the umask); the
// default is 0o666, as for [os.Create]. For Create, and a log's writer
// (the segments it makes).
func WithPerm(perm fs.FileMode) Option {
	return func(o *options) { o.perm = perm; o.give("WithPerm", "Create", "a log's writer") }
}

// WithAutoPublish makes every Append publish the records it appends, as
// [Array.Publish] does: readers in other processes see each record as soon
// as it is appended, at the cost of one atomic store and one load per
// Append. For a writer (Create, or Open with RDWR), and a log's writer.
func WithAutoPublish() Option {
	return func(o *options) { o.autoPublish = true; o.give("WithAutoPublish", "a writer", "a log's writer") }
}

// WithSpin makes a reader's [Array.Wait] (and Follow) spin for up to d,
// looking at the writer's published count without sleeping, before it goes
// to sleep: a record published meanwhile is seen within a fraction of a
// microsecond instead of the few microseconds a wake-up takes. A spinning
// reader keeps one CPU core busy for as long as it spins, d at most each
// time it runs out of records. For a reader (Open with RDONLY), and a
// log's reader.
func WithSpin(d time.Duration) Option {
	return func(o *options) { o.spin = d; o.give("WithSpin", "a reader", "a log's reader") }
}

// optionsFor applies opts for who: "Create", "a writer" (Open with RDWR),
// "a reader", "a log's writer" or "a log's reader", refusing the ones that
// are not for who. Create takes what a writer takes.
func optionsFor(who string, opts []Option) (options, error) {
	o := options{perm: 0o666}
	for _, opt := range opts {
		opt(&o)
	}
	for _, name := range slices.Sorted(maps.Keys(o.given)) {
		owners := o.given[name]
		if !slices.Contains(owners, who) && (who != "Create" || !slices.Contains(owners, "a writer")) {
			return o, errorf(ErrInvalid, "%s is an option for %s, not for %s", name, strings.Join(owners, " or "), who)
		}
	}
	switch {
	case o.capacity < 0:
		return o, errorf(ErrInvalid, "negative capacity %d", o.capacity)
	case o.spin < 0:
		return o, errorf(ErrInvalid, "negative spin %v", o.spin)
	case o.segmentRecords < 0:
		return o, errorf(ErrInvalid, "negative records per segment %d", o.segmentRecords)
	case o.segmentBytes < 0:
		return o, errorf(ErrInvalid, "negative bytes per segment %d", o.segmentBytes)
	case o.autoPublish && boot.ID() == [2]uint64{}:
		return o, fmt.Errorf("%w: WithAutoPublish: here (%s) the OS tells no identity of its boot, so a count is published only as it is synced (see Publish)", errors.ErrUnsupported, runtime.GOOS)
	}
	return o, nil
}
