package intent

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/fedb2b/fedb2b/models"
)

// Metadata keys of a saved LinearDetector besides MetaTask, MetaEncoder,
// MetaLabels and MetaThreshold (whose value is then a threshold on the
// score, not a probability).
const (
	MetaScore       = "oos_score"       // ScoreMSP, ScoreEnergy or ScoreMaxLogit
	MetaTemperature = "oos_temperature" // ScoreEnergy's T
)

// LinearDetector is a linear head over the in-scope intents with an
// out-of-scope score and threshold: a message whose score is below
// Threshold is labelled OOSLabel (NoThreshold rejects nothing). With
// Scorer.InScopeClasses (a trained out-of-scope class, the last label
// OOSLabel; ParseLinearDetector sets it for an intent file whose labels
// end so) the score and the predicted intent read the other classes'
// logits only; labels that do not end so are refused.
type LinearDetector struct {
	Head      *models.LinearHead
	Labels    []string
	Scorer    Scorer
	Threshold float64
}

// Classify labels each encoded row and returns the labels and scores.
func (d *LinearDetector) Classify(rows []models.SparseRow) ([]string, []float64, error) {
	if len(d.Labels) != d.Head.Config().Classes {
		return nil, nil, fmt.Errorf("intent: %d labels for %d classes", len(d.Labels), d.Head.Config().Classes)
	}
	sc := d.Scorer
	if err := sc.Check(); err != nil {
		return nil, nil, err
	}
	if sc.InScopeClasses > 0 {
		if n, err := InScopeClasses(d.Labels); err != nil {
			return nil, nil, err
		} else if n != sc.InScopeClasses {
			return nil, nil, fmt.Errorf("intent: the score reads %d in-scope classes, the labels end with %d in-scope and a trained %q", sc.InScopeClasses, n, OOSLabel)
		}
	}
	z, err := d.Head.Logits(rows)
	if err != nil {
		return nil, nil, err
	}
	out := make([]string, len(z))
	score := sc.Scores(z)
	for i, zi := range z {
		out[i] = d.Labels[sc.Best(zi)]
		if score[i] < d.Threshold {
			out[i] = OOSLabel
		}
	}
	return out, score, nil
}

// Save writes the detector's head with its labels, score, threshold and
// the encoder ID in the safetensors metadata (the threshold is left out
// when it is NoThreshold).
func (d *LinearDetector) Save(path, encoderID string) error {
	if err := d.Scorer.Check(); err != nil {
		return err
	}
	lb, err := json.Marshal(d.Labels)
	if err != nil {
		return fmt.Errorf("intent: %w", err)
	}
	meta := map[string]string{MetaTask: "intent", MetaEncoder: encoderID, MetaLabels: string(lb), MetaScore: d.Scorer.Kind,
		MetaTemperature: strconv.FormatFloat(d.Scorer.Temperature, 'g', -1, 64)}
	if d.Threshold != NoThreshold {
		if math.IsNaN(d.Threshold) || math.IsInf(d.Threshold, 0) {
			return fmt.Errorf("intent: threshold %v is not finite", d.Threshold)
		}
		meta[MetaThreshold] = strconv.FormatFloat(d.Threshold, 'g', -1, 64)
	}
	return d.Head.SaveLinear(path, meta)
}

// ParseLinearDetector reads the score and threshold of a saved linear
// head's metadata: the score defaults to the maximum softmax, whose
// threshold must lie in [0, 1]; the others take any finite threshold. A
// missing threshold is NoThreshold.
func ParseLinearDetector(h *models.LinearHead, meta map[string]string) (*LinearDetector, error) {
	labels, err := ParseLabels(meta, h.Config().Classes)
	if err != nil {
		return nil, err
	}
	d := &LinearDetector{Head: h, Labels: labels, Scorer: Scorer{Kind: ScoreMSP}, Threshold: NoThreshold}
	if meta[MetaTask] == "intent" { // a classifier's "oos" is an ordinary label
		n, err := InScopeClasses(labels)
		if err != nil {
			return nil, err
		}
		if n < len(labels) {
			d.Scorer.InScopeClasses = n
		}
	}
	if v, ok := meta[MetaScore]; ok {
		d.Scorer.Kind = v
	}
	if v, ok := meta[MetaTemperature]; ok {
		if d.Scorer.Temperature, err = strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("intent: metadata %q = %q: %w", MetaTemperature, v, err)
		}
	}
	if err := d.Scorer.Check(); err != nil {
		return nil, err
	}
	v, ok := meta[MetaThreshold]
	if !ok {
		return d, nil
	}
	if d.Scorer.Kind == ScoreMSP {
		d.Threshold, err = ParseThreshold(meta)
		return d, err
	}
	t, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("intent: metadata %q = %q is not a finite number", MetaThreshold, v)
	}
	d.Threshold = t
	return d, nil
}
