package mmap

// Protection bits for the prot argument of [Map] and [MapRegion]. The values
// are those of mmap-go.
const (
	// RDONLY maps the memory read-only. Writing to it crashes the process.
	RDONLY = 0
	// RDWR maps the memory read-write; writes reach the file.
	RDWR = 1 << iota
	// COPY maps the memory copy-on-write; writes stay private to the process
	// and never reach the file. COPY wins over RDWR.
	COPY
	// EXEC maps the memory executable. On Windows a file must be opened
	// with execute access for that, which os.Open and os.OpenFile do not
	// ask for; anonymous memory (ANON) can always be executable.
	EXEC
)

// Flags for the flags argument of [Map] and [MapRegion].
const (
	// ANON maps anonymous, zeroed memory that no file backs.
	ANON = 1 << iota
	// POPULATE reads the whole region in while mapping it (MAP_POPULATE on
	// Linux; elsewhere the same as Advise(WillNeed) right after mapping).
	POPULATE
)

const (
	knownProt  = RDWR | COPY | EXEC
	knownFlags = ANON | POPULATE
)

// Advice is a hint to the OS about how a mapping will be used; see
// [MMap.Advise].
type Advice int

// Advice values. Each maps to the OS's own constant (madvise on Unix). On
// Windows only WillNeed has an effect (PrefetchVirtualMemory); the others are
// accepted and do nothing.
const (
	Normal     Advice = iota // no special treatment
	Sequential               // read ahead aggressively, drop pages soon after use
	Random                   // do not read ahead
	WillNeed                 // read the pages in now
	DontNeed                 // the pages may be dropped from RAM; their content is kept
)
