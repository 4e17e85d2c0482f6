// This file holds the package's unsafe code, all of it but the system calls
// that take or return addresses as uintptr (map_windows.go, and the futex
// calls of futex_linux.go): the reinterpretation of mapped bytes as []T after
// the checks that make it safe, the reverse, and reading a slice's address.
// Each use says why it is safe.

package mmap

import "unsafe"

// castSlice reinterprets b as a []T. The caller has checked that T is flat
// and that b is aligned for T and a whole number of elements long.
func castSlice[T any](b []byte) []T {
	var zero T
	// Safe: b is aligned for T and holds len(b)/size whole elements; T is
	// flat, so it holds no pointers for the garbage collector to find, and
	// every bit pattern is a valid T. The result keeps b's memory reachable
	// through its data pointer, as b did.
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// bytesOf returns the bytes that s covers: the same memory, not a copy. The
// caller hands them to the registry of mappings only, or, for a flat T, to
// the user.
func bytesOf[T any](s []T) []byte {
	var zero T
	// Safe: the len(s) elements of s are len(s)*size contiguous bytes; for
	// a flat T, every one of them is defined, since T has no padding.
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// addr returns the address of b's first byte, for ordering mappings and
// checking alignment. It never turns back into a pointer.
func addr(b []byte) uintptr {
	// Reading a pointer's value is safe; the result is only compared and
	// used in arithmetic.
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// strided copies n values of the array type W, the i-th from
// src[i*srcStride:] to dst[i*dstStride:]; the caller has checked that
// both slices hold them (copyStrided).
func strided[W [2]byte | [4]byte | [8]byte | [16]byte](dst, src []byte, n, dstStride, srcStride int) {
	for i := range n {
		// Safe: W is an array of bytes, which has no alignment to keep,
		// and both stretches lie within their slices.
		*(*W)(unsafe.Pointer(&dst[i*dstStride])) = *(*W)(unsafe.Pointer(&src[i*srcStride]))
	}
}
