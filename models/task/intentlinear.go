package task

import (
	"context"
	"log/slog"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

// IntentLinear is the intent Learner over the linear head
// (AdapterLinear): LinearClassifier's training on the in-scope messages
// (and on the tenant's out-of-scope training messages too when the
// task's labels end with intent.OOSLabel, a trained out-of-scope class),
// and statistics that histogram the task's out-of-scope score
// (IntentScaleOf, over the in-scope logits) instead of the maximum
// softmax.
type IntentLinear struct {
	LinearClassifier
	scale  IntentScale
	tstOOS models.Rows
}

func newIntentLinear(ctx context.Context, enc models.Encoder, spec protocol.TaskSpec, train, test []dataset.Example, log *slog.Logger) (Learner, error) {
	sc, err := IntentScaleOf(spec)
	if err != nil {
		return nil, err
	}
	inTrain, _ := intent.SplitOOS(train) // not trained on, unless the task has the class
	if sc.Scorer.InScopeClasses > 0 {
		inTrain = train // the labels end with intent.OOSLabel: a trained class
	}
	inTest, oosTest := intent.SplitOOS(test)
	l, err := NewLinearClassifier(enc, inTrain, inTest, log)(ctx, spec)
	if err != nil {
		return nil, err
	}
	il := &IntentLinear{LinearClassifier: *l.(*LinearClassifier), scale: sc}
	if len(oosTest) > 0 {
		oosSpec := spec
		oosSpec.Labels = []string{oosTest[0].Label}
		oosRows, _, err := EncodeSparse(ctx, enc, oosSpec.Labels, oosTest, "out-of-scope test", log)
		if err != nil {
			return nil, err
		}
		il.tstOOS = oosRows
	}
	return il, nil
}

// Scale returns the task's out-of-scope scale.
func (l *IntentLinear) Scale() IntentScale { return l.scale }

// scores returns the out-of-scope scores of rows.
func (l *IntentLinear) scores(rows models.Rows) ([]float64, error) {
	if rows == nil || rows.Len() == 0 {
		return nil, nil
	}
	z, err := l.head.LogitsRows(rows)
	if err != nil {
		return nil, err
	}
	return l.scale.Scorer.Scores(z), nil
}

// EvalStats returns the scale's histograms of the held-out messages and
// the in-scope training messages (the calibration histogram; a trained
// out-of-scope class's messages are not in it).
func (l *IntentLinear) EvalStats() ([]int64, error) {
	cal, err := l.scores(l.trainX)
	if err != nil {
		return nil, err
	}
	if k := l.scale.Scorer.InScopeClasses; k > 0 {
		// The calibration histogram is of in-scope messages: the
		// trained out-of-scope class's messages are left out.
		in := cal[:0]
		for i, v := range cal {
			if l.trainY[i] < k {
				in = append(in, v)
			}
		}
		cal = in
	}
	in, err := l.scores(l.tstX)
	if err != nil {
		return nil, err
	}
	oos, err := l.scores(l.tstOOS)
	if err != nil {
		return nil, err
	}
	var correct []bool
	if l.tstX != nil && l.tstX.Len() > 0 {
		z, err := l.head.LogitsRows(l.tstX)
		if err != nil {
			return nil, err
		}
		correct = make([]bool, len(z))
		for i, zi := range z {
			correct[i] = l.scale.Scorer.Best(zi) == l.tstY[i]
		}
	}
	return l.scale.Stats(in, correct, oos, cal), nil
}
