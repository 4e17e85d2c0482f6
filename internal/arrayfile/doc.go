// Package arrayfile holds every rule of this project's array files, which
// the library and cmd/mmapinfo both follow: how a flat Go type is written as
// a numpy type and how a file's type is compared with it (match.go); what
// Open refuses, why, and in which order (refuse.go); the sidecar's bytes and
// name (sidecar.go); and what holds after a crash, from a file's header and
// its sidecar's slots (recover.go). FORMAT.md, at the root of the
// repository, describes the same for readers in other languages.
//
// Package npy reads and writes numpy's own format; this package adds what
// makes a .npy file an array file.
package arrayfile
