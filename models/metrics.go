package models

import (
	"errors"
	"fmt"
)

// ConfusionMatrix counts predictions: Counts[t·Classes+p] is the number of
// examples of true class t predicted as p. Counts are what federated
// evaluation reports: confusion matrices of several tenants add up
// (Merge) to the matrix of their union, and every metric is derived from
// the sum.
type ConfusionMatrix struct {
	Classes int
	Counts  []int64
}

// NewConfusionMatrix returns an empty matrix for classes classes.
func NewConfusionMatrix(classes int) (ConfusionMatrix, error) {
	if classes < 1 || classes > maxClasses {
		return ConfusionMatrix{}, fmt.Errorf("models: confusion matrix classes %d out of range [1, %d]", classes, maxClasses)
	}
	return ConfusionMatrix{Classes: classes, Counts: make([]int64, classes*classes)}, nil
}

// Validate checks a matrix received from elsewhere: shape and
// non-negative counts.
func (m ConfusionMatrix) Validate() error {
	if m.Classes < 1 || m.Classes > maxClasses {
		return fmt.Errorf("models: confusion matrix classes %d out of range [1, %d]", m.Classes, maxClasses)
	}
	if len(m.Counts) != m.Classes*m.Classes {
		return fmt.Errorf("models: confusion matrix has %d counts, want %d", len(m.Counts), m.Classes*m.Classes)
	}
	for i, c := range m.Counts {
		if c < 0 {
			return fmt.Errorf("models: confusion matrix count %d is negative", i)
		}
	}
	return nil
}

// Add counts one example.
func (m ConfusionMatrix) Add(truth, pred int) error {
	if truth < 0 || truth >= m.Classes || pred < 0 || pred >= m.Classes {
		return fmt.Errorf("models: class pair (%d, %d) out of range [0, %d)", truth, pred, m.Classes)
	}
	m.Counts[truth*m.Classes+pred]++
	return nil
}

// ErrCountOverflow is returned by Merge when a sum would overflow int64.
var ErrCountOverflow = errors.New("models: confusion count overflow")

// Merge adds o's counts into m. Both must be valid and of the same shape.
func (m ConfusionMatrix) Merge(o ConfusionMatrix) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Classes != m.Classes || len(m.Counts) != len(o.Counts) {
		return fmt.Errorf("models: cannot merge %d-class matrix into %d-class matrix", o.Classes, m.Classes)
	}
	for i, c := range o.Counts {
		if m.Counts[i] > (1<<63-1)-c {
			return fmt.Errorf("%w at entry %d", ErrCountOverflow, i)
		}
	}
	for i, c := range o.Counts {
		m.Counts[i] += c
	}
	return nil
}

// Total is the number of examples counted.
func (m ConfusionMatrix) Total() int64 {
	var n int64
	for _, c := range m.Counts {
		n += c
	}
	return n
}

// Accuracy is the fraction of examples on the diagonal (0 for an empty
// matrix).
func (m ConfusionMatrix) Accuracy() float64 {
	n := m.Total()
	if n == 0 {
		return 0
	}
	var d int64
	for k := 0; k < m.Classes; k++ {
		d += m.Counts[k*m.Classes+k]
	}
	return float64(d) / float64(n)
}

// F1 returns the F1 score 2TP/(2TP+FP+FN) of class k, and false if class k
// has neither support nor predictions (F1 undefined).
func (m ConfusionMatrix) F1(k int) (float64, bool) {
	tp := m.Counts[k*m.Classes+k]
	var fp, fn int64
	for j := 0; j < m.Classes; j++ {
		if j != k {
			fp += m.Counts[j*m.Classes+k]
			fn += m.Counts[k*m.Classes+j]
		}
	}
	den := 2*tp + fp + fn
	if den == 0 {
		return 0, false
	}
	return float64(2*tp) / float64(den), true
}

// MacroF1 is the unweighted mean of F1 over the classes that occur as a
// true label or a prediction, as scikit-learn's
// f1_score(y_true, y_pred, average="macro") computes it when given no
// labels argument: a class absent from both is excluded, a class present
// in only one counts with F1 = 0. An empty matrix gives 0.
func (m ConfusionMatrix) MacroF1() float64 {
	var sum float64
	var n int
	for k := 0; k < m.Classes; k++ {
		if f, ok := m.F1(k); ok {
			sum += f
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Evaluate predicts every feature row and counts the results against y.
func (c *Classifier) Evaluate(f [][]float64, y []int) (ConfusionMatrix, error) {
	if len(f) != len(y) {
		return ConfusionMatrix{}, fmt.Errorf("models: %d feature rows but %d labels", len(f), len(y))
	}
	pred, err := c.Predict(f)
	if err != nil {
		return ConfusionMatrix{}, err
	}
	return confusionOf(c.cfg.Classes, y, pred)
}

// confusionOf counts predictions pred against labels y over classes.
func confusionOf(classes int, y, pred []int) (ConfusionMatrix, error) {
	m, err := NewConfusionMatrix(classes)
	if err != nil {
		return ConfusionMatrix{}, err
	}
	for i, p := range pred {
		if err := m.Add(y[i], p); err != nil {
			return ConfusionMatrix{}, fmt.Errorf("models: example %d: %w", i, err)
		}
	}
	return m, nil
}
