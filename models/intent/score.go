package intent

import (
	"fmt"
	"math"
	"sort"
)

// Out-of-scope scores of a message's class logits z; higher means more in
// scope, and a message is rejected when its score is below the threshold.
const (
	// ScoreMSP is the largest class probability max_k softmax(z)_k
	// (Hendrycks & Gimpel 2017), in (0, 1].
	ScoreMSP = "msp"
	// ScoreEnergy is the negative free energy T·log Σ_k exp(z_k/T) (Liu
	// et al. 2020): unlike the maximum softmax it keeps the logits'
	// overall size, which is small for a message whose features the
	// model never learnt weights for.
	ScoreEnergy = "energy"
	// ScoreMaxLogit is max_k z_k (the energy score as T → 0).
	ScoreMaxLogit = "maxlogit"
)

// Scorer turns class logits into an out-of-scope score.
type Scorer struct {
	Kind        string  // ScoreMSP, ScoreEnergy or ScoreMaxLogit
	Temperature float64 // ScoreEnergy only, > 0 (0 means 1)
}

// Check validates s.
func (s Scorer) Check() error {
	switch s.Kind {
	case ScoreMSP, ScoreMaxLogit:
		return nil
	case ScoreEnergy:
		if !(s.Temperature >= 0) || math.IsInf(s.Temperature, 0) {
			return fmt.Errorf("intent: energy temperature %v is not a finite number ≥ 0", s.Temperature)
		}
		return nil
	}
	return fmt.Errorf("intent: unknown out-of-scope score %q (want %q, %q or %q)", s.Kind, ScoreMSP, ScoreEnergy, ScoreMaxLogit)
}

// Score returns the score of one row of logits (NaN for an empty row).
func (s Scorer) Score(z []float64) float64 {
	if len(z) == 0 {
		return math.NaN()
	}
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	switch s.Kind {
	case ScoreMaxLogit:
		return m
	case ScoreEnergy:
		t := s.Temperature
		if t == 0 {
			t = 1
		}
		var e float64
		for _, v := range z {
			e += math.Exp((v - m) / t)
		}
		return m + t*math.Log(e)
	default: // ScoreMSP
		var e float64
		for _, v := range z {
			e += math.Exp(v - m)
		}
		return 1 / e
	}
}

// Scores returns the score of every row of logits.
func (s Scorer) Scores(z [][]float64) []float64 {
	out := make([]float64, len(z))
	for i, r := range z {
		out[i] = s.Score(r)
	}
	return out
}

// NoThreshold is the threshold that rejects nothing for any score.
const NoThreshold = -math.MaxFloat64

// ScoreThreshold returns the threshold τ that rejects the fraction
// rejectRate of the in-scope scores (the ⌊rejectRate·n⌋-th smallest;
// NoThreshold when that is none) for any score, unlike
// CalibrateQuantile, whose 0 rejects nothing only for the maximum
// softmax. scores is not modified.
func ScoreThreshold(scores []float64, rejectRate float64) (float64, error) {
	if len(scores) == 0 {
		return 0, fmt.Errorf("intent: no in-scope scores to calibrate on")
	}
	if !(rejectRate >= 0 && rejectRate < 1) {
		return 0, fmt.Errorf("intent: reject rate %v outside [0, 1)", rejectRate)
	}
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	k := int(math.Floor(rejectRate * float64(len(s))))
	if k == 0 {
		return NoThreshold, nil
	}
	return s[k], nil
}

// CountScores adds to m the outcomes at threshold τ: in-scope messages
// with scores inScore (correct[i]: argmax is right) and out-of-scope
// messages with scores oosScore; a score below τ is rejected.
func CountScores(m *Metrics, inScore []float64, correct []bool, oosScore []float64, tau float64) {
	for i, s := range inScore {
		m.AddInScope(correct[i] && s >= tau, s >= tau)
	}
	for _, s := range oosScore {
		m.AddOOS(s < tau)
	}
}
