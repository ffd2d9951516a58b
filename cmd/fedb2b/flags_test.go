package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Every command answers -h with its usage on stdout and status 0.
func TestHelpExitsZero(t *testing.T) {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out, e, code := runCLI(t, n, "-h")
		if code != 0 || strings.TrimSpace(out) == "" {
			t.Errorf("fedb2b %s -h: exit %d, stdout %q, stderr %q", n, code, out, e)
		}
	}
	if out, _, code := runCLI(t, "keys", "id", "-h"); code != 0 || !strings.Contains(out, "usage") {
		t.Errorf("keys id -h: %d %q", code, out)
	}
}

// A value outside a flag's domain, an explicit zero where zero means
// nothing, and a stray argument are errors naming them, never a silent
// default.
func TestFlagsValidated(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--epsilon", "0"}, "--epsilon 0: want a number in (0, ∞)"},
		{[]string{"demo", "--tenants", "0"}, "--tenants 0: want a whole number in [1, ∞)"},
		{[]string{"demo", "--q", "0"}, "--q 0: want a number in (0, 1]"},
		{[]string{"demo", "--q", "1.5"}, "--q 1.5: want a number in (0, 1]"},
		{[]string{"demo", "--rounds", "0"}, "--rounds 0"},
		{[]string{"demo", "--delta", "1"}, "--delta 1: want a number in (0, 1)"},
		{[]string{"demo", "--rank", "2.5"}, "invalid value"},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"demo", "--task", "forecast", "--rounds", "0", "--data", "x.csv"}, "--rounds 0"},
		{[]string{"client", "--epsilon-cap", "-1"}, "--epsilon-cap -1"},
		{[]string{"client", "--test-fraction", "0"}, "--test-fraction 0"},
		{[]string{"privacy", "epsilon", "--steps", "0", "--q", "0.1", "--noise", "1"}, "--steps 0"},
		{[]string{"data", "synth", "--records", "-5", "--out", "x"}, "--records -5"},
	} {
		_, e, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(e, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 naming %q", tc.args, code, e, tc.want)
		}
	}
	// The coordinator's config check names a zero minimum cohort too.
	if _, e, code := runCLI(t, "coordinator", "--min-clients", "0", "--labels", "a,b", "--insecure-no-tls", "--workdir", t.TempDir()); code != 1 || !strings.Contains(e, "min clients = 0") {
		t.Errorf("coordinator --min-clients 0: %d %q", code, e)
	}
	if out, _, code := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "fedb2b ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
}

// --kind names the task kind in the demo as in the coordinator; the
// coordinator's task ID is --task-id.
func TestKindFlagAgrees(t *testing.T) {
	if got := taskArg([]string{"--rounds", "3", "--kind", "forecast"}); got != "forecast" {
		t.Errorf("--kind forecast read as %q", got)
	}
	if got := taskArg([]string{"-kind=recommend"}); got != "recommend" {
		t.Errorf("-kind=recommend read as %q", got)
	}
	if got := dropTaskFlag([]string{"--kind", "classify", "--rounds", "2", "--task=classify"}); len(got) != 2 || got[0] != "--rounds" {
		t.Errorf("dropTaskFlag left %q", got)
	}
	if _, e, code := runCLI(t, "coordinator", "--task", "x"); code != 2 || !strings.Contains(e, "-task") {
		t.Errorf("coordinator --task: %d %q (the ID flag is --task-id)", code, e)
	}
}

// Progress lines go to a terminal only: never into a buffer, a file or a
// pipe, and not with --quiet.
func TestProgressOnlyOnTerminals(t *testing.T) {
	var b strings.Builder
	if progressTo(&b, false) != nil {
		t.Error("progress into a buffer")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if progressTo(f, false) != nil {
		t.Error("progress into a regular file")
	}
	tty, err := os.OpenFile("/dev/null", os.O_WRONLY, 0) // a character device, as a terminal is
	if err != nil {
		t.Skip(err)
	}
	defer tty.Close()
	if progressTo(tty, true) != nil {
		t.Error("progress despite --quiet")
	}
	if p := progressTo(tty, false); p == nil {
		t.Error("no progress on a character device")
	} else {
		p("encoding")
	}
}
