// Package mmap maps files into memory, as bytes and as arrays of fixed-size
// records.
//
// The package has four layers. [MMap] is a mapped region of a file (or of
// anonymous memory) seen as a []byte; [Map], [MapRegion], [MMap.Flush],
// [MMap.Lock], [MMap.Unlock] and [MMap.Unmap] keep the names, signatures and
// constant values of github.com/edsrzf/mmap-go, so a program switches by
// changing its import line. [Slice] is the same memory seen as a []T of a flat
// type T, after the type, the alignment and the size have been checked. [Array]
// is a self-describing file of records that can be created, reopened with a
// type check, grown and synced. [Log] is a directory of Array files that
// reads as one array, rolls to a new file as it grows, and drops its oldest
// files while readers follow it.
//
// Every operation behaves the same on every supported OS: an empty file maps
// to an empty, non-nil MMap; any offset is accepted (the package aligns the
// mapping to the page size, or on Windows to the 64 KiB allocation
// granularity, and returns the slice that starts at the requested byte). A
// typed view and an Array never reach past the end of their file: such a
// region is refused with an error wrapping [ErrRange]. The classic
// [MapRegion] maps a region that starts within the file and runs past its
// end on Unix, as mmap-go does, and refuses it on Windows.
//
// # Flat types
//
// A flat type is a type whose every value can be stored in a file and read
// back by mapping the file, on any platform of the same byte order. It is
// made of:
//
//   - sized integers (int8 … int64, uint8 … uint64), float32, float64,
//     complex64 and complex128;
//   - arrays of flat types;
//   - structs of flat types, where blank (_) fields are explicit padding;
//
// with no implicit padding anywhere, and a size above zero.
//
// Each number is aligned to its own size (a complex number to half of it);
// a flat type's natural alignment is that of its most aligned field. With no
// padding allowed under natural alignment, a flat type has the same layout
// on 32-bit and 64-bit targets, and a view of it must start at a multiple of
// its natural alignment in a file, on every target.
//
// Everything else is refused, with an error that names the type, the field
// at fault and the fix: pointers, strings, slices, maps, channels, funcs and
// interfaces (they mean nothing in a file); int, uint and uintptr (their size
// depends on the target); bool (not every byte is a valid bool); implicit
// padding. For example,
//
//	type Rec struct {
//		ID    int32
//		Value float64
//	}
//
// is refused with
//
//	mmap: cannot map main.Rec: 4 bytes of implicit padding after field ID; add `_ [4]byte` after field ID
//
// [CheckType] runs the test on its own. It runs once per type; the result is
// cached.
//
// # Concurrency
//
// Map, MapRegion and the methods of MMap may be called from any goroutine.
// The bytes of a mapping are plain memory: concurrent reads are safe, and
// concurrent writes, or a write concurrent with a read, need the caller's own
// synchronization, as with any []byte or []T. Unmap must not run concurrently
// with any other use of the same mapping.
//
// An [Array] has one writer and any number of readers, in this process and
// others. The writer's methods are called from one goroutine at a time;
// meanwhile other goroutines may call Len, Items and Wait, and see every
// record appended so far, whole. Readers in other processes see what the
// writer published or synced ([Array.Publish], [Array.Refresh],
// [Array.Wait], [Array.Follow]), and learn when the writer closes or dies.
// Close must
// not run concurrently with any other method of the same Array.
//
// # Caveats
//
// An MMap must not be used after Unmap: the memory is gone, and touching it
// crashes the process. Sub-slices and typed views share that lifetime.
//
// If the file is truncated, by this process or another, while it is mapped,
// reading or writing the lost pages raises SIGBUS on Unix and crashes the
// process. [MMap.ReadAt] and [MMap.WriteAt] catch that fault and return an
// error wrapping [ErrFault]; direct indexing cannot. Windows refuses to
// truncate a file that is mapped.
//
// Typed views use the host's byte order; [Array] files record it and refuse
// to open on a host of the other order.
//
// On 32-bit platforms a region must fit in the address space; a region whose
// length does not fit in an int is refused with [ErrRange]. An Array maps
// its file with room to grow in place (1 GiB of address space on 64-bit
// targets, 64 MiB on 32-bit ones, or twice the file), and keeps every mapping
// it outgrows until Close, so that slices stay valid: at most about twice
// the largest size of the file, plus that room.
//
// An Array writer keeps a sidecar file next to its file (the name with
// ".meta" added) and removes it at Close; after a crash it stays, and the
// next Open uses it to repair the file's header. Copy or move an Array file
// once it is closed. The sidecar is mapped by the writer and its readers:
// truncating it while they run crashes them with SIGBUS, as truncating the
// file does. It gives no one more access than the file (SECURITY.md).
package mmap
