package task

import (
	"fmt"
	"maps"
	"math"
	mrand "math/rand/v2"
	"slices"

	"github.com/fedb2b/fedb2b/privacy/scalar"
	"github.com/fedb2b/fedb2b/protocol"
)

// EvalNoiseSD is the standard deviation of the noise in each entry of
// summed evaluation statistics of spec released by evaluators tenants,
// each noising its own at record-level (eps, delta) with the Gaussian the
// clients use (scalar.VectorRecord with the kind's L0 and LInf): σ·√n.
// A tenant whose own δ is smaller than delta adds more noise than this.
func EvalNoiseSD(spec protocol.TaskSpec, eps, delta float64, evaluators int) (float64, error) {
	k, err := Lookup(spec.Kind)
	if err != nil {
		return 0, err
	}
	if evaluators < 1 {
		return 0, fmt.Errorf("task %q: %d evaluators", spec.ID, evaluators)
	}
	rec, err := scalar.VectorRecord(k.L0, k.LInf, eps, delta, scalar.Gaussian)
	if err != nil {
		return 0, fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return rec.NoiseStd * math.Sqrt(float64(evaluators)), nil
}

// EvalMetricsNoise is MetricsNoiseSD of an evaluation's summed stats
// released by evaluators tenants at (eps, delta) each (EvalNoiseSD); nil
// when nobody evaluated.
func EvalMetricsNoise(spec protocol.TaskSpec, stats []int64, eps, delta float64, evaluators int) (sd map[string]float64, unmeasurable []string, err error) {
	if evaluators == 0 {
		return nil, nil, nil
	}
	s, err := EvalNoiseSD(spec, eps, delta, evaluators)
	if err != nil {
		return nil, nil, err
	}
	return MetricsNoiseSD(spec, stats, s)
}

// NoiseSuffix is how a figure named k is marked in printed metrics:
// " (noise)" when it is among unmeasurable, "±sd" when sd has it, else
// nothing.
func NoiseSuffix(k string, sd map[string]float64, unmeasurable []string) string {
	if slices.Contains(unmeasurable, k) {
		return " (noise)"
	}
	if s, ok := sd[k]; ok {
		return fmt.Sprintf("±%.2g", s)
	}
	return ""
}

// NoiseDraws is MetricsNoiseSD's number of redraws.
const NoiseDraws = 200

// MetricsNoiseSD estimates how much the noise moves each metric read from
// noised statistics: it adds fresh Gaussian noise of standard deviation
// sd to every entry of stats, NoiseDraws times, and returns each
// metric's sample standard deviation over the draws (a parametric
// bootstrap around the released point; first-order, so rough where a
// metric is clamped or its denominator is near zero). A ratio whose
// count (Kind.Counts) is below twice that count's own spread is not
// measurable: the noise alone could have made the count, and the
// bootstrap around a degenerate point can even read 0. Such ratios are
// left out of sd and listed in unmeasurable. It reads only released
// statistics (post-processing), and its randomness is a fixed-seed PCG:
// the figures are for display and are the same on every call.
func MetricsNoiseSD(spec protocol.TaskSpec, stats []int64, sd float64) (out map[string]float64, unmeasurable []string, err error) {
	if !(sd >= 0) || math.IsInf(sd, 0) {
		return nil, nil, fmt.Errorf("task %q: noise standard deviation %v", spec.ID, sd)
	}
	point, err := Metrics(spec, stats)
	if err != nil {
		return nil, nil, err
	}
	out, err = bootstrapSD(spec, stats, sd)
	if err != nil {
		return nil, nil, err
	}
	k, _ := Lookup(spec.Kind)
	for _, ratio := range slices.Sorted(maps.Keys(k.Counts)) {
		count := k.Counts[ratio]
		if _, ok := point[ratio]; !ok {
			continue
		}
		// c ≤ 0 too: a count far below zero clamps to 0 in every draw,
		// and its spread reads 0 (red team F1).
		if c, ok := point[count]; ok && (c < 2*out[count] || c <= 0 && sd > 0) {
			delete(out, ratio)
			unmeasurable = append(unmeasurable, ratio)
		}
	}
	return out, unmeasurable, nil
}

// bootstrapSD is MetricsNoiseSD's spread of every metric.
func bootstrapSD(spec protocol.TaskSpec, stats []int64, sd float64) (map[string]float64, error) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	vals := map[string][]float64{}
	draw := make([]int64, len(stats))
	for range NoiseDraws {
		for i, v := range stats {
			draw[i] = v + int64(math.Round(rng.NormFloat64()*sd))
		}
		m, err := Metrics(spec, draw)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) == math.MaxFloat64 {
				continue // "rejects nothing" and the like: no spread to measure
			}
			vals[k] = append(vals[k], v)
		}
	}
	out := make(map[string]float64, len(vals))
	for k, v := range vals {
		if len(v) < 2 {
			continue
		}
		var mean, ss float64
		for _, x := range v {
			mean += x
		}
		mean /= float64(len(v))
		for _, x := range v {
			ss += (x - mean) * (x - mean)
		}
		out[k] = math.Sqrt(ss / float64(len(v)-1))
	}
	return out, nil
}
