// Package coordinator runs federated rounds for the platform operator.
//
// The round logic is a pure state machine (Federation): inputs are Join,
// Poll, Submit* and Tick calls carrying the current time; outputs are the
// actions returned to each client and the Events drained by the driver. It
// does no network or disk I/O and reads no clock of its own, so every test is
// deterministic. Service is the thin gRPC adapter that drives it.
//
// A round: the coordinator invites a cohort of live tenants with a plan
// (model version, DP-SGD parameters, deadline). Each invited tenant either
// declines (its own policy or budget says no) or sends its update. At the
// deadline, or once every invitee has answered, the round aggregates if at
// least MinClients contributed, otherwise it is abandoned and the global
// model is unchanged. Then every live tenant evaluates the new version on
// its held-out split and reports the task's evaluation statistics (noised
// at Config.EvalEpsilon); only the sum is kept. The coordinator does not
// interpret tasks: it sums parameter vectors of protocol.TaskSpec.NumParams and
// statistics vectors of protocol.TaskSpec.EvalLen.
//
// The published model (Federation.Published) is the last version, or with
// Config.AverageDecay a moving average of the versions the rounds produced
// (post-processing of released models: no privacy cost).
//
// Threat model: the coordinator is trusted to run the protocol (it chooses
// cohorts and deadlines) but not with tenants' data. In the plain path it
// sees each weighted update; in the secure path (package
// aggregation/secagg) it sees only masked vectors and learns only their sum.
// It never sees a record, an exact example count (weights are counts the
// tenants noise at protocol.TrainParams.WeightEpsilon), or a tenant's keys. The tenants' own ledgers, not the coordinator, are the
// authority for their privacy spend.
//
// # Bounded resources
//
// Service.Upload reads the first chunk's header (tenant, round, payload
// kind, announced size) and checks it against the authenticated caller and
// Federation.CheckUpload (pure: the tenant has joined, the round is
// current, its stage awaits this tenant's payload, the size is within the
// task's limit) before it keeps any byte; the buffer then grows to at most
// the announced size. A tenant has at most one upload open, the service at
// most Limits.MaxUploads; a chunk that does not arrive within
// Limits.RecvIdle, or the stage's deadline, ends the upload; a Download
// ends after Limits.MaxStream. ServerOptions bounds streams per
// connection, fixes the flow-control windows and enforces keepalive.
//
// Memory bound. Let L be the task's largest upload (Federation.
// MaxUploadLimit: 8·(NumParams+1) bytes for a plain update, about
// 4·(padded dimension) for a masked input, plus UploadFraming) and U the
// number of tenants a stage awaits (at most the cohort; evaluation
// uploads are bounded by 10·EvalLen). Upload buffers hold at most
// min(U, MaxUploads)·L bytes, and the heap that uploads add is below
// min(U, MaxUploads)·2L (a buffer and its decoded request) plus
// PerConnection (8 streams × MaxRecvMsg ≈ 1.06 MiB, plus the 4 MiB window:
// 12.5 MiB) of unfinished transport data per open connection, whatever
// tenants outside the awaited set send; `fedb2b coordinator
// --max-connections` bounds the connections (default 1024). The client test
// TestHostileUploadersCannotExhaustMemory checks both over loopback gRPC.
//
// Units: parameters and updates are float64 vectors of the task's adapter
// (TaskSpec.NumParams); an update carries weight·Δ followed by the weight.
// Time is wall-clock time passed in by the caller.
package coordinator
