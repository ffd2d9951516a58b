package coordinator

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/protocol"
)

// Config configures a federation.
type Config struct {
	Task     protocol.TaskSpec
	Rounds   int
	Strategy aggregation.Strategy
	Train    protocol.TrainParams
	// MinJoined tenants must have joined and polled (their data is
	// prepared) before round 1 starts.
	MinJoined int
	// MinClients updates are needed for a round to aggregate.
	MinClients int
	// CohortSize tenants are invited per round; 0 invites every live one.
	CohortSize int
	// RoundTimeout is the deadline of each stage, counted from its start.
	RoundTimeout time.Duration
	// MaxFailedRounds consecutive abandoned rounds end the federation.
	MaxFailedRounds int
	// Retry is what Wait actions tell clients; 0 means 100 ms.
	Retry time.Duration
	// Secure configures secure aggregation, the default of every round.
	// Without it, InsecurePlainAggregation must be set explicitly: the
	// coordinator then sees every client's update.
	Secure                   *SecureConfig
	InsecurePlainAggregation bool
	// EvalEpsilon > 0 asks tenants to noise their evaluation statistics
	// at this record-level ε per evaluation (Gaussian, their own δ); 0
	// asks for exact statistics, which tenants may decline.
	EvalEpsilon float64
	// EvalEvery > 1 evaluates only every EvalEvery-th finished round and
	// the last one (each evaluation costs the tenants budget); 0 or 1
	// evaluates every round.
	EvalEvery int
	// SkipEvaluation runs no evaluation stage: nothing about the tenants'
	// held-out data is released (tenant-level DP runs, whose guarantee the
	// record-level-noised statistics would not be covered by).
	SkipEvaluation bool
	// AverageDecay β in (0, 1) makes the published final model
	// (Federation.Published) the bias-corrected exponential moving
	// average of the global versions the rounds produced
	// (aggregation.IterateAverage) instead of the last one; rounds still
	// train from the last. Post-processing of released versions: nothing
	// is charged. 0 publishes the last version. It needs SkipEvaluation,
	// as federated evaluations would measure another model than the one
	// published.
	AverageDecay float64
}

// Evaluations is how many rounds of rounds are evaluated when every
// every-th round and the last are (every ≤ 1: all; every < 0: none).
func Evaluations(rounds, every int) int {
	if every < 0 {
		return 0
	}
	if every <= 1 {
		return rounds
	}
	n := rounds / every
	if rounds%every != 0 {
		n++
	}
	return n
}

func (c *Config) check() error {
	var errs []error
	if c.Task.ID == "" {
		errs = append(errs, errors.New("task ID is empty"))
	}
	if c.Task.NumParams <= 0 {
		errs = append(errs, fmt.Errorf("task has %d parameters", c.Task.NumParams))
	}
	if _, err := protocol.EvalBound(c.Task); err != nil {
		errs = append(errs, err)
	}
	if c.Task.EvalLen < 1 || c.Task.EvalLen > protocol.MaxEvalLen {
		errs = append(errs, fmt.Errorf("task has %d evaluation statistics, want 1 to %d", c.Task.EvalLen, protocol.MaxEvalLen))
	}
	if c.EvalEvery < 0 {
		errs = append(errs, fmt.Errorf("evaluate every %d rounds: want ≥ 0", c.EvalEvery))
	}
	if c.EvalEpsilon < 0 || math.IsNaN(c.EvalEpsilon) || math.IsInf(c.EvalEpsilon, 0) {
		errs = append(errs, fmt.Errorf("evaluation ε = %v, want a finite ε ≥ 0", c.EvalEpsilon))
	}
	switch {
	case !(c.AverageDecay >= 0 && c.AverageDecay < 1):
		errs = append(errs, fmt.Errorf("iterate average decay %v must be in [0, 1)", c.AverageDecay))
	case c.AverageDecay > 0 && !c.SkipEvaluation:
		errs = append(errs, errors.New("an iterate average is published only without federated evaluation (SkipEvaluation): the evaluations would measure the last version, not the published average"))
	}
	if c.Rounds < 1 {
		errs = append(errs, fmt.Errorf("rounds = %d, need at least 1", c.Rounds))
	}
	if c.Strategy == nil {
		errs = append(errs, errors.New("no aggregation strategy"))
	}
	if c.MinClients < 1 {
		errs = append(errs, fmt.Errorf("min clients = %d, need at least 1", c.MinClients))
	}
	if c.MinJoined < c.MinClients {
		errs = append(errs, fmt.Errorf("min joined = %d is below min clients = %d", c.MinJoined, c.MinClients))
	}
	if c.CohortSize != 0 && c.CohortSize < c.MinClients {
		errs = append(errs, fmt.Errorf("cohort size %d is below min clients %d", c.CohortSize, c.MinClients))
	}
	if c.RoundTimeout <= 0 {
		errs = append(errs, fmt.Errorf("round timeout %v must be positive", c.RoundTimeout))
	}
	switch {
	case c.Secure == nil && !c.InsecurePlainAggregation:
		errs = append(errs, errors.New("no secure aggregation configured: set Secure, or InsecurePlainAggregation to accept that the coordinator sees every update"))
	case c.Secure != nil && c.InsecurePlainAggregation:
		errs = append(errs, errors.New("both Secure and InsecurePlainAggregation are set"))
	case c.Secure != nil:
		if !(c.Secure.ClipNorm > 0) {
			errs = append(errs, fmt.Errorf("secure aggregation clip norm S = %v must be positive", c.Secure.ClipNorm))
		}
		if c.MinClients < 3 {
			errs = append(errs, fmt.Errorf("secure aggregation needs at least 3 clients per round, min clients is %d", c.MinClients))
		}
		if r := c.Secure.RecordDP; r != nil {
			if err := r.check(*c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	p := c.Train
	if !(p.SampleRate > 0 && p.SampleRate <= 1) {
		errs = append(errs, fmt.Errorf("sample rate q = %v must be in (0, 1]", p.SampleRate))
	}
	if !(p.ClipNorm > 0) {
		errs = append(errs, fmt.Errorf("clip norm C = %v must be positive", p.ClipNorm))
	}
	if !(p.NoiseMultiplier >= 0) {
		errs = append(errs, fmt.Errorf("noise multiplier z = %v must be non-negative", p.NoiseMultiplier))
	}
	if p.LocalSteps < 1 {
		errs = append(errs, fmt.Errorf("local steps = %d, need at least 1", p.LocalSteps))
	}
	if p.WeightEpsilon < 0 || math.IsNaN(p.WeightEpsilon) || math.IsInf(p.WeightEpsilon, 0) {
		errs = append(errs, fmt.Errorf("weight ε = %v, want a finite ε ≥ 0", p.WeightEpsilon))
	}
	if !(p.LearningRate > 0) {
		errs = append(errs, fmt.Errorf("learning rate %v must be positive", p.LearningRate))
	}
	if len(errs) > 0 {
		return fmt.Errorf("coordinator: invalid config: %w", errors.Join(errs...))
	}
	if c.MaxFailedRounds == 0 {
		c.MaxFailedRounds = 3
	}
	if c.Retry == 0 {
		c.Retry = 100 * time.Millisecond
	}
	return nil
}
