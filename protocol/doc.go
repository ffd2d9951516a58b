// Package protocol is the contract between a tenant's client and the
// operator's coordinator: what both sides must compute identically and
// nothing either side runs alone.
//
// It holds the task description (TaskSpec) and a round's record-level
// training and privacy parameters (TrainParams) with their conversion to
// and from the gRPC types of package api; the parameter-vector codec of
// model downloads (EncodeParams, DecodeParams: one F64 safetensors tensor);
// the weighting of an update inside secure aggregation (WeightedVector,
// WeightedClip: the client weights, the coordinator only divides the sum);
// and the hashes both sides record in their ledgers so an auditor can
// match them (UpdateHash, CountsHash) or derive public per-round values
// from (RotationSeed). Subpackage certs holds the certificate, key,
// tenant-name and invitation formats both sides read.
//
// What must never be here: anything only one side runs (the coordinator's
// round state machine, strategies and CA; the client's policy, budget,
// training and ledger), any I/O beyond the files of certs, and any import
// of client/, coordinator/, simulate/ or cmd/. protocol may use the
// neutral libraries it encodes with (models for safetensors, privacy/ddg
// for the rotation seed type). TestImportRules enforces the layering of
// the whole module: client and coordinator never depend on each other;
// models, privacy and aggregation depend on neither; only cmd imports
// simulate (tests may cross sides).
//
// Units: parameters are float64 adapter values; weights are example
// counts (records, capped by the plan's maximum weight); clip norms are
// L2 in parameter units.
package protocol
