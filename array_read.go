package mmap

import (
	"io"
	"os"

	"github.com/typedmmap/mmap/internal/arrayfile"
)

// readChunk is how many bytes of records ReadRecords reads at a time.
const readChunk = 1 << 20

// ReadRecords reads records [from, to) of the .npy file at path into a new
// []T, copying them. It reads what [Open] maps, and more: records whose
// fields lie at other offsets than T's, as numpy saves a structured array
// by default (packed, without align=True), where a field can sit at an
// offset its Go type cannot be mapped at. T must have the file's fields,
// named alike, of the same numpy types and shapes, in the same order; its
// padding is its own. The records may start at any offset of the file.
// Where the file's records are laid out as T's, they are read straight
// into the slice; otherwise each field is copied into place, at about half
// the speed of reading the bytes alone. It reads the records that the header counts, and takes no lock: an
// Array that a writer is changing is for Open.
//
// The errors are Open's: ErrType for records T does not hold, ErrByteOrder,
// ErrFormat; ErrType also for records whose many structs or values lie at
// other offsets than T's, too many to copy one by one; and ErrRange when
// from and to are not within the records.
func ReadRecords[T any](path string, from, to int) ([]T, error) {
	_, t, err := arrayType[T]()
	if err != nil {
		return nil, err
	}
	f, err := openRegular(path, os.O_RDONLY)
	if err != nil {
		return nil, wrapErr("read", path, err)
	}
	defer f.Close()
	out, err := readRecords[T](f, t, from, to)
	return out, wrapErr("read", path, err)
}

func readRecords[T any](f *os.File, t arrayfile.Type, from, to int) ([]T, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	st, err := readState(f, fi.Size(), nil)
	if err != nil {
		return nil, err
	}
	runs, r := arrayfile.CheckCopy(st.H, st.Count, fi.Size(), t)
	if r != nil {
		return nil, refusal(r)
	}
	if from < 0 || from > to || int64(to) > st.Count {
		return nil, errorf(ErrRange, "records [%d, %d) of a file of %d", from, to, st.Count)
	}
	recSize, _ := arrayfile.RecordSize(st.H)
	out := make([]T, to-from)
	if len(out) == 0 {
		return out, nil
	}
	dst := bytesOf(out)
	at := int64(st.H.Len) + int64(from)*recSize
	if sameLayout(st, fi.Size(), t) {
		// The file's records are T's, padding and all.
		_, err := f.ReadAt(dst, at)
		return out, eofIsShort(err)
	}
	per := max(readChunk/int(recSize), 1)
	buf := make([]byte, per*int(recSize))
	for done := 0; done < len(out); {
		n := min(per, len(out)-done)
		chunk := buf[:n*int(recSize)]
		if _, err := f.ReadAt(chunk, at); err != nil {
			return nil, eofIsShort(err)
		}
		out := dst[done*t.Size : (done+n)*t.Size]
		for _, run := range runs {
			copyStrided(out[run.Go:], chunk[run.File:], run.Size, n, t.Size, int(recSize))
		}
		done += n
		at += int64(len(chunk))
	}
	return out, nil
}

// sameLayout reports whether the records of the file whose state st
// holds are laid out as t's, padding included: whether Open would map them
// but for where they start.
func sameLayout(st arrayfile.State, size int64, t arrayfile.Type) bool {
	for _, r := range arrayfile.Check(st.H, st.Count, size, &t) {
		if r.Reason != arrayfile.Misaligned {
			return false
		}
	}
	return true
}

// eofIsShort turns the end of a file met before the records the header
// counts into ErrFormat: the file shrank since its size was checked.
func eofIsShort(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errorf(ErrFormat, "the file ends before the records its header counts")
	}
	return err
}

// copyStrided copies n stretches of size bytes, the i-th from
// src[i*srcStride:] to dst[i*dstStride:], one field of n records: numbers
// of 1 to 16 bytes in a loop of their own, without a call to memmove for
// each, which costs more than they do.
func copyStrided(dst, src []byte, size, n, dstStride, srcStride int) {
	if n == 0 {
		return
	}
	// Each stretch lies within its slice, as the bounds check of the
	// last one's end proves for all.
	_ = dst[(n-1)*dstStride+size-1]
	_ = src[(n-1)*srcStride+size-1]
	switch size {
	case 1:
		for i := range n {
			dst[i*dstStride] = src[i*srcStride]
		}
	case 2:
		strided[[2]byte](dst, src, n, dstStride, srcStride)
	case 4:
		strided[[4]byte](dst, src, n, dstStride, srcStride)
	case 8:
		strided[[8]byte](dst, src, n, dstStride, srcStride)
	case 16:
		strided[[16]byte](dst, src, n, dstStride, srcStride)
	default:
		for i := range n {
			copy(dst[i*dstStride:i*dstStride+size], src[i*srcStride:i*srcStride+size])
		}
	}
}
