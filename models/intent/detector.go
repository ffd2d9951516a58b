package intent

import (
	"fmt"

	"github.com/fedb2b/fedb2b/models"
)

// Detector is a classifier over the in-scope intents with an out-of-scope
// threshold: a message whose largest class probability is below Threshold
// is labelled OOSLabel.
type Detector struct {
	Classifier *models.Classifier
	Labels     []string // class index → intent, len = Classifier classes
	Threshold  float64
}

// Classify labels each feature row (from Classifier.Project) and returns the
// labels and confidences (largest class probability).
func (d *Detector) Classify(f [][]float64) ([]string, []float64, error) {
	if len(d.Labels) != d.Classifier.Config().Classes {
		return nil, nil, fmt.Errorf("intent: %d labels for %d classes", len(d.Labels), d.Classifier.Config().Classes)
	}
	s, err := d.Classifier.Scores(f)
	if err != nil {
		return nil, nil, err
	}
	conf, pred := MaxProb(s)
	out := make([]string, len(f))
	for i, p := range pred {
		if conf[i] < d.Threshold {
			out[i] = OOSLabel
		} else {
			out[i] = d.Labels[p]
		}
	}
	return out, conf, nil
}

// Split is a labelled set of projected messages: in-scope rows with class
// indexes and out-of-scope rows.
type Split struct {
	X   [][]float64
	Y   []int
	OOS [][]float64
}

// Calibrate sets the threshold on validation data: CalibrateJoint when the
// validation split holds out-of-scope messages and joint is set, otherwise
// CalibrateQuantile with rejectRate.
func (d *Detector) Calibrate(val Split, rejectRate float64, joint bool) error {
	s, err := d.Classifier.Scores(val.X)
	if err != nil {
		return err
	}
	conf, pred := MaxProb(s)
	if joint && len(val.OOS) > 0 && len(val.X) > 0 {
		so, err := d.Classifier.Scores(val.OOS)
		if err != nil {
			return err
		}
		co, _ := MaxProb(so)
		correct := make([]bool, len(pred))
		for i, p := range pred {
			correct[i] = p == val.Y[i]
		}
		d.Threshold, err = CalibrateJoint(conf, correct, co)
		return err
	}
	d.Threshold, err = CalibrateQuantile(conf, rejectRate)
	return err
}

// Evaluate counts thresholded outcomes on test data and also returns the
// plain (argmax, no threshold) accuracy on the in-scope rows.
func (d *Detector) Evaluate(test Split) (Metrics, float64, error) {
	var m Metrics
	correct := 0
	if len(test.X) > 0 {
		s, err := d.Classifier.Scores(test.X)
		if err != nil {
			return m, 0, err
		}
		conf, pred := MaxProb(s)
		for i, p := range pred {
			ok := p == test.Y[i]
			if ok {
				correct++
			}
			m.AddInScope(ok, conf[i] >= d.Threshold)
		}
	}
	if len(test.OOS) > 0 {
		s, err := d.Classifier.Scores(test.OOS)
		if err != nil {
			return m, 0, err
		}
		conf, _ := MaxProb(s)
		for _, c := range conf {
			m.AddOOS(c < d.Threshold)
		}
	}
	return m, ratio(int64(correct), int64(len(test.X))), nil
}
