package models

import (
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/privacy"
)

// maxTrainSteps bounds Steps in a TrainConfig received from elsewhere.
const maxTrainSteps = 1 << 24

// clipEpsilon is added to a per-example norm before dividing, as in the
// reference vectors: factor = min(1, C/(‖g‖+clipEpsilon)).
const clipEpsilon = 1e-12

// TrainConfig sets up local training.
//
// With Private, every step is one DP-SGD step (Abadi et al. 2016): Poisson
// sampling (each example independently with probability SampleRate q),
// per-example gradients clipped to L2 norm ≤ ClipNorm C (factor
// min(1, C/(‖g‖+1e-12))), summed, plus N(0, (z·C)²) noise on every
// coordinate (z = NoiseMultiplier), divided by ExpectedBatch, then an SGD
// step. ExpectedBatch is a public constant of the plan or task, never
// computed from the tenant's data: dividing by the realised batch or by
// q·N with the tenant's true N would make the scale of the noise in every
// update reveal N (issue #13, finding 2; privacy/empirical's audit
// catches it). The sampled-Gaussian accountant covers the noised sum; a
// public divisor is post-processing. The privacy of the run is that of Steps
// compositions of the sampled Gaussian mechanism with (q, z); the privacy
// package accounts it.
//
// Without Private, the same code runs with no clipping and no noise on
// fixed-size minibatches (BatchSize) from a reshuffled permutation each
// epoch, dividing by the actual batch size: the non-private baseline.
type TrainConfig struct {
	Steps        int
	LearningRate float64
	// Momentum is the heavy-ball coefficient μ in [0, 1): m ← μ·m + g,
	// θ ← θ − lr·m. The momentum buffer starts at zero for every Train call.
	Momentum float64

	Private         bool
	SampleRate      float64 // q in (0, 1]
	ClipNorm        float64 // C > 0
	NoiseMultiplier float64 // z > 0
	// ExpectedBatch > 0 divides the noised sum of every private step: the
	// plan's public expected batch size (task.ExpectedBatch), the same for
	// every tenant, never q·N of a tenant's own N.
	ExpectedBatch float64

	BatchSize int // non-private minibatch size, ≥ 1
}

// Check validates cfg (for example a plan received from a coordinator).
func (cfg TrainConfig) Check() error {
	switch {
	case cfg.Steps < 0 || cfg.Steps > maxTrainSteps:
		return fmt.Errorf("models: steps %d out of range [0, %d]", cfg.Steps, maxTrainSteps)
	case !(cfg.LearningRate > 0) || math.IsInf(cfg.LearningRate, 0):
		return fmt.Errorf("models: learning rate %v must be positive and finite", cfg.LearningRate)
	case !(cfg.Momentum >= 0 && cfg.Momentum < 1):
		return fmt.Errorf("models: momentum %v out of range [0, 1)", cfg.Momentum)
	}
	if cfg.Private {
		switch {
		case !(cfg.SampleRate > 0 && cfg.SampleRate <= 1):
			return fmt.Errorf("models: sample rate %v out of range (0, 1]", cfg.SampleRate)
		case !(cfg.ClipNorm > 0) || math.IsInf(cfg.ClipNorm, 0):
			return fmt.Errorf("models: clip norm %v must be positive and finite", cfg.ClipNorm)
		case !(cfg.NoiseMultiplier > 0) || math.IsInf(cfg.NoiseMultiplier, 0):
			return fmt.Errorf("models: noise multiplier %v must be positive and finite", cfg.NoiseMultiplier)
		case !(cfg.ExpectedBatch > 0) || math.IsInf(cfg.ExpectedBatch, 0):
			return fmt.Errorf("models: expected batch %v must be positive and finite (a public constant of the plan, not q·N of the tenant's own N)", cfg.ExpectedBatch)
		}
	} else if cfg.BatchSize < 1 {
		return fmt.Errorf("models: batch size %d must be at least 1", cfg.BatchSize)
	}
	return nil
}

// TrainStats are local diagnostics of a Train call. They are computed from
// private data: do not release them.
type TrainStats struct {
	Steps    int     // steps taken
	Examples int     // example gradients computed (sum of batch sizes)
	MeanLoss float64 // mean cross-entropy of those examples, before their step
	// ClippedFraction is the fraction of per-example gradients whose norm
	// exceeded ClipNorm (private training only).
	ClippedFraction float64
}

// ErrDiverged is returned by Train when a parameter became NaN
// or infinite;
// the classifier is then restored to its parameters before the call.
var ErrDiverged = errors.New("models: training diverged")

// Train runs cfg.Steps steps on the feature rows f (from Project) with
// labels y in [0, Classes). All randomness (sampling, noise, shuffling)
// comes from rng; in production build it with privacy.NewRand(crypto/rand.Reader).
func (c *Classifier) Train(f [][]float64, y []int, cfg TrainConfig, rng *mrand.Rand) (TrainStats, error) {
	if err := cfg.Check(); err != nil {
		return TrainStats{}, err
	}
	// DP-SGD runs its steps (noise only) without examples: failing would
	// tell a tenant with none from one with a single example.
	if !cfg.Private || len(f) > 0 || len(y) > 0 {
		if err := c.checkTrainData(f, y); err != nil {
			return TrainStats{}, err
		}
	}
	if rng == nil {
		return TrainStats{}, errors.New("models: train needs a random generator")
	}
	before := c.Params()
	t := newTrainer(c)
	batches := NewBatches(cfg, len(f))
	var st TrainStats
	var lossSum float64
	var clipped int
	for step := 0; step < cfg.Steps; step++ {
		var denom, clip float64
		t.batch, denom, clip = batches.Next(rng)
		ls, cl := t.accumulate(f, y, t.batch, clip)
		if cfg.Private {
			privacy.AddGaussian(t.sum, cfg.NoiseMultiplier*cfg.ClipNorm, rng)
		}
		t.apply(denom, cfg.LearningRate, cfg.Momentum)
		lossSum += ls
		clipped += cl
		st.Examples += len(t.batch)
		st.Steps++
	}
	if st.Examples > 0 {
		st.MeanLoss = lossSum / float64(st.Examples)
		if cfg.Private {
			st.ClippedFraction = float64(clipped) / float64(st.Examples)
		}
	}
	// Private training checks only the parameters (noised: post-processing
	// of the mechanism's output): whether training goes on must not depend
	// on the un-noised loss of the private examples (#13, finding 6). An
	// example whose gradient is not finite contributes nothing
	// (accumulate). Non-private training also checks the loss.
	diverged := !cfg.Private && (math.IsNaN(lossSum) || math.IsInf(lossSum, 0))
	for _, p := range c.trainable() {
		if diverged || firstNonFinite(p) >= 0 {
			_ = c.SetParams(before)
			return st, fmt.Errorf("%w after %d steps (lower the learning rate)", ErrDiverged, st.Steps)
		}
	}
	return st, nil
}

func (c *Classifier) checkTrainData(f [][]float64, y []int) error {
	if len(f) != len(y) {
		return fmt.Errorf("models: %d feature rows but %d labels", len(f), len(y))
	}
	if len(f) == 0 {
		return errors.New("models: no training examples")
	}
	if err := c.checkFeatures(f); err != nil {
		return err
	}
	for i, l := range y {
		if l < 0 || l >= c.cfg.Classes {
			return fmt.Errorf("models: label %d of example %d out of range [0, %d)", l, i, c.cfg.Classes)
		}
	}
	return nil
}
