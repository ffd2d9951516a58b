// Package aggregation holds the server-side strategies of fedb2b: how the
// coordinator turns the sum of the clients' updates into the next global
// adapter. It does no I/O and never sees an individual client's update: a
// strategy receives only the weighted sum of a round's surviving updates and
// the sum of their weights, which is exactly what secure aggregation
// (subpackage secagg) reveals.
//
// Units: parameters are the flattened trainable adapter vector (float64); an
// update is a difference Δ = local − global; a client's contribution to the
// sum is w·Δ with weight w (its number of training examples, or 1 for
// uniform weighting), and w itself is summed alongside.
//
// The interface follows Flower's configure/aggregate pair: ConfigureFit says
// what a round asks of the clients and does no I/O; AggregateFit receives
// the aggregate and the failures separately.
//
// IterateAverage is not a strategy: it averages the global models a
// strategy produced (the model the coordinator publishes), reading nothing
// a tenant did not already receive.
package aggregation
