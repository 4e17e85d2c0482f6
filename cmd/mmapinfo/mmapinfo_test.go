package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedmmap/mmap/internal/npy"
)

// runInfo runs mmapinfo with args and returns what it printed and its exit
// status.
func runInfo(args ...string) (stdout, stderr string, status int) {
	var out, errOut bytes.Buffer
	status = run(args, &out, &errOut)
	return out.String(), errOut.String(), status
}

// reportOf runs mmapinfo -json on path and decodes the report.
func reportOf(t *testing.T, path string) report {
	t.Helper()
	out, errOut, _ := runInfo("-json", path)
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-json printed no valid JSON (%v):\n%s\n%s", err, out, errOut)
	}
	return r
}

// onHost returns le on a little-endian host, be on a big-endian one.
func onHost[T any](le, be T) T {
	if npy.HostOrder == '<' {
		return le
	}
	return be
}

// testdata returns a copy of a file from testdata (or the repository's
// testdata, for ../../testdata/...), in a directory of its own.
func testdata(name string) func(t *testing.T) string {
	return func(t *testing.T) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, b)
	}
}

// TestReports runs mmapinfo on files of every kind, healthy and damaged,
// and checks what it says against what the library does with them.
func TestReports(t *testing.T) {
	for _, c := range reportCases() {
		t.Run(c.name, func(t *testing.T) {
			path := c.make(t)
			r := reportOf(t, path)
			v := r.Verdict
			if r.Kind != c.kind || v.Status != c.status || v.OpenError != c.openErr {
				t.Errorf("kind %s, %s, Open's error %q; want %s, %s, %q\n%v", r.Kind, v.Status, v.OpenError, c.kind, c.status, c.openErr, v)
			}
			if c.count != 0 && (r.Header == nil || r.Header.Count != c.count) {
				t.Errorf("header %+v; want a count of %d", r.Header, c.count)
			}
			if !strings.Contains(v.OpenRDONLY, c.rdonly) || !strings.Contains(v.OpenRDWR, c.rdwr) {
				t.Errorf("Open(RDONLY) %q, Open(RDWR) %q; want them to say %q and %q", v.OpenRDONLY, v.OpenRDWR, c.rdonly, c.rdwr)
			}
			text, _, status := runInfo(path)
			for _, s := range append(c.says, "verdict       "+c.status) {
				if !strings.Contains(text, s) {
					t.Errorf("the report does not say %q:\n%s", s, text)
				}
			}
			for _, s := range c.never {
				if strings.Contains(text, s) {
					t.Errorf("the report says %q:\n%s", s, text)
				}
			}
			checkStatus(t, path, status, c.status, c.openErr)
			if c.library != nil {
				c.library(t, path)
			}
		})
	}
}

// checkStatus checks mmapinfo's exit status, which status already holds,
// and that of mmapinfo -check: 1 for a file that is not a .npy file that
// Open takes, with -check for a file that is not healthy too.
func checkStatus(t *testing.T, path string, status int, verdict, openErr string) {
	t.Helper()
	want, wantCheck := exitOK, exitOK
	if openErr == "ErrFormat" {
		want = exitVerdict
	}
	if verdict != healthy {
		wantCheck = exitVerdict
	}
	_, _, check := runInfo("-check", path)
	if status != want || check != wantCheck {
		t.Errorf("exit status %d, with -check %d; want %d and %d", status, check, want, wantCheck)
	}
}

func TestBadArguments(t *testing.T) {
	dir := tempDir(t)
	file := writeFile(t, header(t, f8, nil, 0))
	for _, c := range []struct {
		name   string
		args   []string
		status int
		says   string
	}{
		{"a missing file", []string{filepath.Join(dir, "missing.npy")}, exitError, "missing.npy"},
		{"a directory", []string{dir}, exitError, "it is a directory, not a regular file"},
		{"no file", nil, exitError, "usage: mmapinfo"},
		{"two files", []string{file, file}, exitError, "usage: mmapinfo"},
		{"an unknown flag", []string{"-x", file}, exitError, "flag provided but not defined"},
		{"a negative -dump", []string{"-dump", "-1", file}, exitError, "usage: mmapinfo"},
		{"-dump of no number", []string{"-dump", "many", file}, exitError, "invalid value"},
		{"-h", []string{"-h"}, exitOK, "usage: mmapinfo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, status := runInfo(c.args...)
			if status != c.status || !strings.Contains(errOut, c.says) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, nothing on stdout, stderr saying %q", status, out, errOut, c.status, c.says)
			}
		})
	}
}

// TestJSONFields checks that -json prints every field of the report, for a
// file whose every part is there: a writer's Array file.
func TestJSONFields(t *testing.T) {
	path := writerHasOpen(t)
	out, _, _ := runInfo("-json", "-dump", "2", path)
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-json: %v\n%s", err, out)
	}
	for _, key := range []string{
		"file", "size", "kind", "header.from", "header.version", "header.descr", "header.go_type", "header.shape",
		"header.fortran_order", "header.count", "header.record_size", "header.capacity", "header.byte_order",
		"header.data_offset", "header.max_count", "sidecar.path", "sidecar.belongs", "sidecar.dev", "sidecar.ino",
		"sidecar.file_dev", "sidecar.file_ino", "sidecar.slot_size", "sidecar.live_count", "sidecar.slots",
		"verdict.status", "verdict.notes", "verdict.open_rdonly", "verdict.open_rdwr", "records",
	} {
		var v any = r
		for _, k := range strings.Split(key, ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if v == nil {
			t.Errorf("the JSON report has no %s:\n%s", key, out)
		}
	}
	slot := r["sidecar"].(map[string]any)["slots"].([]any)[0].(map[string]any)
	for _, key := range []string{"good", "empty", "seq", "count", "newest", "header_matches"} {
		if _, ok := slot[key]; !ok {
			t.Errorf("a slot has no %s: %v", key, slot)
		}
	}
	if recs := r["records"].([]any); len(recs) != 2 || recs[1] != 1.0 {
		t.Errorf("records %v; want [0, 1]", recs)
	}
}
