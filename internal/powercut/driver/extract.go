//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	"github.com/typedmmap/mmap/internal/powercut/model"
)

// extract copies the array's directory out of the disk image, which the
// checker left cleanly unmounted, into dir/extracted, and runs
// checkExtracted on the array file. The whole directory comes out, so that
// files kept next to the array come with it.
func extract(disk, dir string, v model.Verdict) error {
	out := filepath.Join(dir, "extracted")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	// debugfs reads the image without mounting it; it reports a missing
	// path on stderr and still exits 0, so the file's presence is checked
	// after.
	cmd := exec.Command("debugfs", "-R", fmt.Sprintf("rdump %s %s", path.Dir(arrayPath), out), disk)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("debugfs rdump: %v: %s", err, msg)
	}
	file := filepath.Join(out, path.Base(path.Dir(arrayPath)), path.Base(arrayPath))
	if err := checkExtracted(file, v); err != nil {
		return fmt.Errorf("extracted %s: %v", arrayPath, err)
	}
	return nil
}

// checkExtracted checks the array file at path on the host, a copy taken
// from the disk after the checker's clean shutdown; v is the checker's
// verdict, v.Final the records the file holds. It is the place for checks
// with other tools (numpy can read the file); for now it checks that the
// file's size can hold the records and is less than the disk's.
func checkExtracted(path string, v model.Verdict) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	need := int64(v.Final) * int64(binary.Size(model.Record{}))
	if st.Size() < need || st.Size() >= diskSize {
		return fmt.Errorf("%d bytes; %d records of %d bytes need at least %d, and the disk has %d",
			st.Size(), v.Final, binary.Size(model.Record{}), need, diskSize)
	}
	return nil
}
