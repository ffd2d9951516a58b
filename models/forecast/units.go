package forecast

import (
	"fmt"
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/privacy"
)

// Model is what TrainUnits trains: a parameter vector and a per-row loss
// gradient. Head is one; another head or loss plugs in by implementing
// it (the unit-level DP-SGD, and so the privacy unit, stay the same).
type Model interface {
	// Weights returns the live parameter slice (TrainUnits updates it in
	// place).
	Weights() []float64
	// AddGrad adds the gradient of the loss of row x with target y to g
	// (len(Weights())) and returns the loss.
	AddGrad(g, x []float64, y float64) float64
}

// TrainUnits runs cfg.Steps steps of DP-SGD on m over the units of u: each
// step Poisson-samples units with rate q (privacy.PoissonSample), sums
// each sampled unit's row gradients, clips that sum to L2 norm C, adds
// N(0, (zC)²) per coordinate to the sum over units and divides it by the
// public ExpectedBatch. Adding or removing a unit changes the noised sum
// by at most C, whatever its rows: the RDP accountant's ε of (q, z,
// steps) holds for the unit (add/remove), here a customer with all its
// rows. Without cfg.Private it is plain minibatch SGD over all rows
// (BatchSize rows a step, the mean gradient), with no unit at all. All
// randomness comes from rng.
func TrainUnits(m Model, u *Units, cfg TrainConfig, rng *mrand.Rand) (TrainStats, error) {
	var st TrainStats
	if err := cfg.Check(); err != nil {
		return st, err
	}
	if err := u.check(); err != nil {
		return st, err
	}
	// DP-SGD runs its steps whatever the number of units: with none,
	// every batch is empty and the step is noise only. Returning early
	// would send an exactly-zero update that tells an empty tenant from
	// one with a single unit (ε = ∞ for that pair of neighbours).
	if cfg.Steps == 0 || (u.Rows() == 0 && !cfg.Private) {
		return st, nil
	}
	w := m.Weights()
	d := len(w)
	g, gu := make([]float64, d), make([]float64, d)
	var lossSum float64
	clipped, units := 0, 0
	var batch []int
	perm := rng.Perm(u.Rows())
	pos := 0
	for step := 0; step < cfg.Steps; step++ {
		clear(g)
		var denom float64
		if cfg.Private {
			batch = privacy.PoissonSample(u.Len(), cfg.SampleRate, rng, batch[:0])
			denom = cfg.ExpectedBatch
			for _, i := range batch {
				clear(gu)
				x, y := u.Unit(i)
				for r, xr := range x {
					lossSum += m.AddGrad(gu, xr, y[r])
				}
				st.Examples += len(x)
				// ClipL2 drops a unit whose summed gradient is NaN or
				// infinite (extreme features under extreme announced
				// weights): letting it through unclipped would make
				// the weights NaN and the failure reveal the unit.
				if privacy.ClipL2(gu, cfg.ClipNorm) < 1 {
					clipped++
				}
				for j, v := range gu {
					g[j] += v
				}
			}
			units += len(batch)
			privacy.AddGaussian(g, cfg.NoiseMultiplier*cfg.ClipNorm, rng)
		} else {
			batch = batch[:0]
			for len(batch) < cfg.BatchSize && len(batch) < u.Rows() {
				if pos == len(perm) {
					perm, pos = rng.Perm(u.Rows()), 0
				}
				batch = append(batch, perm[pos])
				pos++
			}
			for _, i := range batch {
				lossSum += m.AddGrad(g, u.X[i], u.Y[i])
			}
			st.Examples += len(batch)
			denom = float64(len(batch))
		}
		st.Steps++
		lr := cfg.LearningRate / denom
		for j := range w {
			w[j] -= lr * g[j]
		}
	}
	if st.Examples > 0 {
		st.MeanLoss = lossSum / float64(st.Examples)
	}
	if cfg.Private && units > 0 {
		st.ClippedFraction = float64(clipped) / float64(units)
	}
	for _, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return st, fmt.Errorf("forecast: training diverged")
		}
	}
	return st, nil
}

// check validates u's layout (an empty Units is valid).
func (u *Units) check() error {
	if len(u.X) != len(u.Y) {
		return fmt.Errorf("forecast: %d rows but %d targets", len(u.X), len(u.Y))
	}
	if len(u.IDs) == 0 && len(u.Start) == 0 && len(u.X) == 0 {
		return nil
	}
	if len(u.Start) != len(u.IDs)+1 || u.Start[0] != 0 || u.Start[len(u.IDs)] != len(u.X) {
		return fmt.Errorf("forecast: %d units with %d offsets over %d rows", len(u.IDs), len(u.Start), len(u.X))
	}
	for i := 1; i < len(u.Start); i++ {
		if u.Start[i] < u.Start[i-1] {
			return fmt.Errorf("forecast: unit %d's offsets decrease", i-1)
		}
	}
	return nil
}
