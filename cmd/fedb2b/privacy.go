package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/fedb2b/fedb2b/privacy"
)

func init() {
	register("privacy", "privacy tools: 'privacy epsilon' computes ε, or the noise for a target ε", runPrivacy)
}

func runPrivacy(args []string, stdout, stderr io.Writer) int {
	const usage = `usage: fedb2b privacy epsilon --q Q --noise Z --steps T --delta D [--accountant best|rdp|pld]
       fedb2b privacy epsilon --q Q --steps T --delta D --target-epsilon E`
	if _, code, ok := subcommand("privacy", usage, args, stdout, stderr, "epsilon"); !ok {
		return code
	}
	fs := flag.NewFlagSet("privacy epsilon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	q := fs.Float64("q", 0, "Poisson sampling rate per step, in (0, 1]")
	z := fs.Float64("noise", 0, "noise multiplier (noise std / clip norm)")
	steps := fs.Int("steps", 0, "number of composed steps")
	delta := fs.Float64("delta", 1e-5, "target δ")
	acc := fs.String("accountant", "best", "accountant: rdp, pld, or best (the tighter of the two)")
	target := fs.Float64("target-epsilon", 0, "solve for the smallest noise multiplier reaching this ε (RDP)")
	if code, ok := parseArgs(fs, args[1:], stdout, stderr); !ok {
		return code
	}
	if *target > 0 {
		sigma, err := privacy.CalibrateNoiseRDP(*q, *steps, *delta, *target)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b privacy epsilon: %v\n", err)
			return 1
		}
		eps, err := privacy.RDPEpsilon(*q, sigma, *steps, *delta)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b privacy epsilon: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "noise multiplier %.6g gives ε = %.6g at δ = %g (q = %g, %d steps, accountant rdp)\n", sigma, eps, *delta, *q, *steps)
		return 0
	}
	var eps float64
	var err error
	switch *acc {
	case "rdp":
		eps, err = privacy.RDPEpsilon(*q, *z, *steps, *delta)
	case "pld":
		a := privacy.NewPLDAccountant(0)
		if err = a.Compose(*q, *z, *steps); err == nil {
			eps, err = a.Epsilon(*delta)
		}
	case "best":
		var which privacy.Accountant
		eps, which, err = privacy.BestEpsilon(*q, *z, *steps, *delta)
		*acc = "best: " + string(which)
	default:
		err = fmt.Errorf("unknown accountant %q (want best, rdp or pld)", *acc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b privacy epsilon: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ε = %.6g at δ = %g (q = %g, noise multiplier %g, %d steps, accountant %s)\n", eps, *delta, *q, *z, *steps, *acc)
	return 0
}
