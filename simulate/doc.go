// Package simulate runs a whole federation in one process: a coordinator
// and N tenant clients that talk real gRPC over loopback, on synthetic or
// real data split across tenants with Dirichlet label skew, followed by the
// baselines a researcher compares against (each tenant alone with the same
// DP, and all data pooled without privacy). It backs `fedb2b demo` and
// `fedb2b simulate`.
//
// Units: accuracy and macro-F1 are over the union of the tenants' held-out
// splits (read from the sum of their evaluation statistics, noised by each
// tenant at EvalEpsilon; the report adds the exact figure, which only a
// simulation holding all data can count); ε is record-level per tenant at
// the configured δ, computed by each tenant's RDP accountant from its own
// spend records (DP-SGD, noised evaluations, noised example counts).
package simulate
