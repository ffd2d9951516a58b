package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// command is one subcommand: it parses args (without its own name), writes
// to stdout and stderr, and returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	if _, dup := commands[name]; dup {
		panic("fedb2b: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fedb2b COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'fedb2b COMMAND -h' for the flags of a command.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "fedb2b: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

// subcommand reads the subcommand of command name from args: help prints
// usage to stdout (exit code 0), a missing or unknown one prints usage to
// stderr (code 2); ok says whether to go on with sub.
func subcommand(name, usage string, args []string, stdout, stderr io.Writer, known ...string) (sub string, code int, ok bool) {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return "", 2, false
	}
	switch sub = args[0]; {
	case sub == "-h" || sub == "--help" || sub == "help":
		fmt.Fprintln(stdout, usage)
		return "", 0, false
	case !slices.Contains(known, sub):
		fmt.Fprintf(stderr, "fedb2b %s: unknown subcommand %q\n%s\n", name, sub, usage)
		return "", 2, false
	}
	return sub, 0, true
}
