package coordinator

import (
	"errors"
	"time"

	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/protocol"
)

// ActionKind says what a client should do next.
type ActionKind int

// The actions a Poll can return.
const (
	ActWait ActionKind = iota
	ActTrain
	ActEval
	ActFinished
	ActSecAgg
)

// Plan is a round's training instruction to one invited client.
type Plan struct {
	Round      int
	Version    int
	Params     protocol.TrainParams
	Deadline   time.Time
	MinClients int
	Cohort     []string
	// Secure is set when the update goes through secure aggregation.
	Secure *SecurePlan
}

// Action is the answer to a Poll.
type Action struct {
	Kind    ActionKind
	Retry   time.Duration // ActWait
	Plan    *Plan         // ActTrain
	Round   int           // ActEval
	EvalEps float64       // ActEval: ε of the noised statistics (0: exact)
	Version int           // ActEval: the version to evaluate; ActFinished: the final one
	Reason  string        // ActFinished
	// ActSecAgg: the secure-aggregation stage ("share_keys", "check_shares",
	// "masked_input", "consistency", "unmask" or "abort") and its opaque
	// messages. Clients send StageLeave (no messages) when they leave.
	Stage    string
	Messages [][]byte
}

// EventKind classifies what the federation reports to its driver.
type EventKind int

// The events of a federation.
const (
	EvRoundStarted EventKind = iota
	EvRoundAggregated
	EvRoundAbandoned
	EvEvaluated
	EvFinished
	// EvStage: round Round entered stage Stage — a secure-aggregation
	// stage after the previous one closed ("share_keys", "check_shares",
	// "masked_input", "consistency", "unmask"), or "evaluate" once the round's version exists. Drivers
	// that do not track stages ignore it; a round's start is
	// EvRoundStarted.
	EvStage
	// EvReceived: the coordinator received a release from Tenant in round
	// Round: Received names what (a privacy/ledger Kind*), Artifacts[Tenant]
	// its hash; Head, if set, is the tenant's signed ledger head sent with
	// it. The coordinator's ledger records every one (LedgerRecorder).
	EvReceived
)

// Event is a record of something that happened; drivers log, store and
// display them. Events never carry an update or a key.
type Event struct {
	Kind         EventKind
	Round        int
	Version      int
	Time         time.Time
	Cohort       []string
	Participants []string          // tenants whose update is in the sum
	Declined     map[string]string // tenant → reason it gave
	Dropped      []string          // invited, no answer by the deadline
	DroppedAt    map[string]string // secure rounds: tenant → stage it vanished in
	// Blamed lists a secure round's complaints and bad revealed shares,
	// "accused: reason" (aggregation/secagg, Server.Blamed).
	Blamed []string
	// Artifacts holds, per participant, the SHA-256 of what it released
	// to the coordinator (UpdateHash of a plain update; the bytes of a
	// masked input), which the tenant's own ledger records too.
	Artifacts map[string][32]byte
	// TenantDP is the round's distributed discrete Gaussian (tenant-level
	// DP rounds only) and TenantDelta its δ.
	TenantDP    *ddg.Params
	TenantDelta float64
	// RecordDP is the round's record-level distributed mode (nil
	// otherwise): EvReceived masked inputs are recorded under it.
	RecordDP *ddg.Record
	// TenantCharged lists, on an abandoned tenant-level round, the tenants
	// whose tenant-level spend counts although no sum was released: they
	// advertised keys, so their own ledgers hold the round's intent (the
	// simulation's and the demo's tenant-level ε charge them too).
	TenantCharged []string
	// UpdateClip is a secure round's update clip norm S (it moves between
	// rounds under adaptive clipping).
	UpdateClip float64
	// EvalSkipped is set on EvRoundAggregated when the round's version is
	// not evaluated (Config.EvalEvery).
	EvalSkipped bool
	// EvEvaluated: the summed evaluation statistics of the task
	// (models/task reads them), the tenants in the sum, those that
	// declined, and the per-tenant ε each noised them at (0: exact;
	// also on an EvReceived of noised statistics: the ε the plan asked
	// for, which the coordinator's ledger records).
	Stats       []int64
	Evaluators  []string
	EvalDecline []string
	EvalEpsilon float64
	Reason      string
	Stage       string // EvStage: the stage the round entered
	// EvStage of a secure round: Closed is the stage that closed,
	// ByDeadline says its deadline closed it (not every awaited answer),
	// Participants are the tenants awaited in Stage, Dropped those silent
	// in Closed and Excluded those the protocol left out when it closed
	// (after the share check: no receipt, or fewer than t partners); Left
	// are those that said they left the round (StageLeave) in Closed.
	Closed     string
	ByDeadline bool
	Excluded   []string
	Left       []string
	// EvReceived: who sent what (see EvReceived); NoisedCount says that the
	// update carries a noised example count as its weight.
	Tenant      string
	Received    string
	NoisedCount bool
	Head        *LedgerHead
}

// LedgerHead is a tenant's signed ledger head (privacy/ledger.Head) as it
// arrived with a submission; the coordinator records it without trusting it
// and the auditor checks it against the tenant's ledger.
type LedgerHead struct {
	Seq       uint64
	Hash      string
	Signature []byte
}

// Errors returned for messages the federation refuses. Wrapped errors say
// which tenant, round and field; match with errors.Is.
var (
	ErrUnknownTenant   = errors.New("unknown tenant")
	ErrBadTenant       = errors.New("invalid tenant name")
	ErrEncoderMismatch = errors.New("encoder does not match the task")
	ErrWrongRound      = errors.New("message is for another round")
	ErrWrongStage      = errors.New("message does not fit the round's stage")
	ErrNotInvited      = errors.New("tenant is not in this round's cohort")
	ErrDuplicate       = errors.New("tenant already answered this stage")
	ErrBadUpdate       = errors.New("invalid update")
	ErrFinished        = errors.New("federation has finished")
)
