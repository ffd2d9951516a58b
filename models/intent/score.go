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
	// ScoreEnergyMinusOOS is the energy of the in-scope logits minus the
	// logit of a trained out-of-scope class (Scorer.InScopeClasses); the
	// energy alone when there is none.
	ScoreEnergyMinusOOS = "energy-oos"
)

// Scorer turns class logits into an out-of-scope score.
type Scorer struct {
	Kind        string  // ScoreMSP, ScoreEnergy or ScoreMaxLogit
	Temperature float64 // ScoreEnergy only, > 0 (0 means 1)
	// InScopeClasses, when in (0, len(z)), is the number of leading
	// logits that are in-scope intents: the rest (a trained OOSLabel
	// class, InScopeClasses) only shape training, and the score and the
	// predicted intent read the in-scope logits alone. 0 reads them all.
	InScopeClasses int
}

// InScopeClasses returns how many of labels are in-scope intents: all
// but a last OOSLabel (an out-of-scope class trained on the tenants' own
// out-of-scope messages, Larson et al. 2019's "oos-train"). OOSLabel
// anywhere else is an error.
func InScopeClasses(labels []string) (int, error) {
	for i, l := range labels {
		if l == OOSLabel && i != len(labels)-1 {
			return 0, fmt.Errorf("intent: label %q at position %d of %d: a trained out-of-scope class must be the last label", OOSLabel, i+1, len(labels))
		}
	}
	if n := len(labels); n > 0 && labels[n-1] == OOSLabel {
		if n == 1 {
			return 0, fmt.Errorf("intent: the labels are only %q: no in-scope intent", OOSLabel)
		}
		return n - 1, nil
	}
	return len(labels), nil
}

// inScope returns the in-scope logits of z.
func (s Scorer) inScope(z []float64) []float64 {
	if s.InScopeClasses > 0 && s.InScopeClasses < len(z) {
		return z[:s.InScopeClasses]
	}
	return z
}

// Best returns the predicted intent of one row of logits: the index of
// the largest in-scope logit (the first on ties; 0 for an empty row).
func (s Scorer) Best(z []float64) int {
	z = s.inScope(z)
	best := 0
	for k, v := range z {
		if v > z[best] {
			best = k
		}
	}
	return best
}

// Check validates s.
func (s Scorer) Check() error {
	switch s.Kind {
	case ScoreMSP, ScoreMaxLogit:
		if s.InScopeClasses < 0 {
			return fmt.Errorf("intent: %d in-scope classes", s.InScopeClasses)
		}
		return nil
	case ScoreEnergy, ScoreEnergyMinusOOS:
		if !(s.Temperature >= 0) || math.IsInf(s.Temperature, 0) {
			return fmt.Errorf("intent: energy temperature %v is not a finite number ≥ 0", s.Temperature)
		}
		if s.InScopeClasses < 0 {
			return fmt.Errorf("intent: %d in-scope classes", s.InScopeClasses)
		}
		return nil
	}
	return fmt.Errorf("intent: unknown out-of-scope score %q (want %q, %q, %q or %q)", s.Kind, ScoreMSP, ScoreEnergy, ScoreMaxLogit, ScoreEnergyMinusOOS)
}

// Score returns the score of one row of logits' in-scope part (NaN for
// an empty row).
func (s Scorer) Score(z []float64) float64 {
	if s.Kind == ScoreEnergyMinusOOS {
		in := s.inScope(z)
		e := Scorer{Kind: ScoreEnergy, Temperature: s.Temperature}.Score(in)
		if len(in) < len(z) {
			e -= z[len(in)]
		}
		return e
	}
	z = s.inScope(z)
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
