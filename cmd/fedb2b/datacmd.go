package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/fedb2b/fedb2b/models/dataset"
)

func init() {
	register("data", "data tools: 'data synth' writes synthetic B2B tenants' CSV files", runData)
}

func runData(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: fedb2b data synth --out DIR [--tenants N] [--records R] [--alpha A] [--seed S]"
	if _, code, ok := subcommand("data", usage, args, stdout, stderr, "synth"); !ok {
		return code
	}
	fs := flag.NewFlagSet("data synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write tenant-N.csv files into")
	tenants := fs.Int("tenants", 5, "number of tenants")
	records := fs.Int("records", 6000, "records in all")
	alpha := fs.Float64("alpha", 0.5, "Dirichlet concentration of the label skew")
	seed := fs.Uint64("seed", 1, "seed (the output is deterministic)")
	zh := fs.Float64("zh-fraction", 0.5, "fraction of Chinese profiles")
	if code, ok := parseArgs(fs, args[1:], stdout, stderr); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "fedb2b data synth: --out is required")
		return 2
	}
	ex := dataset.Synthesize(dataset.SynthConfig{Seed: *seed, Records: *records, ZhFraction: *zh})
	parts, err := dataset.SplitDirichlet(ex, *tenants, *alpha, *seed, dataset.SplitOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b data synth: %v\n", err)
		return 1
	}
	files, err := dataset.WriteTenantFiles(*out, parts)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b data synth: %v\n", err)
		return 1
	}
	for i, f := range files {
		fmt.Fprintf(stdout, "%s\t%d records\n", f, len(parts[i]))
	}
	return 0
}
