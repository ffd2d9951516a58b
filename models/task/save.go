package task

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

var (
	_ Saver = (*Classifier)(nil)
	_ Saver = (*LinearClassifier)(nil)
	_ Saver = (*IntentLinear)(nil)
)

// SaveModel writes the classifier with the task's labels and encoder ID,
// the file `fedb2b predict --model` reads.
func (l *Classifier) SaveModel(path string, spec protocol.TaskSpec) error {
	lb, err := json.Marshal(spec.Labels)
	if err != nil {
		return fmt.Errorf("task: %w", err)
	}
	return l.clf.Save(path, map[string]string{intent.MetaTask: spec.Kind, intent.MetaEncoder: spec.EncoderID, intent.MetaLabels: string(lb)})
}

// SaveModel writes the linear head with the task's labels and encoder ID
// (an intent task's also with its out-of-scope score, but no threshold:
// a tenant does not see the global one; the operator's SaveGlobal writes
// it, and `fedb2b predict --oos-threshold` sets one).
func (l *LinearClassifier) SaveModel(path string, spec protocol.TaskSpec) error {
	return saveLinear(l.head, spec, nil, path)
}

// SaveGlobal writes global parameters of a classify or intent task as the
// file `fedb2b predict --model` reads: what the operator can ship of a
// finished federation. eval is the task's last released evaluation
// (Metrics of the aggregated noised statistics, nil if none): a linear
// intent task's file carries its "threshold" (post-processing of the
// noised statistics), so predict rejects what the federation calibrated.
func SaveGlobal(spec protocol.TaskSpec, params []float64, eval map[string]float64, path string) error {
	if spec.Kind != KindClassify && spec.Kind != KindIntent {
		return fmt.Errorf("task %q: kind %q cannot be saved for predict", spec.ID, spec.Kind)
	}
	switch a := spec.Options[OptionAdapter]; a {
	case "", AdapterHead:
	case AdapterLinear:
		h, err := linearHead(spec)
		if err != nil {
			return err
		}
		if err := h.SetParams(params); err != nil {
			return fmt.Errorf("task %q: %w", spec.ID, err)
		}
		return saveLinear(h, spec, eval, path)
	default:
		return fmt.Errorf("task %q: adapter %q cannot be saved for predict (head or linear adapter only)", spec.ID, a)
	}
	clf, err := headClassifier(spec)
	if err != nil {
		return err
	}
	if err := clf.SetParams(params); err != nil {
		return fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return (&Classifier{clf: clf}).SaveModel(path, spec)
}

// saveLinear writes h with spec's labels and encoder ID; for an intent
// task also its out-of-scope score and, when eval holds a finite one,
// the threshold.
func saveLinear(h *models.LinearHead, spec protocol.TaskSpec, eval map[string]float64, path string) error {
	if spec.Kind != KindIntent {
		lb, err := json.Marshal(spec.Labels)
		if err != nil {
			return fmt.Errorf("task: %w", err)
		}
		return h.SaveLinear(path, map[string]string{intent.MetaTask: spec.Kind, intent.MetaEncoder: spec.EncoderID, intent.MetaLabels: string(lb)})
	}
	sc, err := IntentScaleOf(spec)
	if err != nil {
		return err
	}
	d := &intent.LinearDetector{Head: h, Labels: spec.Labels, Scorer: sc.Scorer, Threshold: intent.NoThreshold}
	if t, ok := eval["threshold"]; ok && !math.IsNaN(t) && !math.IsInf(t, 0) && t > -math.MaxFloat64 {
		d.Threshold = t
	}
	return d.Save(path, spec.EncoderID)
}
