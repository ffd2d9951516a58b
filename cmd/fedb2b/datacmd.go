package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/fedb2b/fedb2b/models"
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
	// The task's public label list: every industry the generator knows,
	// whichever of them the tenants' files happen to contain.
	var labels strings.Builder
	for _, ind := range dataset.Industries() {
		labels.WriteString(ind.ID + "\n")
	}
	lf := filepath.Join(*out, "labels.txt")
	if err := models.WriteFileAtomic(lf, []byte(labels.String()), 0o644); err != nil {
		fmt.Fprintf(stderr, "fedb2b data synth: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\tthe task's public label list (%d labels)\n", lf, len(dataset.Industries()))
	return 0
}
