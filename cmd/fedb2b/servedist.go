package main

import (
	"flag"

	"github.com/fedb2b/fedb2b/simulate"
)

// serveDistributedDefaults sets, for the coordinator's flags not given,
// the record-level distributed mode's settings (simulate.DistributedDefaults,
// chosen on development splits): rounds, q, C, FedAdam, its server
// learning rate and the published iterate average's decay.
func serveDistributedDefaults(fs *flag.FlagSet, rounds *int, q, clip *float64, strategy *string, serverLR, avgDecay *float64) {
	d := simulate.DistributedDefaults()
	for name, set := range map[string]func(){
		"rounds":        func() { *rounds = d.Rounds },
		"q":             func() { *q = d.SampleRate },
		"clip":          func() { *clip = d.ClipNorm },
		"strategy":      func() { *strategy = d.Strategy },
		"server-lr":     func() { *serverLR = d.ServerLR },
		"average-decay": func() { *avgDecay = d.AverageDecay },
	} {
		if !flagSet(fs, name) {
			set()
		}
	}
}
