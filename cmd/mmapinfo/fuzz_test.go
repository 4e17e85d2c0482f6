package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// checkAnyFile runs mmapinfo -json -dump 3 on path, which must never fail
// to report (a panic fails the test), and checks the report: valid JSON,
// and consistent.
func checkAnyFile(t *testing.T, path string) {
	t.Helper()
	out, errOut, status := runInfo("-json", "-dump", "3", path)
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil || status == exitError {
		t.Fatalf("exit %d, %v:\n%s\n%s", status, err, out, errOut)
	}
	v := r.Verdict
	switch {
	case v.Status == healthy && (r.Kind == kindNeither || r.Header == nil || v.OpenError != "" || len(v.Problems) > 0):
		t.Fatalf("a healthy file with a problem: %+v", r)
	case v.Status == unusable && v.OpenError == "":
		t.Fatalf("an unusable file that Open opens: %+v", r)
	case v.OpenError == "ErrFormat" && status != exitVerdict:
		t.Fatalf("exit status %d for a file that Open refuses with ErrFormat", status)
	}
}

// FuzzReport runs mmapinfo on any file and sidecar.
func FuzzReport(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.npy")
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, file, side []byte) {
		if len(file) > 1<<20 || len(side) > 1<<20 {
			return
		}
		path := filepath.Join(tempDir(t), "data.npy")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(side) > 0 {
			if err := os.WriteFile(path+".meta", side, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		checkAnyFile(t, path)
	})
}

// TestDamageEverywhere cuts and flips the bytes of files, and their
// sidecars, at every place.
func TestDamageEverywhere(t *testing.T) {
	var files [][]byte
	names, _ := filepath.Glob("testdata/*.npy")
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	path := filepath.Join(tempDir(t), "data.npy")
	write := func(name string, b []byte) {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range files {
		for n := range len(b) + 1 {
			write(path, b[:n])
			checkAnyFile(t, path)
		}
		for i := range b {
			flipped := append([]byte{}, b...)
			flipped[i] ^= 0x55
			write(path, flipped)
			checkAnyFile(t, path)
		}
	}

	// An array file whose writer stopped before it wrote the header, and
	// its sidecar, cut and flipped.
	torn := stoppedBeforeHeader(t)
	file, err := os.ReadFile(torn)
	if err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(torn + ".meta")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(side); n += 61 {
		write(torn+".meta", side[:n])
		checkAnyFile(t, torn)
	}
	for i := 0; i < len(side); i += 7 {
		flipped := append([]byte{}, side...)
		flipped[i] ^= 0x55
		write(torn+".meta", flipped)
		checkAnyFile(t, torn)
	}
	for n := range len(file) + 1 {
		write(torn, file[:n])
		write(torn+".meta", side)
		checkAnyFile(t, torn)
	}
}
