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
