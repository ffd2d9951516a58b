package intent

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Metadata keys that Save writes next to the classifier and that `fedb2b
// predict` reads. A classifier saved by other tasks may carry MetaLabels
// and MetaEncoder too; MetaThreshold is specific to intent detection.
const (
	MetaTask      = "task"          // "intent"
	MetaEncoder   = "encoder"       // encoder ID the features were computed with
	MetaLabels    = "labels"        // JSON array of class names in class order
	MetaThreshold = "oos_threshold" // confidence threshold, decimal
)

// Save writes the detector's classifier with its labels, threshold and the
// encoder ID in the safetensors metadata.
func (d *Detector) Save(path, encoderID string) error {
	lb, err := json.Marshal(d.Labels)
	if err != nil {
		return fmt.Errorf("intent: %w", err)
	}
	return d.Classifier.Save(path, map[string]string{
		MetaTask: "intent", MetaEncoder: encoderID, MetaLabels: string(lb),
		MetaThreshold: strconv.FormatFloat(d.Threshold, 'g', -1, 64),
	})
}

// ParseLabels reads the MetaLabels entry of a classifier's metadata: a JSON
// array of exactly classes distinct strings. A missing entry gives the
// class indexes "0", "1", ….
func ParseLabels(meta map[string]string, classes int) ([]string, error) {
	s, ok := meta[MetaLabels]
	if !ok {
		out := make([]string, classes)
		for i := range out {
			out[i] = strconv.Itoa(i)
		}
		return out, nil
	}
	var labels []string
	if err := json.Unmarshal([]byte(s), &labels); err != nil {
		return nil, fmt.Errorf("intent: metadata %q is not a JSON array of strings: %w", MetaLabels, err)
	}
	if len(labels) != classes {
		return nil, fmt.Errorf("intent: metadata has %d labels for %d classes", len(labels), classes)
	}
	seen := map[string]bool{}
	for _, l := range labels {
		if seen[l] {
			return nil, fmt.Errorf("intent: duplicate label %q in metadata", l)
		}
		seen[l] = true
	}
	return labels, nil
}

// ParseThreshold reads MetaThreshold (0, no rejection, when absent); it
// must be a number in [0, 1].
func ParseThreshold(meta map[string]string) (float64, error) {
	s, ok := meta[MetaThreshold]
	if !ok {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) || math.IsNaN(v) {
		return 0, fmt.Errorf("intent: metadata %q = %q is not a number in [0, 1]", MetaThreshold, s)
	}
	return v, nil
}
