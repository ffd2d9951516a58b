package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// parseArgs parses a command's flags. Help (-h, --help) prints the flags
// to stdout and ends the command with status 0; a malformed flag, a value
// outside the flag's domain (flagDomains), or any argument left after the
// flags ends it with status 2 and a message naming it. ok says whether to
// go on.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0, false
	case err != nil:
		return 2, false
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "fedb2b %s: unexpected argument %q (every setting is a --flag; see -h)\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	if err := checkDomains(fs); err != nil {
		fmt.Fprintf(stderr, "fedb2b %s: %v\n", fs.Name(), err)
		return 2, false
	}
	return 0, true
}

// domain is the set of values a numeric flag accepts.
type domain struct {
	min, max         float64
	minOpen, maxOpen bool // bound excluded
	integer          bool
}

var (
	atLeastOne = domain{min: 1, max: math.Inf(1), integer: true}
	nonNegInt  = domain{min: 0, max: math.Inf(1), integer: true}
	positive   = domain{min: 0, max: math.Inf(1), minOpen: true}
	nonNeg     = domain{min: 0, max: math.Inf(1)}
	rate       = domain{min: 0, max: 1, minOpen: true}                // (0, 1]
	fraction   = domain{min: 0, max: 1, minOpen: true, maxOpen: true} // (0, 1)
	unitClosed = domain{min: 0, max: 1}                               // [0, 1]
)

func (d domain) String() string {
	lo, hi := "[", "]"
	if d.minOpen {
		lo = "("
	}
	if d.maxOpen || math.IsInf(d.max, 1) {
		hi = ")"
	}
	kind := "a number"
	if d.integer {
		kind = "a whole number"
	}
	return fmt.Sprintf("%s in %s%s, %s%s", kind, lo, fmtBound(d.min), fmtBound(d.max), hi)
}

func fmtBound(v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (d domain) contains(v float64) bool {
	if math.IsNaN(v) || (d.integer && v != math.Trunc(v)) {
		return false
	}
	if v < d.min || (d.minOpen && v == d.min) || v > d.max || (d.maxOpen && v == d.max) {
		return false
	}
	return true
}

// checkDomains refuses a flag given on the command line whose value is
// outside its domain, so an explicit 0 or a negative value is never
// silently replaced by a default (defaults are in their domains by
// construction). Flags not defined on fs are ignored, so one table serves
// every command.
func checkDomains(fs *flag.FlagSet) error {
	var errs []string
	fs.Visit(func(f *flag.Flag) {
		d, ok := flagDomains[f.Name]
		if !ok {
			return
		}
		v, err := strconv.ParseFloat(f.Value.String(), 64)
		if err != nil || !d.contains(v) {
			errs = append(errs, fmt.Sprintf("--%s %s: want %s", f.Name, f.Value.String(), d))
		}
	})
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// flagDomains are the accepted values of the numeric flags of every
// command, by flag name (the same name means the same thing everywhere).
var flagDomains = map[string]domain{
	"tenants": atLeastOne, "records": atLeastOne, "rounds": atLeastOne, "local-steps": atLeastOne,
	"rank": atLeastOne, "lora-layers": atLeastOne, "eval-every": atLeastOne,
	"alpha": positive, "clip": positive, "lr": positive, "server-lr": positive, "update-clip": positive,
	"epsilon": positive, "epsilon-cap": positive,
	"q": rate, "delta": fraction, "test-fraction": fraction,
	"noise": nonNeg, "min-noise": nonNeg, "eval-epsilon": nonNeg, "weight-epsilon": nonNeg, "tenant-epsilon": nonNeg,
	"min-clients": nonNegInt, "min-cohort": nonNegInt, "neighbours": nonNegInt, "threshold": nonNegInt, "drop-tenants": nonNegInt,
	"adaptive-clip":    domain{min: 0, max: 1, maxOpen: true},
	"average-decay":    domain{min: 0, max: 1, maxOpen: true},
	"max-bad-fraction": unitClosed, "zh-fraction": unitClosed, "max-weight": nonNeg,
	"steps": atLeastOne, "max-connections": atLeastOne, "weeks": atLeastOne, "personalize-steps": atLeastOne, "batch": atLeastOne, "dim": atLeastOne,
	"eps-segments": positive, "eps-quantiles": positive, "eps-demand": positive, "budget": positive,
	"max-order-value": positive, "max-weekly-quantity": positive, "target-epsilon": positive,
	"expected-batch": nonNeg, "tenant-epsilon-cap": nonNeg, "honest-tenants": nonNegInt, "assume-colluders": nonNegInt, "trials": atLeastOne, "confidence": fraction, "tenant-cohort": atLeastOne,
}
