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
// Where Open accepts the file, the records are read straight into the
// slice; otherwise each is copied field by field, as fast as the file is
// read. It reads the records that the header counts, and takes no lock: an
// Array that a writer is changing is for Open.
//
// The errors are Open's: ErrType for records T does not hold, ErrByteOrder,
// ErrFormat; and ErrRange when from and to are not within the records.
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
	if len(runs) == 1 && runs[0] == (arrayfile.Run{Size: t.Size}) && recSize == int64(t.Size) {
		// The file's records are T's, byte for byte.
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
		for i := range n {
			src := chunk[i*int(recSize):]
			rec := dst[(done+i)*t.Size:]
			for _, run := range runs {
				copyRun(rec[run.Go:run.Go+run.Size], src[run.File:run.File+run.Size])
			}
		}
		done += n
		at += int64(len(chunk))
	}
	return out, nil
}

// eofIsShort turns the end of a file met before the records the header
// counts into ErrFormat: the file shrank since its size was checked.
func eofIsShort(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errorf(ErrFormat, "the file ends before the records its header counts")
	}
	return err
}

// copyRun copies src to dst, of the same length: the sizes of numbers
// without a call to memmove, which costs more than they do.
func copyRun(dst, src []byte) {
	switch len(src) {
	case 1:
		dst[0] = src[0]
	case 2:
		*(*[2]byte)(dst) = *(*[2]byte)(src)
	case 4:
		*(*[4]byte)(dst) = *(*[4]byte)(src)
	case 8:
		*(*[8]byte)(dst) = *(*[8]byte)(src)
	case 16:
		*(*[16]byte)(dst) = *(*[16]byte)(src)
	default:
		copy(dst, src)
	}
}
