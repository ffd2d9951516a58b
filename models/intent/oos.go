package intent

import (
	"fmt"
	"math"
	"sort"

	"github.com/fedb2b/fedb2b/models/dataset"
)

// OOSLabel is the label of out-of-scope examples (clinc150's "oos").
const OOSLabel = "oos"

// SplitOOS separates in-scope examples from out-of-scope ones (label
// OOSLabel), keeping their order.
func SplitOOS(ex []dataset.Example) (in, oos []dataset.Example) {
	for _, e := range ex {
		if e.Label == OOSLabel {
			oos = append(oos, e)
		} else {
			in = append(in, e)
		}
	}
	return in, oos
}

// MaxProb returns the largest entry of each row of class probabilities and
// its index: the confidence and the predicted class.
func MaxProb(scores [][]float64) (conf []float64, pred []int) {
	conf = make([]float64, len(scores))
	pred = make([]int, len(scores))
	for i, s := range scores {
		best := 0
		for k, v := range s {
			if v > s[best] {
				best = k
			}
		}
		pred[i] = best
		if len(s) > 0 {
			conf[i] = s[best]
		}
	}
	return conf, pred
}

// CalibrateQuantile returns the threshold τ that rejects (as out of scope)
// the fraction rejectRate of in-scope validation messages: the
// ⌊rejectRate·n⌋-th smallest confidence (0 rejects nothing). It needs no
// out-of-scope examples, which most tenants do not have. conf is not
// modified.
func CalibrateQuantile(conf []float64, rejectRate float64) (float64, error) {
	if len(conf) == 0 {
		return 0, fmt.Errorf("intent: no validation confidences to calibrate on")
	}
	if !(rejectRate >= 0 && rejectRate < 1) {
		return 0, fmt.Errorf("intent: reject rate %v outside [0, 1)", rejectRate)
	}
	s := append([]float64(nil), conf...)
	sort.Float64s(s)
	k := int(math.Floor(rejectRate * float64(len(s))))
	if k == 0 {
		return 0, nil
	}
	return s[k], nil
}

// CalibrateJoint returns the threshold that maximises the mean of in-scope
// accuracy (correct and accepted) and out-of-scope recall (rejected) on a
// validation set holding both kinds: confIn and correctIn describe the
// in-scope messages, confOOS the out-of-scope ones. Candidate thresholds are
// the observed confidences; ties go to the lower threshold.
func CalibrateJoint(confIn []float64, correctIn []bool, confOOS []float64) (float64, error) {
	if len(confIn) == 0 || len(confOOS) == 0 || len(confIn) != len(correctIn) {
		return 0, fmt.Errorf("intent: joint calibration needs in-scope (%d, %d labels) and out-of-scope (%d) messages", len(confIn), len(correctIn), len(confOOS))
	}
	cands := append([]float64{0}, confIn...)
	cands = append(cands, confOOS...)
	sort.Float64s(cands)
	best, bestScore := 0.0, -1.0
	for i, tau := range cands {
		if i > 0 && tau == cands[i-1] {
			continue
		}
		var m Metrics
		for j, c := range confIn {
			m.AddInScope(c >= tau && correctIn[j], c >= tau)
		}
		for _, c := range confOOS {
			m.AddOOS(c < tau)
		}
		if s := (m.InScopeAccuracy() + m.OOSRecall()) / 2; s > bestScore {
			best, bestScore = tau, s
		}
	}
	return best, nil
}

// Metrics counts the outcomes of thresholded predictions; tenants' counts
// add up (Merge).
type Metrics struct {
	InScope        int64 // in-scope messages
	InScopeCorrect int64 // in-scope, accepted and classified correctly
	FalseRejects   int64 // in-scope but rejected as out of scope
	OOS            int64 // out-of-scope messages
	OOSDetected    int64 // out-of-scope and rejected
}

// AddInScope counts an in-scope message; correct implies accepted.
func (m *Metrics) AddInScope(correct, accepted bool) {
	m.InScope++
	if correct && accepted {
		m.InScopeCorrect++
	}
	if !accepted {
		m.FalseRejects++
	}
}

// AddOOS counts an out-of-scope message.
func (m *Metrics) AddOOS(rejected bool) {
	m.OOS++
	if rejected {
		m.OOSDetected++
	}
}

// Merge adds o into m.
func (m *Metrics) Merge(o Metrics) {
	m.InScope += o.InScope
	m.InScopeCorrect += o.InScopeCorrect
	m.FalseRejects += o.FalseRejects
	m.OOS += o.OOS
	m.OOSDetected += o.OOSDetected
}

// InScopeAccuracy is the fraction of in-scope messages accepted and
// classified correctly (a rejection counts as an error), 0 if none.
func (m Metrics) InScopeAccuracy() float64 { return ratio(m.InScopeCorrect, m.InScope) }

// OOSRecall is the fraction of out-of-scope messages rejected (NaN if
// there are none).
func (m Metrics) OOSRecall() float64 {
	if m.OOS == 0 {
		return math.NaN()
	}
	return ratio(m.OOSDetected, m.OOS)
}

// FalseRejectRate is the fraction of in-scope messages rejected.
func (m Metrics) FalseRejectRate() float64 { return ratio(m.FalseRejects, m.InScope) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Map returns the metrics by name: "in_scope_accuracy", "oos_recall" (only
// when out-of-scope messages were counted) and "false_reject_rate".
func (m Metrics) Map() map[string]float64 {
	r := map[string]float64{"in_scope_accuracy": m.InScopeAccuracy(), "false_reject_rate": m.FalseRejectRate()}
	if m.OOS > 0 {
		r["oos_recall"] = m.OOSRecall()
	}
	return r
}
