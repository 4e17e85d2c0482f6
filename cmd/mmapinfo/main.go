// Mmapinfo tells what a file is, for github.com/typedmmap/mmap: an Array
// file of format 2 (a .npy file with the sidecar FILE.meta that its writer
// keeps next to it), a plain .npy file, or neither, and why. It shows the
// numpy type with its fields, the count of records, the capacity, the byte
// order, the data offset, both slots of the sidecar, and one verdict:
// healthy, or what is wrong and what mmap.Open does with the file.
//
// Usage:
//
//	mmapinfo [-check] [-json] [-dump N] FILE
//
// The flags are:
//
//	-check
//		exit with status 1 unless the file is healthy
//	-dump N
//		print the first N records as JSON lines instead of the report,
//		decoded from the file's own numpy type: any .npy file, numpy's
//		included, needs no Go type; with -json, the report holds them
//	-json
//		print the report as JSON
//
// The exit status is 1 if the file is not a valid .npy file, one that
// mmap.Open refuses with ErrFormat (with -check: unless the file is
// healthy), or if -dump fails; 2 if the file cannot be read at all
// (missing, a directory) or the arguments are wrong; 0 otherwise.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// The exit statuses.
const (
	exitOK      = 0
	exitVerdict = 1 // the file is not a valid .npy file; with -check, it is not healthy
	exitError   = 2 // the file cannot be read, or the arguments are wrong
)

// run runs mmapinfo with the command-line arguments args and returns its
// exit status.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("mmapinfo", flag.ContinueOnError)
	flags.SetOutput(stderr)
	check := flags.Bool("check", false, "exit with status 1 unless the file is healthy")
	asJSON := flags.Bool("json", false, "print the report as JSON")
	n := flags.Int64("dump", -1, "print the first `N` records as JSON lines instead of the report")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: mmapinfo [-check] [-json] [-dump N] FILE")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	dumping := false
	flags.Visit(func(f *flag.Flag) { dumping = dumping || f.Name == "dump" })
	if flags.NArg() != 1 || dumping && *n < 0 {
		flags.Usage()
		return exitError
	}
	e, err := examine(flags.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "mmapinfo: %v\n", err)
		return exitError
	}
	defer e.close()

	status := exitOK
	if e.Verdict.OpenError == "ErrFormat" || *check && e.Verdict.Status != healthy {
		status = exitVerdict
	}
	if dumping {
		recs, err := dump(e, *n, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "mmapinfo: %s: %v\n", e.File, err)
			status = exitVerdict
		}
		if !*asJSON {
			for _, r := range recs {
				fmt.Fprintf(stdout, "%s\n", r)
			}
			return status
		}
		e.Records = recs
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(e.report); err != nil {
			fmt.Fprintf(stderr, "mmapinfo: %v\n", err)
			return exitError
		}
		return status
	}
	writeText(stdout, &e.report)
	return status
}
