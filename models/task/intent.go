package task

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

// KindIntent is customer-service intent classification with out-of-scope
// detection by a confidence threshold (package models/intent). The
// adapter is the LoRA classifier over the in-scope intents (spec.Labels);
// out-of-scope messages (label intent.OOSLabel) are never trained on.
//
// Its evaluation statistics are four histograms of the model's
// confidence c (largest class probability) over IntentBuckets equal
// buckets of √c in [0, 1] (finer at low confidence, where a softmax over
// many intents puts most messages): held-out in-scope messages classified
// correctly, held-out in-scope messages classified wrongly, held-out
// out-of-scope messages, and the in-scope training messages (the
// calibration histogram). Every message is in exactly one split and falls
// in exactly one bucket of one histogram (L0 = 1). No data-dependent
// threshold enters the release: the global out-of-scope threshold — the
// highest bucket boundary that rejects at most IntentRejectRate of the
// calibration messages — is chosen from the (noised) sums, which is
// post-processing, and in-scope accuracy, out-of-scope recall and the
// held-out rejection rate at it follow from the held-out histograms.
// Calibrating on the training messages rather than a small validation
// split is sound because DP-SGD leaves the model's confidences on its
// training messages close to those on unseen ones (the held-out rejection
// rate shows it), and the histogram over all training messages is several
// times larger, so the same noise moves its 5 % quantile less. Tenants
// deploy the threshold the last noised evaluation gives (or calibrate
// their own locally for `predict`, intent.Detector).
const KindIntent = "intent"

// IntentBuckets is the number of confidence buckets (of √c).
const IntentBuckets = 40

// IntentRejectRate is the largest fraction of in-scope messages the
// global threshold may reject (intent.SimConfig's default RejectRate).
const IntentRejectRate = 0.05

func init() {
	Register(Kind{Name: KindIntent, Unit: "message", EvalLen: intentStatsLen, L0: 1, LInf: 1, Metrics: intentMetrics,
		Counts: map[string]string{"accuracy": "in_scope", "in_scope_accuracy": "in_scope", "held_out_reject_rate": "in_scope",
			"oos_recall": "out_of_scope", "threshold": "calibration"}})
}

// IntentStatsLen is the length of the LoRA head's intent statistics.
const IntentStatsLen = 4 * IntentBuckets

func intentStatsLen(spec protocol.TaskSpec) int {
	s, err := IntentScaleOf(spec)
	if err != nil {
		return IntentStatsLen // Metrics refuses the spec
	}
	return s.StatsLen()
}

// IntentStats returns the LoRA head's histograms (maximum softmax, √c
// buckets): IntentScale.Stats.
func IntentStats(inConf []float64, correct []bool, oosConf, calConf []float64) []int64 {
	return headIntentScale.Stats(inConf, correct, oosConf, calConf)
}

// Stats returns the histograms of scores: inScore[i] and correct[i] for
// held-out in-scope messages, oosScore for held-out out-of-scope ones,
// calScore for the calibration messages.
func (sc IntentScale) Stats(inScore []float64, correct []bool, oosScore, calScore []float64) []int64 {
	b := sc.Buckets
	s := make([]int64, sc.StatsLen())
	for i, c := range inScore {
		if correct[i] {
			s[sc.Bucket(c)]++
		} else {
			s[b+sc.Bucket(c)]++
		}
	}
	for _, c := range oosScore {
		s[2*b+sc.Bucket(c)]++
	}
	for _, c := range calScore {
		s[3*b+sc.Bucket(c)]++
	}
	return s
}

// IntentMetrics reads the LoRA head's histograms: IntentScale.Metrics.
func IntentMetrics(stats []int64) (map[string]float64, error) {
	return headIntentScale.Metrics(stats)
}

// Metrics reads summed (possibly noised) histograms: plain held-out
// in-scope accuracy (no rejection), and at the global threshold τ — the
// highest bucket boundary that rejects at most the scale's calibration
// rate (IntentRejectRate by default) of the calibration messages — held-out in-scope accuracy (a rejected message
// counts as an error), out-of-scope recall, the fraction of held-out
// in-scope messages rejected ("held_out_reject_rate") and τ.
func (sc IntentScale) Metrics(stats []int64) (map[string]float64, error) {
	b := sc.Buckets
	if len(stats) != sc.StatsLen() {
		return nil, fmt.Errorf("task: %d intent statistics, want %d", len(stats), sc.StatsLen())
	}
	// Noised buckets are summed as they are (zero-mean noise stays
	// unbiased) and only the sums are clamped: clamping each bucket at 0
	// first would add the positive half of every bucket's noise.
	sum := func(from, to int) float64 {
		var s int64
		for _, v := range stats[from:to] {
			s += v
		}
		return float64(s)
	}
	pos := func(v float64) float64 { return max(v, 0) }
	right, wrong, oos, cal := pos(sum(0, b)), pos(sum(b, 2*b)), pos(sum(2*b, 3*b)), pos(sum(3*b, 4*b))
	ratio := func(a, n float64) float64 {
		if n <= 0 {
			return 0
		}
		return min(max(a/n, 0), 1)
	}
	m := map[string]float64{"accuracy": ratio(right, right+wrong), "in_scope": right + wrong, "out_of_scope": oos, "calibration": cal}
	// Threshold at boundary t: buckets below t are rejected.
	target := sc.calibrationRate() * cal
	bestT, crossed := 0, false
	for t := 1; t < b; t++ {
		if sum(3*b, 3*b+t) > target {
			crossed = true
			break
		}
		bestT = t
	}
	// On a linear scale the threshold moves on into the bucket the target
	// falls in, by the fraction of that bucket's (noised) count the target
	// still allows, as if its scores were spread evenly: the boundary
	// alone rejects up to a whole bucket less than the target (on
	// clinc150 a 0.1-wide energy bucket holds about 1.5 % of the
	// messages). The end buckets are open, so never inside them; the √c
	// scale of the LoRA head keeps its boundaries. Post-processing of the
	// noised sums.
	frac := 0.0
	if !sc.Sqrt && crossed && bestT > 0 {
		if n := float64(stats[3*b+bestT]); n > 0 {
			frac = min(max((target-sum(3*b, 3*b+bestT))/n, 0), 1)
		}
	}
	below := func(from int) float64 { return sum(from, from+bestT) + frac*float64(stats[from+bestT]) }
	m["held_out_reject_rate"] = ratio(below(0)+below(b), right+wrong)
	if bestT == 0 {
		// Rejects nothing (finite: the metrics go into JSON).
		m["threshold"] = -math.MaxFloat64
		if sc.Sqrt || sc.Scorer.Kind == intent.ScoreMSP {
			m["threshold"] = 0
		}
	} else {
		m["threshold"] = sc.Boundary(bestT) + frac*(sc.Hi-sc.Lo)/float64(b)
	}
	m["in_scope_accuracy"] = ratio(right-below(0), right+wrong)
	m["oos_recall"] = ratio(below(2*b), oos)
	return m, nil
}

func intentMetrics(spec protocol.TaskSpec, stats []int64) (map[string]float64, error) {
	sc, err := IntentScaleOf(spec)
	if err != nil {
		return nil, err
	}
	return sc.Metrics(stats)
}

// Intent is the intent Learner: the classification learner over the
// in-scope messages, plus the held-out out-of-scope messages.
type Intent struct {
	Classifier
	tstOOS [][]float64
}

// NewIntent returns a Factory for kind KindIntent over the tenant's
// messages: train's out-of-scope messages are dropped (never trained on)
// unless the task is on the linear head with labels ending in
// intent.OOSLabel (a trained class, IntentLinear); test's are kept for
// out-of-scope recall.
func NewIntent(enc models.Encoder, train, test []dataset.Example, log *slog.Logger) Factory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		if spec.Kind != KindIntent {
			return nil, fmt.Errorf("task %q is of kind %q; this tenant's data are for %q", spec.ID, spec.Kind, KindIntent)
		}
		if spec.Options[OptionAdapter] == AdapterLinear {
			return newIntentLinear(ctx, enc, spec, train, test, log)
		}
		if _, err := IntentScaleOf(spec); err != nil {
			return nil, err
		}
		clf, err := headClassifier(spec)
		if err != nil {
			return nil, err
		}
		inTrain, _ := intent.SplitOOS(train)
		inTest, oosTest := intent.SplitOOS(test)
		l := &Intent{Classifier: Classifier{clf: clf}}
		if l.trainF, l.trainY, err = Encode(ctx, enc, clf, spec.Labels, inTrain, "train", log); err != nil {
			return nil, err
		}
		if l.tstF, l.tstY, err = Encode(ctx, enc, clf, spec.Labels, inTest, "test", log); err != nil {
			return nil, err
		}
		if len(oosTest) > 0 {
			texts := make([]string, len(oosTest))
			for i, e := range oosTest {
				texts[i] = e.Text
			}
			if l.tstOOS, err = EncodeProject(ctx, enc, clf, texts); err != nil {
				return nil, fmt.Errorf("task: out-of-scope test messages: %w", err)
			}
		}
		return l, nil
	}
}

// EvalStats returns IntentStats of the held-out messages and the in-scope
// training messages.
func (l *Intent) EvalStats() ([]int64, error) {
	var inConf, oosConf, calConf []float64
	if len(l.trainF) > 0 {
		s, err := l.clf.Scores(l.trainF)
		if err != nil {
			return nil, err
		}
		calConf, _ = intent.MaxProb(s)
	}
	var correct []bool
	if len(l.tstF) > 0 {
		s, err := l.clf.Scores(l.tstF)
		if err != nil {
			return nil, err
		}
		var pred []int
		inConf, pred = intent.MaxProb(s)
		correct = make([]bool, len(pred))
		for i, p := range pred {
			correct[i] = p == l.tstY[i]
		}
	}
	if len(l.tstOOS) > 0 {
		s, err := l.clf.Scores(l.tstOOS)
		if err != nil {
			return nil, err
		}
		oosConf, _ = intent.MaxProb(s)
	}
	return IntentStats(inConf, correct, oosConf, calConf), nil
}
