// Package simulate runs a whole federation in one process: a coordinator
// and N tenant clients that talk real gRPC over loopback, on synthetic or
// real data split across tenants with Dirichlet label skew, followed by the
// baselines a researcher compares against: the honest references (all data
// pooled, and each tenant alone, without privacy, by logistic regression
// fitted to convergence on the same features: what pooling would give and
// what a tenant gets without joining; honest.go), each tenant alone with
// the federation's own DP (a weak baseline, labelled so), and for the LoRA
// head the same adapter trained on pooled data. It backs `fedb2b demo` and
// `fedb2b simulate`.
//
// Units: accuracy and macro-F1 are over the union of the tenants' held-out
// splits (read from the sum of their evaluation statistics, noised by each
// tenant at EvalEpsilon; the report adds the exact figure, which only a
// simulation holding all data can count); ε is record-level per tenant at
// the configured δ, computed by each tenant's RDP accountant from its own
// spend records (DP-SGD, noised evaluations, noised example counts).
//
// Config.DPMode selects the record-level distributed mode (FedSGD, the
// noise added inside secure aggregation; DistributedDefaults). It
// releases no evaluation unless Config.DistributedEvaluation, which the
// intent task uses (IntentConfig.DPMode): the coordinator then plans the
// distributed noise to leave room for the noised evaluations
// (coordinator.RecordDP.EvalNoise), which each tenant charges to its
// ledger as in local mode.
package simulate
