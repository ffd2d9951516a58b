package task

import (
	"encoding/json"
	"fmt"

	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

var _ Saver = (*Classifier)(nil)

// SaveModel writes the classifier with the task's labels and encoder ID,
// the file `fedb2b predict --model` reads.
func (l *Classifier) SaveModel(path string, spec protocol.TaskSpec) error {
	lb, err := json.Marshal(spec.Labels)
	if err != nil {
		return fmt.Errorf("task: %w", err)
	}
	return l.clf.Save(path, map[string]string{intent.MetaTask: spec.Kind, intent.MetaEncoder: spec.EncoderID, intent.MetaLabels: string(lb)})
}

// SaveGlobal writes global parameters of a task whose learners are
// head-adapter classifiers (kinds classify and intent with the default
// adapter) as the file `fedb2b predict --model` reads: what the operator
// can ship of a finished federation.
func SaveGlobal(spec protocol.TaskSpec, params []float64, path string) error {
	if a := spec.Options[OptionAdapter]; a != "" && a != AdapterHead {
		return fmt.Errorf("task %q: adapter %q cannot be saved for predict (head adapter only)", spec.ID, a)
	}
	if spec.Kind != KindClassify && spec.Kind != KindIntent {
		return fmt.Errorf("task %q: kind %q cannot be saved for predict", spec.ID, spec.Kind)
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
