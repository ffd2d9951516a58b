package task

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/protocol"
)

// KindClassify is text classification (customer industry, message intent)
// with the LoRA classifier over a frozen encoder.
const KindClassify = "classify"

// ClassL0 bounds the classification statistics one record changes:
// examples, correct, its class's support and true positives, and the
// predicted class's count, each by one.
const ClassL0 = 5

func init() {
	Register(Kind{Name: KindClassify, Unit: "labelled text", EvalLen: ClassStatsLen, L0: ClassL0, LInf: 1, Metrics: classMetrics,
		Counts: map[string]string{"accuracy": "examples", "macro_f1": "examples"}})
}

// ClassStatsLen is the length of a classification statistics vector:
// examples, correct, then per class support, predictions and true
// positives. One record changes at most five entries by one (L0 = 5).
func ClassStatsLen(spec protocol.TaskSpec) int { return 2 + 3*len(spec.Labels) }

// ClassStats returns the statistics of a confusion matrix.
func ClassStats(m models.ConfusionMatrix) []int64 {
	k := m.Classes
	s := make([]int64, 2+3*k)
	for t := range k {
		for p := range k {
			c := m.Counts[t*k+p]
			s[0] += c
			s[2+t] += c
			s[2+k+p] += c
			if t == p {
				s[1] += c
				s[2+2*k+t] += c
			}
		}
	}
	return s
}

// ClassMetrics returns accuracy and macro-F1 of classification statistics
// over k classes. Noised statistics may be negative or inconsistent: each
// count is clamped at zero and each ratio to [0, 1] (post-processing, no
// privacy cost). True positives are deliberately not clamped to the
// smaller of support and predictions: under noise that clamp biases every
// class's F1 down (simulated on NAICS-like supports with noise std 35 per
// count: macro-F1 0.43 against 0.65 without it, exact 0.74).
// Exact statistics give what models.ConfusionMatrix gives: macro-F1 over
// the classes that occur as a label or a prediction (scikit-learn's
// convention).
func ClassMetrics(stats []int64, k int) (accuracy, macroF1 float64, err error) {
	if len(stats) != 2+3*k {
		return 0, 0, fmt.Errorf("task: %d classification statistics, want %d for %d classes", len(stats), 2+3*k, k)
	}
	pos := func(v int64) float64 { return float64(max(v, 0)) }
	if n := pos(stats[0]); n > 0 {
		accuracy = min(pos(stats[1])/n, 1)
	}
	var sum float64
	present := 0
	for c := range k {
		sup, pred := pos(stats[2+c]), pos(stats[2+k+c])
		if sup+pred == 0 {
			continue
		}
		tp := pos(stats[2+2*k+c])
		sum += min(2*tp/(sup+pred), 1)
		present++
	}
	if present > 0 {
		macroF1 = sum / float64(present)
	}
	return accuracy, macroF1, nil
}

func classMetrics(spec protocol.TaskSpec, stats []int64) (map[string]float64, error) {
	acc, f1, err := ClassMetrics(stats, len(spec.Labels))
	if err != nil {
		return nil, err
	}
	return map[string]float64{"accuracy": acc, "macro_f1": f1, "examples": float64(max(stats[0], 0))}, nil
}

// Classifier is the classification Learner: the LoRA classifier of
// package models over the tenant's encoded examples.
type Classifier struct {
	clf          *models.Classifier
	trainF, tstF [][]float64
	trainY, tstY []int
}

// NewClassifier returns a Factory that encodes train and test with enc
// (once: the base is frozen) for the announced task. Examples whose label
// the task does not list are skipped with a warning on log. A task whose
// options select AdapterEncoderLoRA gets NewEncoderLoRA's learner (enc
// must then be a BERT encoder, possibly behind an embedding cache); the
// default adapter is the head-only LoRA classifier over pooled vectors.
func NewClassifier(enc models.Encoder, train, test []dataset.Example, log *slog.Logger) Factory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		if spec.Kind != KindClassify {
			return nil, fmt.Errorf("task %q is of kind %q; this tenant's data are for %q", spec.ID, spec.Kind, KindClassify)
		}
		switch a := spec.Options[OptionAdapter]; a {
		case "", AdapterHead:
		case AdapterLinear:
			return NewLinearClassifier(enc, train, test, log)(ctx, spec)
		case AdapterEncoderLoRA:
			be, ok := bertOf(enc)
			if !ok {
				return nil, fmt.Errorf("task %q: adapter %s needs a bert: encoder; this tenant's encoder is %q", spec.ID, a, enc.ID())
			}
			return NewEncoderLoRA(be, train, test, log)(ctx, spec)
		default:
			return nil, fmt.Errorf("task %q: unknown adapter %q (want %q, %q or %q)", spec.ID, a, AdapterHead, AdapterLinear, AdapterEncoderLoRA)
		}
		clf, err := headClassifier(spec)
		if err != nil {
			return nil, err
		}
		l := &Classifier{clf: clf}
		if l.trainF, l.trainY, err = Encode(ctx, enc, clf, spec.Labels, train, "train", log); err != nil {
			return nil, err
		}
		if l.tstF, l.tstY, err = Encode(ctx, enc, clf, spec.Labels, test, "test", log); err != nil {
			return nil, err
		}
		return l, nil
	}
}

// AdapterHead (the default adapter) is the head-only LoRA classifier.
const AdapterHead = "head"

// bertOf returns the BERT encoder behind enc, looking through wrappers
// with an Unwrap method (the embedding cache).
func bertOf(enc models.Encoder) (*bert.Encoder, bool) {
	for enc != nil {
		if b, ok := enc.(*bert.Encoder); ok {
			return b, true
		}
		u, ok := enc.(interface{ Unwrap() models.Encoder })
		if !ok {
			return nil, false
		}
		enc = u.Unwrap()
	}
	return nil, false
}

// Encode encodes the examples whose label is in labels and projects them
// with clf; the others are counted and reported on log. It encodes
// EncodeChunk texts at a time and keeps only the projections (Rank
// numbers a row unless clf trains A), never every dense input at once.
func Encode(ctx context.Context, enc models.Encoder, clf *models.Classifier, labels []string, ex []dataset.Example, split string, log *slog.Logger) ([][]float64, []int, error) {
	texts, ys, unknown := dataset.WithLabels(ex, labels)
	if unknown > 0 {
		log.Warn("examples with labels outside the task were skipped", "split", split, "skipped", unknown)
	}
	if len(texts) == 0 {
		return nil, nil, nil
	}
	f, err := EncodeProject(ctx, enc, clf, texts)
	if err != nil {
		return nil, nil, fmt.Errorf("task: %s split: %w", split, err)
	}
	return f, ys, nil
}

// EncodeProject encodes texts EncodeChunk at a time and projects each
// chunk with clf, so only the projections (Rank numbers a text unless clf
// trains A) are kept, never every dense input at once.
func EncodeProject(ctx context.Context, enc models.Encoder, clf *models.Classifier, texts []string) ([][]float64, error) {
	out := make([][]float64, 0, len(texts))
	for i := 0; i < len(texts); i += EncodeChunk {
		x, err := enc.Encode(ctx, texts[i:min(i+EncodeChunk, len(texts))])
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		f, err := clf.Project(x)
		if err != nil {
			return nil, fmt.Errorf("project: %w", err)
		}
		out = append(out, f...)
	}
	return out, nil
}

func (l *Classifier) NumParams() int              { return l.clf.NumParams() }
func (l *Classifier) Params() []float64           { return l.clf.Params() }
func (l *Classifier) SetParams(p []float64) error { return l.clf.SetParams(p) }
func (l *Classifier) TrainSize() int              { return len(l.trainF) }
func (l *Classifier) Model() *models.Classifier   { return l.clf }
func (l *Classifier) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	return l.clf.Train(l.trainF, l.trainY, cfg, rng)
}

// EvalStats returns ClassStats of the held-out split.
func (l *Classifier) EvalStats() ([]int64, error) {
	k := l.clf.Config().Classes
	if len(l.tstF) == 0 {
		return make([]int64, 2+3*k), nil
	}
	m, err := l.clf.Evaluate(l.tstF, l.tstY)
	if err != nil {
		return nil, err
	}
	return ClassStats(m), nil
}
