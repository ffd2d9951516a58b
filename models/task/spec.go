package task

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

// ClassifySetup is what an operator chooses for a classification task.
type ClassifySetup struct {
	ID     string
	Labels []string
	Seed   uint64 // derives the frozen LoRA factors A
	Rank   int    // head-only: the classifier's LoRA rank; encoder-lora: the encoder LoRA rank
	Alpha  float64
	// Adapter is AdapterHead ("" too), AdapterLinear (Rank unused) or
	// AdapterEncoderLoRA; LoRALayers
	// is the number of adapted encoder layers for the latter.
	Adapter    string
	LoRALayers int
	// OOS is a linear intent task's out-of-scope scale (nil:
	// DefaultIntentLinearScale); other tasks take none.
	OOS *IntentScale
}

// ClassifySpec returns the task specification the coordinator announces
// for s over enc (kind KindClassify, or kind for KindIntent, which shares
// the head-only adapter) and the initial global parameters.
func ClassifySpec(kind string, s ClassifySetup, enc models.Encoder) (protocol.TaskSpec, []float64, error) {
	spec := protocol.TaskSpec{ID: s.ID, Kind: kind, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: s.Rank, Alpha: s.Alpha,
		Labels: s.Labels, Seed: s.Seed}
	k, err := Lookup(kind)
	if err != nil {
		return spec, nil, err
	}
	if s.OOS != nil && (kind != KindIntent || s.Adapter != AdapterLinear) {
		return spec, nil, fmt.Errorf("task %q: an out-of-scope scale is for kind %q with adapter %q", s.ID, KindIntent, AdapterLinear)
	}
	if kind == KindIntent {
		n, err := intent.InScopeClasses(s.Labels)
		if err != nil {
			return spec, nil, fmt.Errorf("task %q: %w", s.ID, err)
		}
		if n < len(s.Labels) && s.Adapter != AdapterLinear {
			return spec, nil, fmt.Errorf("task %q: a trained %q class needs adapter %q", s.ID, intent.OOSLabel, AdapterLinear)
		}
	}
	var initial []float64
	switch s.Adapter {
	case "", AdapterHead:
		clf, err := headClassifier(spec)
		if err != nil {
			return spec, nil, err
		}
		initial = clf.Params()
	case AdapterLinear:
		if kind != KindClassify && kind != KindIntent {
			return spec, nil, fmt.Errorf("task %q: adapter %s is for kinds %q and %q, not %q", s.ID, s.Adapter, KindClassify, KindIntent, kind)
		}
		if spec, initial, err = linearSpec(spec); err != nil {
			return spec, nil, err
		}
		if kind == KindIntent {
			sc := DefaultIntentLinearScale()
			if s.OOS != nil {
				sc = *s.OOS
			}
			if err := setIntentScale(&spec, sc); err != nil {
				return spec, nil, err
			}
		}
	case AdapterEncoderLoRA:
		if kind != KindClassify {
			return spec, nil, fmt.Errorf("task %q: adapter %s is for kind %q, not %q", s.ID, s.Adapter, KindClassify, kind)
		}
		be, ok := bertOf(enc)
		if !ok {
			return spec, nil, fmt.Errorf("task %q: adapter %s needs a bert: encoder, not %q", s.ID, s.Adapter, enc.ID())
		}
		spec.Options = map[string]string{OptionAdapter: AdapterEncoderLoRA, OptionLoRALayers: strconv.Itoa(s.LoRALayers), OptionLoRARank: strconv.Itoa(s.Rank)}
		c, err := ParseEncoderLoRA(spec, be.Model().Config())
		if err != nil {
			return spec, nil, err
		}
		initial = make([]float64, c.NumParams(be.Model().Config()))
	default:
		return spec, nil, fmt.Errorf("task %q: unknown adapter %q (want %q, %q or %q)", s.ID, s.Adapter, AdapterHead, AdapterLinear, AdapterEncoderLoRA)
	}
	spec.NumParams = len(initial)
	spec.EvalLen = k.EvalLen(spec)
	return spec, initial, nil
}

// NewText returns the Factory for a tenant whose data are labelled texts:
// it serves the kinds that read them, KindClassify (NewClassifier) and
// KindIntent (NewIntent), picking by the announced task's kind.
func NewText(enc models.Encoder, train, test []dataset.Example, log *slog.Logger) Factory {
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		switch spec.Kind {
		case KindClassify:
			return NewClassifier(enc, train, test, log)(ctx, spec)
		case KindIntent:
			return NewIntent(enc, train, test, log)(ctx, spec)
		}
		return nil, fmt.Errorf("task %q is of kind %q; this tenant's labelled texts serve %q and %q", spec.ID, spec.Kind, KindClassify, KindIntent)
	}
}

// headClassifier is the head-only LoRA classifier spec announces (its A
// derived from spec.Seed, so identical at every tenant).
func headClassifier(spec protocol.TaskSpec) (*models.Classifier, error) {
	clf, err := models.NewClassifier(models.ClassifierConfig{
		InputDim: spec.InputDim, Rank: spec.Rank, Classes: len(spec.Labels), Alpha: spec.Alpha, Seed: spec.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return clf, nil
}
