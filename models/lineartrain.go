package models

import (
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/privacy"
)

// Optimisers of LinearTrainConfig.
const (
	OptimizerSGD  = "sgd"  // heavy-ball SGD: m ← μ·m + g, θ ← θ − lr·m
	OptimizerAdam = "adam" // Adam (Kingma & Ba 2015) with bias correction
)

// LinearTrainConfig sets up the training of a LinearHead.
//
// With Private, every step is one DP-SGD step: Poisson sampling at rate
// SampleRate q, each example's gradient clipped to L2 norm ClipNorm C,
// summed, plus N(0, (z·C)²) on every coordinate, divided by ExpectedBatch,
// then an optimiser step. ExpectedBatch is a PUBLIC constant of the task
// (announced with q), never derived from the private record count: a
// denominator q·n would make every released update scale with n, which
// add-or-remove-one adjacency changes, and the sampled-Gaussian accounting
// would no longer cover it. The optimiser only post-processes the noised
// sums, so the privacy is that of Steps compositions of the sampled
// Gaussian mechanism with (q, z), accounted by package privacy.
//
// Without Private there is no clipping or noise: fixed-size minibatches of
// BatchSize from a permutation reshuffled every epoch, divided by the
// batch size (the non-private path; FitLinear is the strong baseline).
type LinearTrainConfig struct {
	Steps        int
	LearningRate float64
	Optimizer    string  // OptimizerAdam (default "") or OptimizerSGD
	Momentum     float64 // SGD only, in [0, 1)
	// Beta1, Beta2 and AdamEps are Adam's constants (0: 0.9, 0.999, 1e-8).
	Beta1, Beta2, AdamEps float64

	Private         bool
	SampleRate      float64 // q in (0, 1]
	ClipNorm        float64 // C > 0
	NoiseMultiplier float64 // z > 0
	ExpectedBatch   float64 // public denominator of the noised sum, > 0

	BatchSize int // non-private minibatch size

	// AverageTail in [0, 1): if positive, the head ends the call at the
	// mean of its iterates over the last AverageTail fraction of the steps
	// (tail averaging, Polyak–Ruppert) instead of the last iterate. The
	// iterates are post-processing of the noised sums, so the privacy is
	// unchanged; averaging cancels much of the noise the last iterate
	// carries.
	AverageTail float64

	// FreezeBias keeps b fixed: the per-example gradient is then x ⊗ g
	// alone, of norm ‖g‖·‖x‖, so the whole clip budget goes to W instead
	// of half of it to b for unit-norm x.
	FreezeBias bool
}

func (cfg *LinearTrainConfig) fill() {
	if cfg.Optimizer == "" {
		cfg.Optimizer = OptimizerAdam
	}
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.AdamEps == 0 {
		cfg.AdamEps = 1e-8
	}
}

// Check validates cfg (for example parameters received from a coordinator).
func (cfg LinearTrainConfig) Check() error {
	cfg.fill()
	finitePos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case cfg.Steps < 0 || cfg.Steps > maxTrainSteps:
		return fmt.Errorf("models: steps %d out of range [0, %d]", cfg.Steps, maxTrainSteps)
	case !finitePos(cfg.LearningRate):
		return fmt.Errorf("models: learning rate %v must be positive and finite", cfg.LearningRate)
	case cfg.Optimizer != OptimizerAdam && cfg.Optimizer != OptimizerSGD:
		return fmt.Errorf("models: optimizer %q (want %q or %q)", cfg.Optimizer, OptimizerAdam, OptimizerSGD)
	case !(cfg.Momentum >= 0 && cfg.Momentum < 1):
		return fmt.Errorf("models: momentum %v out of range [0, 1)", cfg.Momentum)
	case !(cfg.Beta1 >= 0 && cfg.Beta1 < 1) || !(cfg.Beta2 >= 0 && cfg.Beta2 < 1) || !finitePos(cfg.AdamEps):
		return fmt.Errorf("models: Adam constants β1 %v, β2 %v, ε %v out of range", cfg.Beta1, cfg.Beta2, cfg.AdamEps)
	}
	if cfg.Private {
		switch {
		case !(cfg.SampleRate > 0 && cfg.SampleRate <= 1):
			return fmt.Errorf("models: sample rate %v out of range (0, 1]", cfg.SampleRate)
		case !finitePos(cfg.ClipNorm):
			return fmt.Errorf("models: clip norm %v must be positive and finite", cfg.ClipNorm)
		case !finitePos(cfg.NoiseMultiplier):
			return fmt.Errorf("models: noise multiplier %v must be positive and finite", cfg.NoiseMultiplier)
		case !finitePos(cfg.ExpectedBatch):
			return fmt.Errorf("models: expected batch size %v must be a positive public constant", cfg.ExpectedBatch)
		}
	} else if cfg.BatchSize < 1 {
		return fmt.Errorf("models: batch size %d must be at least 1", cfg.BatchSize)
	}
	if !(cfg.AverageTail >= 0 && cfg.AverageTail < 1) {
		return fmt.Errorf("models: average tail %v out of range [0, 1)", cfg.AverageTail)
	}
	return nil
}

// LinearTrainer trains one LinearHead and keeps its optimiser state
// (momentum or Adam moments and step count) across Train calls, so a
// tenant's learner can carry it from round to round. The state is derived
// only from noised sums when training is private (post-processing).
type LinearTrainer struct {
	h     *LinearHead
	sum   []float64 // gradient sum, Params order
	m, v  []float64 // momentum / Adam first moment; Adam second moment
	t     int       // Adam steps taken
	z     []float64
	batch []int
	row   SparseRow // decoding buffer of a RowStore's rows
}

// NewLinearTrainer returns a trainer for h with zero optimiser state.
func NewLinearTrainer(h *LinearHead) *LinearTrainer {
	n := h.NumParams()
	return &LinearTrainer{h: h, sum: make([]float64, n), m: make([]float64, n), v: make([]float64, n), z: make([]float64, h.cfg.Classes)}
}

// ResetOptimizer zeroes the optimiser state.
func (t *LinearTrainer) ResetOptimizer() {
	clear(t.m)
	clear(t.v)
	t.t = 0
}

// Train runs cfg.Steps steps on rows with labels y. All randomness
// (sampling, noise, shuffling) comes from rng (privacy.NewRand over
// crypto/rand in production). On divergence the head is restored and
// ErrDiverged returned.
func (t *LinearTrainer) Train(rows []SparseRow, y []int, cfg LinearTrainConfig, rng *mrand.Rand) (TrainStats, error) {
	return t.TrainRows(SliceRows(rows), y, cfg, rng)
}

// TrainRows is Train over any Rows (a compact RowStore in the tenants'
// learners).
func (t *LinearTrainer) TrainRows(rows Rows, y []int, cfg LinearTrainConfig, rng *mrand.Rand) (TrainStats, error) {
	cfg.fill()
	if err := cfg.Check(); err != nil {
		return TrainStats{}, err
	}
	h := t.h
	// Private training without examples still runs its steps (noise
	// only): an error or an exactly-zero update would tell a tenant with
	// one record from one with none.
	if rows.Len() != len(y) || (rows.Len() == 0 && !cfg.Private) {
		return TrainStats{}, fmt.Errorf("models: %d rows and %d labels (need the same, at least one without DP)", rows.Len(), len(y))
	}
	if err := h.checkRows(rows); err != nil {
		return TrainStats{}, err
	}
	for i, l := range y {
		if l < 0 || l >= h.cfg.Classes {
			return TrainStats{}, fmt.Errorf("models: label %d of example %d out of range [0, %d)", l, i, h.cfg.Classes)
		}
	}
	if rng == nil {
		return TrainStats{}, errors.New("models: train needs a random generator")
	}
	before := h.Params()
	tc := TrainConfig{Private: cfg.Private, SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, BatchSize: cfg.BatchSize}
	batches := NewBatches(tc, rows.Len())
	var st TrainStats
	var lossSum float64
	var clipped int
	// Steps from avgFrom on are averaged into avg.
	avgFrom := cfg.Steps
	var avg []float64
	if cfg.AverageTail > 0 {
		avgFrom = cfg.Steps - max(1, int(math.Round(cfg.AverageTail*float64(cfg.Steps))))
		avg = make([]float64, h.NumParams())
	}
	for step := 0; step < cfg.Steps; step++ {
		batch, denom, clip := batches.Next(rng)
		ls, cl := t.accumulate(rows, y, batch, clip, cfg.FreezeBias)
		if cfg.Private {
			privacy.AddGaussian(t.sum, cfg.NoiseMultiplier*cfg.ClipNorm, rng)
			denom = cfg.ExpectedBatch
		}
		if cfg.FreezeBias {
			clear(t.sum[len(h.w):]) // no gradient, no noise: b stays
		}
		t.apply(denom, cfg)
		if step >= avgFrom {
			axpy(avg[:len(h.w)], 1, h.w)
			axpy(avg[len(h.w):], 1, h.b)
		}
		lossSum += ls
		clipped += cl
		st.Examples += len(batch)
		st.Steps++
	}
	if st.Examples > 0 {
		st.MeanLoss = lossSum / float64(st.Examples)
		if cfg.Private {
			st.ClippedFraction = float64(clipped) / float64(st.Examples)
		}
	}
	if avg != nil && cfg.Steps > 0 {
		inv := 1 / float64(cfg.Steps-avgFrom)
		for i := range avg {
			avg[i] *= inv
		}
		if firstNonFinite(avg) < 0 {
			_ = h.SetParams(avg)
		}
	}
	// The loss sum is un-noised: under DP only the (noised) parameters
	// may decide divergence, or whether training fails would reveal a
	// record whose loss is not finite (a record with a NaN/Inf gradient
	// norm is skipped by accumulate, within the sensitivity).
	lossBad := !cfg.Private && (math.IsNaN(lossSum) || math.IsInf(lossSum, 0))
	if lossBad || firstNonFinite(h.w) >= 0 || firstNonFinite(h.b) >= 0 {
		_ = h.SetParams(before)
		t.ResetOptimizer()
		return st, fmt.Errorf("%w after %d steps (lower the learning rate)", ErrDiverged, st.Steps)
	}
	return st, nil
}

// accumulate sets t.sum to Σ factor_i·∂_i over the batch. The gradient of
// example i is (x_i ⊗ g_i, g_i) with g_i = p_i − e_{y_i}, so
// ‖∂_i‖ = ‖g_i‖·√(‖x_i‖² + 1) without materialising it; factor_i =
// min(1, clip/(‖∂_i‖+1e-12)) when clip > 0, else 1. Only the rows of W
// selected by x_i's non-zero entries are touched.
func (t *LinearTrainer) accumulate(rows Rows, y []int, batch []int, clip float64, freezeBias bool) (lossSum float64, clipped int) {
	h := t.h
	k := h.cfg.Classes
	clear(t.sum)
	sumB := t.sum[len(h.w):]
	z := t.z
	for _, i := range batch {
		x := rows.Row(i, &t.row)
		h.logits(z, x)
		zy := z[y[i]]
		lossSum += softmaxInPlace(z) - zy
		z[y[i]] -= 1
		factor := 1.0
		if clip > 0 {
			xx := x.SqNorm()
			if !freezeBias {
				xx++
			}
			norm := math.Sqrt(sumSq(z) * xx)
			if math.IsNaN(norm) || math.IsInf(norm, 0) {
				continue
			}
			if norm > clip {
				clipped++
			}
			factor = math.Min(1, clip/(norm+clipEpsilon))
		}
		for n, j := range x.Idx {
			axpy(t.sum[int(j)*k:int(j)*k+k], factor*x.Val[n], z)
		}
		if !freezeBias {
			axpy(sumB, factor, z)
		}
	}
	return lossSum, clipped
}

// apply takes one optimiser step with gradient t.sum/denom.
func (t *LinearTrainer) apply(denom float64, cfg LinearTrainConfig) {
	if denom <= 0 {
		return
	}
	inv := 1 / denom
	p := [2][]float64{t.h.w, t.h.b}
	if cfg.Optimizer == OptimizerSGD {
		off := 0
		for _, ps := range p {
			for i := range ps {
				t.m[off+i] = cfg.Momentum*t.m[off+i] + t.sum[off+i]*inv
				ps[i] -= cfg.LearningRate * t.m[off+i]
			}
			off += len(ps)
		}
		return
	}
	t.t++
	b1, b2 := cfg.Beta1, cfg.Beta2
	lr := cfg.LearningRate * math.Sqrt(1-math.Pow(b2, float64(t.t))) / (1 - math.Pow(b1, float64(t.t)))
	off := 0
	for _, ps := range p {
		for i := range ps {
			g := t.sum[off+i] * inv
			m := b1*t.m[off+i] + (1-b1)*g
			v := b2*t.v[off+i] + (1-b2)*g*g
			t.m[off+i], t.v[off+i] = m, v
			ps[i] -= lr * m / (math.Sqrt(v) + cfg.AdamEps)
		}
		off += len(ps)
	}
}
