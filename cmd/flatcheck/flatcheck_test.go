package main

import (
	"bytes"
	"errors"
	"go/ast"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/packages"
)

// misuse is a module that uses package mmap wrongly, with the diagnostics
// flatcheck must report in its // want comments.
const misuse = "testdata/misuse"

// needGo skips the test where there is no go command to load packages
// with, as under Wine.
func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no go command to load packages with: %v", err)
	}
}

// goCmd returns the go command running in dir for this host, even when the
// tests run under an emulator for another GOARCH: the programs it builds
// (a vet tool, a program to run) must run here.
func goCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	out, err := exec.Command("go", "env", "GOHOSTOS", "GOHOSTARCH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	host := strings.Fields(string(out))
	cmd := command(dir, "go", args...)
	cmd.Env = append(cmd.Env, "GOOS="+host[0], "GOARCH="+host[1], "CGO_ENABLED=0")
	return cmd
}

// TestAnalyzer runs flatcheck on the misuse module, which must report the
// diagnostics of its // want comments; then it runs the misuse program,
// which prints the run-time messages of the instances in its main
// function, and compares them with flatcheck's there: in a command, the
// linker names the package "main" in type arguments.
func TestAnalyzer(t *testing.T) {
	needGo(t)
	var got []string
	for _, r := range analysistest.Run(t, absPath(t, misuse), Analyzer, "./...") {
		for _, d := range r.Action.Diagnostics {
			if filepath.Base(r.Action.Package.Fset.Position(d.Pos).Filename) == "main.go" {
				got = append(got, d.Message)
			}
		}
	}
	out, err := goCmd(t, misuse, "run", ".").Output()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, stderrOf(err))
	}
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("flatcheck reports\n%s\nthe program prints\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestVetTool runs flatcheck as go vet's tool and on its own: on the
// misuse module, which it must fail with the diagnostics of the // want
// comments, and on the example program, which it must pass.
func TestVetTool(t *testing.T) {
	needGo(t)
	tool := filepath.Join(t.TempDir(), "flatcheck")
	if runtime.GOOS == "windows" {
		tool += ".exe"
	}
	if out, err := goCmd(t, ".", "build", "-o", tool, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	wants := wantCount(t, misuse)
	for _, c := range []struct {
		name  string
		cmd   *exec.Cmd
		exit  int // go vet exits 1 on diagnostics; flatcheck on its own, 3
		lines int
	}{
		{"go vet on misuse", goCmd(t, misuse, "vet", "-vettool="+tool, "./..."), 1, wants},
		{"flatcheck on misuse", command(misuse, tool, "./..."), 3, wants},
		{"go vet on the example", goCmd(t, "../../examples/points", "vet", "-vettool="+tool, "."), 0, 0},
		{"flatcheck on the example", command("../../examples/points", tool, "."), 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			c.cmd.Stdout, c.cmd.Stderr = &out, &out
			err := c.cmd.Run()
			exit := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(out.String(), ": mmap: cannot map ")
			if exit != c.exit || lines != c.lines {
				t.Errorf("exit %d, %d diagnostics; want exit %d, %d diagnostics. Output:\n%s", exit, lines, c.exit, c.lines, &out)
			}
		})
	}
}

// command returns the command name with args, running in dir in the
// module there alone, not the workspace (misuse is not one of its modules).
func command(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	return cmd
}

// wantCount counts the // want comments in the Go files of dir.
func wantCount(t *testing.T, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte("// want `"))
	}
	return n
}

func absPath(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func stderrOf(err error) []byte {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// TestSameVerdictsAsRunTime runs both checks over the table of
// table_test.go: mmap.CheckType in this test binary, and flatcheck over
// this package's source as the test binary is built from it. Both must
// reject the same types with the same message, at each row's CheckType.
func TestSameVerdictsAsRunTime(t *testing.T) {
	needGo(t)
	pkg := loadTestPackage(t)
	reports := map[token.Pos][]string{}
	pass := &analysis.Pass{
		Analyzer: Analyzer, Fset: pkg.Fset, Files: pkg.Syntax, Pkg: pkg.Types,
		TypesInfo: pkg.TypesInfo, TypesSizes: pkg.TypesSizes,
		Report: func(d analysis.Diagnostic) { reports[d.Pos] = append(reports[d.Pos], d.Message) },
	}
	if _, err := Analyzer.Run(pass); err != nil {
		t.Fatal(err)
	}
	sites := tableSites(t, pkg)
	rows := flatTable()
	if len(sites) != len(rows) {
		t.Fatalf("found %d rows in the source of flatTable, %d at run time", len(sites), len(rows))
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			var want []string
			if err := row.check(); err != nil {
				want = []string{err.Error()}
			}
			got := reports[sites[i]]
			delete(reports, sites[i])
			if !slices.Equal(got, want) {
				t.Errorf("flatcheck reports %q; the run-time check returns %q", got, want)
			}
			switch {
			case row.want == "" && want != nil:
				t.Errorf("the table says the type is flat; the run-time check says %q", want[0])
			case row.want != "" && (want == nil || !strings.Contains(want[0], row.want)):
				t.Errorf("the run-time check returns %q; the table wants it to say %q", want, row.want)
			}
		})
	}
	for pos, msgs := range reports {
		t.Errorf("%v: a report outside the table: %q", pkg.Fset.Position(pos), msgs)
	}
}

// loadTestPackage loads this package as its test binary builds it, its
// test files included, with syntax and types.
func loadTestPackage(t *testing.T) *packages.Package {
	t.Helper()
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedImports |
			packages.NeedTypes | packages.NeedTypesSizes | packages.NeedSyntax | packages.NeedTypesInfo,
		Tests: true,
		Env:   append(os.Environ(), "GOWORK=off"),
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if !slices.ContainsFunc(p.CompiledGoFiles, func(f string) bool { return filepath.Base(f) == "table_test.go" }) {
			continue
		}
		if len(p.Errors) > 0 {
			t.Fatalf("loading %s: %v", p.ID, p.Errors)
		}
		return p
	}
	t.Fatalf("no package of %d has table_test.go", len(pkgs))
	return nil
}

// tableSites returns, for each row of flatTable in source order, where its
// mmap.CheckType is instantiated.
func tableSites(t *testing.T, pkg *packages.Package) []token.Pos {
	t.Helper()
	var sites []token.Pos
	for _, f := range pkg.Syntax {
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Name.Name == "flatTable" {
				ast.Inspect(fn, func(n ast.Node) bool {
					if row, ok := n.(*ast.CompositeLit); ok && len(row.Elts) == 3 {
						if sel, ok := indexedSelector(row.Elts[1]); ok && sel.Sel.Name == "CheckType" {
							sites = append(sites, sel.Sel.Pos())
						}
					}
					return true
				})
			}
		}
	}
	return sites
}

// indexedSelector returns x.Sel of an expression x.Sel[T].
func indexedSelector(e ast.Expr) (*ast.SelectorExpr, bool) {
	ix, ok := e.(*ast.IndexExpr)
	if !ok {
		return nil, false
	}
	sel, ok := ix.X.(*ast.SelectorExpr)
	return sel, ok
}

func TestPathToPrefix(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"main", "main"},
		{"github.com/typedmmap/mmap", "github.com/typedmmap/mmap"},
		{"gopkg.in/yaml.v3", "gopkg.in/yaml%2ev3"},
		{"example.com/a b/c%d\"e", "example.com/a%20b/c%25d%22e"},
	} {
		if got := pathToPrefix(c.path); got != c.want {
			t.Errorf("pathToPrefix(%q): got %q; want %q", c.path, got, c.want)
		}
	}
}
