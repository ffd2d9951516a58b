package simulate

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/protocol"
)

// Config configures a simulation. Zero fields take the defaults of
// Defaults.
type Config struct {
	Tenants int
	// Alpha is the Dirichlet concentration of the label skew.
	Alpha float64
	Seed  uint64
	// Data is the labelled data to split; nil synthesises SynthRecords
	// B2B company profiles.
	Data         []dataset.Example
	SynthRecords int
	TestFraction float64

	Encoder   models.Encoder
	Rank      int
	LoRAAlpha float64

	Rounds     int
	LocalSteps int
	SampleRate float64
	// ExpectedBatch is DP-SGD's public normaliser, announced with the
	// task when its spec has none (task.OptionExpectedBatch); 0 means
	// SampleRate·models.DefaultExpectedRecords. Never a tenant's q·N.
	ExpectedBatch float64
	ClipNorm      float64
	LearningRate  float64
	Momentum      float64
	// Noise multiplier z; when 0 it is calibrated so that every tenant's
	// record-level ε after all rounds is TargetEpsilon at Delta.
	NoiseMultiplier float64
	TargetEpsilon   float64
	Delta           float64
	// EpsilonCap is each tenant's own cap (0: TargetEpsilon).
	EpsilonCap float64

	Strategy string // "fedavg" or "fedadam"
	ServerLR float64
	// AverageDecay β in (0, 1) publishes the bias-corrected exponential
	// moving average of the global versions as the final model
	// (coordinator.Config.AverageDecay; runs without federated
	// evaluation only); 0 publishes the last version.
	AverageDecay float64
	MinClients   int
	RoundTimeout time.Duration

	// KillTenant, when set, makes the named tenant vanish (its client
	// stops and its connection closes) after it receives the plan of
	// KillRound, before it sends anything.
	KillTenant string
	KillRound  int

	// InsecurePlainAggregation sends plain updates (the coordinator sees
	// each one); the default is secure aggregation.
	InsecurePlainAggregation bool
	// TenantsRequireSecure leaves the tenants' default policy in place with
	// InsecurePlainAggregation: they decline every plain round (the
	// downgrade test); otherwise the simulated tenants opt in to plain
	// rounds (client.Config.AllowInsecurePlainAggregation).
	TenantsRequireSecure bool
	// HostileTenant names a tenant that sends, in every secure round,
	// share ciphertexts that do not decrypt (signed with its own key, so
	// the coordinator relays them): the hostile-tenant test of issue #14.
	HostileTenant string
	// WrapConn, if set, wraps each tenant's connection to the coordinator
	// (fault injection: lost requests or replies).
	WrapConn func(tenant string, conn api.FederationClient) api.FederationClient
	// UpdateClip S bounds each update's L2 norm in secure aggregation.
	UpdateClip float64
	// MaxWeight caps each tenant's FedAvg weight (its example count) in
	// secure aggregation; negative means unweighted. Ignored with
	// tenant-level DP.
	MaxWeight float64
	// Neighbours k and Threshold t of SecAgg+ (0: full graph, ⌊k/2⌋+1).
	Neighbours, Threshold int
	// DropTenants tenants vanish (their client stops and disconnects) at a
	// random secure-aggregation stage of a random round.
	DropTenants int
	// DropAt makes the named tenants vanish before sending the given
	// stage's message of the given round (fault injection, added to
	// DropTenants' random choices).
	DropAt map[string]DropPoint

	// TenantEpsilon, if positive, adds tenant-level DP inside secure
	// aggregation (distributed discrete Gaussian) calibrated so that each
	// tenant's tenant-level ε after all rounds is TenantEpsilon at Delta.
	TenantEpsilon float64
	// EvalEpsilon, if positive, makes every tenant noise the evaluation
	// statistics it reports (models/task; Gaussian, Google DP library) at
	// this ε per evaluation; the DP-SGD noise is then calibrated so that training and
	// evaluations together stay within TargetEpsilon.
	EvalEpsilon float64
	// WeightEpsilon > 0 makes every tenant noise the example count it
	// releases as its FedAvg weight at this record-level ε per round
	// (protocol.TrainParams.WeightEpsilon); 0 sends exact counts.
	WeightEpsilon float64
	// EvalEvery > 1 evaluates only every EvalEvery-th round and the last
	// (coordinator.Config.EvalEvery).
	EvalEvery int
	// TenantDPEvaluation, with TenantEpsilon, still runs the federated
	// evaluation, whose record-level-noised statistics the tenant-level ε
	// does not cover. Without it, tenant-level runs release no
	// evaluation; the report's exact final figure is the simulation's own.
	TenantDPEvaluation bool
	// Adapter is the classification adapter: "head" (default, the LoRA
	// classifier over pooled vectors), "linear" (the full-rank linear
	// head, models.LinearHead, trained by DP-Adam; LinearDefaults gives
	// its settings) or "encoder-lora" (LoRA on the query and value
	// projections of the top LoRALayers layers of a bert: encoder, rank
	// Rank, with a linear head; the baselines are then skipped).
	Adapter    string
	LoRALayers int
	// AdaptiveQuantile in (0, 1), with TenantEpsilon, makes the update
	// clip follow that quantile of the update norms (adaptive clipping,
	// starting at UpdateClip); 0 keeps the clip fixed.
	AdaptiveQuantile float64

	// DPMode is the record-level trust model: "" or "local" (local
	// DP-SGD, the default) or DPModeDistributed (record-level DP with
	// the noise added inside secure aggregation, FedSGD; see
	// DistributedDefaults). HonestTenants is the number of honest
	// tenants the distributed mode's ε assumes in every unmasked sum (0:
	// t − c + 1, the most the tenants' secure-aggregation policy allows;
	// the mode's default threshold t is n − 1); each tenant records it in its ledger and helps unmask
	// only sums of at least HonestTenants + AssumeColluders inputs.
	// TenantDPMode, if set, is the tenants' own policy instead of DPMode
	// (a tenant in local mode declines distributed rounds).
	DPMode          string
	HonestTenants   int
	AssumeColluders int
	TenantDPMode    string
	// DistributedEvaluation, with DPMode distributed, still runs the
	// federated evaluation (EvalEpsilon per evaluation, EvalEvery): the
	// coordinator plans the distributed noise so that the rounds and the
	// noised evaluations together keep TargetEpsilon
	// (coordinator.RecordDP.EvalNoise), and each tenant charges every
	// evaluation to its ledger as in local mode. The published model is
	// then the last version (AverageDecay must be 0: the evaluations
	// measure it). Without it the distributed mode releases no
	// evaluation.
	DistributedEvaluation bool
	// AssumeColludersOf overrides AssumeColluders for the named tenants
	// (each tenant chooses its own --assume-colluders).
	AssumeColludersOf map[string]int

	// InsecureNoTLS talks plain gRPC on loopback; the default is an
	// operator CA, tenant enrolment and mutual TLS 1.3.
	InsecureNoTLS bool

	// Workdir, if set, keeps every party's files as separate servers
	// would: Workdir/coordinator/ and Workdir/<tenant>/ each hold an
	// age-encrypted signing key, its public key and a privacy ledger.
	Workdir string

	// Rand seeds every tenant's DP-SGD generator; nil means crypto/rand.
	// Only tests and reproducible experiments pass a seeded reader.
	Rand io.Reader
	Log  *slog.Logger
	// Baselines runs the local-only and centralized baselines.
	Baselines bool
	// Progress, if set, is told when each long local step starts
	// (preparing and encoding the data, training, counting the final
	// model, each baseline), for a terminal's progress line.
	Progress func(step string)
	// Observe, if set, sees every coordinator event with the task and the
	// federation that emitted it, under its lock (the operator's
	// dashboard).
	Observe func(protocol.TaskSpec, *coordinator.Federation, coordinator.Event)
}

// evaluates says whether the federation releases evaluation statistics.
// ExactReleases lists the exact (un-noised) record-level releases c asks
// for: evaluation statistics with EvalEpsilon 0, example counts with
// WeightEpsilon 0 in weighted rounds. Under add/remove-one adjacency an
// exact count has ε = ∞; the demo refuses such a run unless told to allow
// it, and the report then gives every tenant that took part ε = ∞.
func (c Config) ExactReleases() []string {
	if (c.TenantEpsilon > 0 && !c.TenantDPEvaluation) || (c.distributed() && !c.DistributedEvaluation) {
		return nil // tenant-level and distributed runs release no evaluation and no counts
	}
	var out []string
	if c.evaluates() && c.EvalEpsilon == 0 {
		out = append(out, "evaluation statistics (eval ε 0)")
	}
	if c.weighted() && c.WeightEpsilon == 0 {
		out = append(out, "example counts (weight ε 0)")
	}
	return out
}

func (c Config) evaluates() bool {
	return (c.TenantEpsilon == 0 || c.TenantDPEvaluation) && (!c.distributed() || c.DistributedEvaluation)
}

// Defaults returns the demo's configuration: synthetic data, 5 tenants.
func Defaults() Config {
	return Config{
		Tenants:       5,
		Alpha:         0.5,
		Seed:          1,
		SynthRecords:  6000,
		TestFraction:  0.2,
		Rank:          256,
		Rounds:        8,
		LocalSteps:    50,
		SampleRate:    0.1,
		ClipNorm:      1,
		LearningRate:  8,
		Momentum:      0.9,
		TargetEpsilon: 8,
		Delta:         1e-5,
		Strategy:      "fedavg",
		ServerLR:      1.5,
		RoundTimeout:  30 * time.Second,
		UpdateClip:    100,
		MaxWeight:     10000,
		EvalEpsilon:   0.5,
		WeightEpsilon: 0.05,
		Baselines:     true,
	}
}

// LinearDefaults returns Defaults with the linear adapter and its
// settings (models.DefaultLinearPrivateConfig, chosen on development
// splits): DP-Adam at learning rate 0.05, 100 local steps per round, q =
// 0.1, plain FedAvg (server learning rate 1), update clip S = 1000. The encoder is the caller's
// (the demo uses hashing with models.DefaultLinearDim buckets).
func LinearDefaults() Config {
	c := Defaults()
	d := models.DefaultLinearPrivateConfig(models.DefaultLinearLocalSteps, 1)
	c.Adapter = "linear"
	c.LearningRate, c.LocalSteps, c.SampleRate, c.ClipNorm = d.LearningRate, d.Steps, d.SampleRate, d.ClipNorm
	c.Rounds = models.DefaultLinearRounds
	c.ServerLR = 1
	// Every weight trains, so a round's update has many more coordinates
	// than the LoRA head's: S = 100 clipped every update on the synthetic
	// demo data. S only bounds the secure sum (the record-level DP comes
	// from DP-SGD), so a looser bound costs quantisation precision only.
	c.UpdateClip = 1000
	return c
}

func (c *Config) fill() error {
	d := Defaults()
	c.Tenants = cmp.Or(c.Tenants, d.Tenants)
	c.Alpha = cmp.Or(c.Alpha, d.Alpha)
	c.SynthRecords = cmp.Or(c.SynthRecords, d.SynthRecords)
	c.TestFraction = cmp.Or(c.TestFraction, d.TestFraction)
	c.Rank = cmp.Or(c.Rank, d.Rank)
	c.Rounds = cmp.Or(c.Rounds, d.Rounds)
	c.LocalSteps = cmp.Or(c.LocalSteps, d.LocalSteps)
	c.SampleRate = cmp.Or(c.SampleRate, d.SampleRate)
	c.ExpectedBatch = cmp.Or(c.ExpectedBatch, c.SampleRate*models.DefaultExpectedRecords)
	c.ClipNorm = cmp.Or(c.ClipNorm, d.ClipNorm)
	c.LearningRate = cmp.Or(c.LearningRate, d.LearningRate)
	c.Delta = cmp.Or(c.Delta, d.Delta)
	if c.TargetEpsilon == 0 && c.NoiseMultiplier == 0 {
		c.TargetEpsilon = d.TargetEpsilon
	}
	c.EpsilonCap = cmp.Or(c.EpsilonCap, c.TargetEpsilon)
	c.Strategy = cmp.Or(c.Strategy, d.Strategy)
	c.ServerLR = cmp.Or(c.ServerLR, d.ServerLR)
	c.MinClients = cmp.Or(c.MinClients, max(min(3, c.Tenants), (c.Tenants+1)/2))
	c.MaxWeight = cmp.Or(c.MaxWeight, d.MaxWeight)
	c.UpdateClip = cmp.Or(c.UpdateClip, d.UpdateClip)
	c.RoundTimeout = cmp.Or(c.RoundTimeout, d.RoundTimeout)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if c.Tenants < 1 {
		errs = append(errs, fmt.Errorf("tenants = %d, need at least 1", c.Tenants))
	}
	if c.MinClients > c.Tenants {
		errs = append(errs, fmt.Errorf("min clients %d exceeds tenants %d", c.MinClients, c.Tenants))
	}
	if !(c.TestFraction > 0 && c.TestFraction < 1) {
		errs = append(errs, fmt.Errorf("test fraction %v must be in (0, 1)", c.TestFraction))
	}
	if !(c.Delta > 0 && c.Delta < 1) {
		errs = append(errs, fmt.Errorf("δ = %v must be in (0, 1)", c.Delta))
	}
	if !c.InsecurePlainAggregation && c.MinClients < 3 {
		errs = append(errs, fmt.Errorf("secure aggregation needs at least 3 clients per round (min clients %d)", c.MinClients))
	}
	if c.TenantEpsilon > 0 && c.InsecurePlainAggregation {
		errs = append(errs, errors.New("tenant-level DP is added inside secure aggregation: it cannot be combined with plain aggregation"))
	}
	if c.DropTenants < 0 || c.DropTenants >= c.Tenants {
		errs = append(errs, fmt.Errorf("drop tenants %d must be in [0, tenants)", c.DropTenants))
	}
	if c.Strategy != "fedavg" && c.Strategy != "fedadam" {
		errs = append(errs, fmt.Errorf("strategy %q: want fedavg or fedadam", c.Strategy))
	}
	if err := c.checkDPMode(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("simulate: %w", errors.Join(errs...))
	}
	return nil
}

// progress reports the start of a long step, when anyone listens.
func (c Config) progress(step string) {
	if c.Progress != nil {
		c.Progress(step)
	}
}
