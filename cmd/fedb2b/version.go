package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

func init() {
	register("version", "print the version, commit and Go version of this binary", runVersion)
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "usage: fedb2b version")
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "fedb2b version: unexpected argument %q\n", args[0])
		return 2
	}
	fmt.Fprintln(stdout, versionString())
	return 0
}

// versionString names the module version and the commit the binary was
// built from (as the Go toolchain recorded them), and the Go version.
func versionString() string {
	v, rev, dirty := "(devel)", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = " (modified)"
				}
			}
		}
	}
	return fmt.Sprintf("fedb2b %s, commit %s%s, %s %s/%s", v, rev, dirty, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// selfCommand is how to run this binary again from a shell: "fedb2b", or
// "go run ./cmd/fedb2b" when it is a temporary build of `go run`.
func selfCommand() string {
	exe, err := os.Executable()
	if err == nil && strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/fedb2b"
	}
	return "fedb2b"
}
