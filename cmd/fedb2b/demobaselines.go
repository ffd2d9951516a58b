package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/simulate"
)

// applyLinearDefaults puts simulate.LinearDefaults' settings, and the
// hashing encoder with models.DefaultLinearDim buckets, in place of the
// flags the user did not give.
func applyLinearDefaults(fs *flag.FlagSet, cfg *simulate.Config, enc *encoderFlags) {
	d := simulate.LinearDefaults()
	for name, set := range map[string]func(){
		"lr":          func() { cfg.LearningRate = d.LearningRate },
		"local-steps": func() { cfg.LocalSteps = d.LocalSteps },
		"server-lr":   func() { cfg.ServerLR = d.ServerLR },
		"rounds":      func() { cfg.Rounds = d.Rounds },
		"q":           func() { cfg.SampleRate = d.SampleRate },
		"clip":        func() { cfg.ClipNorm = d.ClipNorm },
		"update-clip": func() { cfg.UpdateClip = d.UpdateClip },
		"encoder":     func() { enc.spec = fmt.Sprintf("hashing:%d", models.DefaultLinearDim) },
	} {
		if !flagSet(fs, name) {
			set()
		}
	}
}

// applyDistributedDefaults sets simulate.DistributedDefaults' settings of
// the distributed mode for the flags not given.
func applyDistributedDefaults(fs *flag.FlagSet, cfg *simulate.Config) {
	d := simulate.DistributedDefaults()
	for name, set := range map[string]func(){
		"rounds":        func() { cfg.Rounds = d.Rounds },
		"q":             func() { cfg.SampleRate = d.SampleRate },
		"clip":          func() { cfg.ClipNorm = d.ClipNorm },
		"local-steps":   func() { cfg.LocalSteps = d.LocalSteps },
		"strategy":      func() { cfg.Strategy = d.Strategy },
		"server-lr":     func() { cfg.ServerLR = d.ServerLR },
		"average-decay": func() { cfg.AverageDecay = d.AverageDecay },
	} {
		if !flagSet(fs, name) {
			set()
		}
	}
}

// printBaselines prints the references beside the federated figures: the
// honest ones first (pooled and alone, both non-private), then the
// same-DP local baseline and the adapter's own centralized training.
func printBaselines(w io.Writer, rep *simulate.Report) {
	row := func(name string, m simulate.Metrics) {
		fmt.Fprintf(w, "%-36s %9.4f %9.4f\n", name, m.Accuracy, m.MacroF1)
	}
	perTenant := func(b simulate.Baseline) {
		for _, n := range slices.Sorted(maps.Keys(b.PerTenant)) {
			fmt.Fprintf(w, "  %-34s %9.4f %9.4f\n", n, b.PerTenant[n].Accuracy, b.PerTenant[n].MacroF1)
		}
	}
	if b, ok := rep.Baselines[simulate.BaselinePooled]; ok {
		row("pooled, no DP (logistic regression)", b.Metrics)
		if fe := rep.FinalExact; fe != nil && b.Accuracy > 0 {
			fmt.Fprintf(w, "  %-34s %9.3f\n", "federated exact / pooled", fe.Accuracy/b.Accuracy)
		}
	}
	if b, ok := rep.Baselines[simulate.BaselineAloneBest]; ok {
		name := "best tenant alone, no DP"
		for n := range b.PerTenant {
			name += " (" + n + ")"
		}
		row(name, b.Metrics)
	}
	if b, ok := rep.Baselines[simulate.BaselineAlone]; ok {
		row("mean tenant alone, no DP", b.Metrics)
		perTenant(b)
	}
	if b, ok := rep.Baselines[simulate.BaselineLocalDP]; ok {
		row("local-only, mean (same DP)", b.Metrics)
		perTenant(b)
	}
	if b, ok := rep.Baselines["centralized"]; ok {
		row("centralized, same adapter, no DP", b.Metrics)
	}
}
