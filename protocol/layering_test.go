package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/fedb2b/fedb2b"

// listed is what `go list -deps -json` says of one package.
type listed struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string
	Deps       []string
}

// goTool finds the go command that runs this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// modulePackages lists every package of the module with its transitive
// non-test dependencies (what ends up in a binary that imports it).
func modulePackages(t *testing.T) []listed {
	t.Helper()
	cmd := exec.Command(goTool(), "list", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Module != nil && p.Module.Path == module {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages of %s", len(pkgs), module)
	}
	return pkgs
}

// under reports whether path is the module's package dir or below it.
func under(path, dir string) bool {
	p := module + "/" + dir
	return path == p || strings.HasPrefix(path, p+"/")
}

// rules: a package under the key may not depend, even indirectly, on a
// package under any of the listed folders.
var rules = map[string][]string{
	"client":      {"coordinator", "simulate", "cmd"},
	"coordinator": {"client", "simulate", "cmd"},
	"protocol":    {"client", "coordinator", "simulate", "cmd"},
	"api":         {"client", "coordinator", "simulate", "cmd", "protocol"},
	"models":      {"client", "coordinator", "simulate", "cmd", "protocol/certs"},
	"privacy":     {"client", "coordinator", "simulate", "cmd", "protocol"},
	"aggregation": {"client", "coordinator", "simulate", "cmd", "protocol"},
	"simulate":    {"cmd"},
}

// violations returns one line per forbidden dependency in pkgs.
func violations(pkgs []listed) []string {
	var bad []string
	for _, p := range pkgs {
		for dir, forbidden := range rules {
			if !under(p.ImportPath, dir) {
				continue
			}
			for _, d := range p.Deps {
				for _, f := range forbidden {
					if under(d, f) {
						bad = append(bad, p.ImportPath+" depends on "+d+" (no package under "+dir+"/ may depend on "+f+"/)")
					}
				}
			}
		}
		// The whole-federation harness drives both sides: only the
		// binary (and tests) may import it.
		if !under(p.ImportPath, "simulate") && !under(p.ImportPath, "cmd") {
			for _, d := range p.Deps {
				if under(d, "simulate") {
					bad = append(bad, p.ImportPath+" depends on "+d+" (only cmd/ and tests may import simulate/)")
				}
			}
		}
	}
	return bad
}

// TestImportRules keeps the layering of DESIGN.md by machine: the tenant's
// side never carries the operator's code and the reverse; learning,
// privacy and aggregation code knows neither side; the simulation harness
// is imported only by the binary. Tests may cross sides (they are not in
// any binary); production imports may not.
func TestImportRules(t *testing.T) {
	for _, v := range violations(modulePackages(t)) {
		t.Error(v)
	}
}

// TestImportRulesCatchViolation checks that the rule check itself fails on
// a forbidden edge, direct or transitive.
func TestImportRulesCatchViolation(t *testing.T) {
	pkgs := []listed{
		{ImportPath: module + "/client", Deps: []string{module + "/protocol", module + "/coordinator/pki"}},
		{ImportPath: module + "/models/task", Deps: []string{module + "/models", module + "/simulate"}},
		{ImportPath: module + "/protocol", Deps: []string{module + "/api"}},
	}
	got := violations(pkgs)
	if len(got) != 3 {
		t.Fatalf("want 3 violations (client→coordinator/pki, models/task→simulate twice), got %d: %q", len(got), got)
	}
}
