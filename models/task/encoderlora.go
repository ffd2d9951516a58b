package task

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/protocol"
)

// Task options (protocol.TaskSpec.Options) that select LoRA inside the
// BERT encoder for a classification task.
const (
	// OptionAdapter names the adapter; AdapterEncoderLoRA selects
	// NewEncoderLoRA. Without it (or with AdapterHead) a classification
	// task uses the head-only LoRA classifier.
	OptionAdapter = "adapter"
	// AdapterEncoderLoRA is LoRA on the query and value projections of the
	// encoder's top layers, with a linear head.
	AdapterEncoderLoRA = "encoder-lora"
	// OptionLoRALayers is the number of adapted layers counted from the top
	// (decimal, 1..num_hidden_layers). Required.
	OptionLoRALayers = "lora_layers"
	// OptionLoRARank is the LoRA rank (decimal, 1..hidden_size). Required.
	OptionLoRARank = "lora_rank"
)

// EncoderLoRAConfig is what a task spec selects for LoRA in the encoder.
type EncoderLoRAConfig struct {
	Layers  int     // adapted layers, from the top
	Rank    int     // LoRA rank
	Alpha   float64 // ΔW = (Alpha/Rank)·B·A; 0 means Alpha = Rank
	Seed    uint64  // derives every A (frozen, identical at every tenant)
	Classes int     // len(spec.Labels)
}

// ParseEncoderLoRA reads spec's encoder-LoRA options for a model of
// configuration cfg and checks them; errors name the task and the option.
func ParseEncoderLoRA(spec protocol.TaskSpec, cfg bert.Config) (EncoderLoRAConfig, error) {
	if a := spec.Options[OptionAdapter]; a != AdapterEncoderLoRA {
		return EncoderLoRAConfig{}, fmt.Errorf("task %q: option %s = %q: this learner is for %q", spec.ID, OptionAdapter, a, AdapterEncoderLoRA)
	}
	intOpt := func(key string, hi int, what string) (int, error) {
		s, ok := spec.Options[key]
		if !ok {
			return 0, fmt.Errorf("task %q: option %s is required with %s=%s", spec.ID, key, OptionAdapter, AdapterEncoderLoRA)
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("task %q: option %s = %q is not an integer", spec.ID, key, s)
		}
		if v < 1 || v > hi {
			return 0, fmt.Errorf("task %q: option %s = %d out of range [1, %d] (%s)", spec.ID, key, v, hi, what)
		}
		return v, nil
	}
	layers, err := intOpt(OptionLoRALayers, cfg.NumLayers, "the encoder's layer count")
	if err != nil {
		return EncoderLoRAConfig{}, err
	}
	rank, err := intOpt(OptionLoRARank, cfg.HiddenSize, "the encoder's hidden size")
	if err != nil {
		return EncoderLoRAConfig{}, err
	}
	if spec.Alpha < 0 || math.IsNaN(spec.Alpha) || math.IsInf(spec.Alpha, 0) {
		return EncoderLoRAConfig{}, fmt.Errorf("task %q: alpha %v must be finite and non-negative", spec.ID, spec.Alpha)
	}
	k := len(spec.Labels)
	if _, err := models.NewConfusionMatrix(k); err != nil || k < 2 {
		return EncoderLoRAConfig{}, fmt.Errorf("task %q: %d labels: a classification task needs at least 2 (and a bounded number)", spec.ID, k)
	}
	seen := make(map[string]bool, k)
	for _, l := range spec.Labels {
		if seen[l] {
			return EncoderLoRAConfig{}, fmt.Errorf("task %q: label %q listed twice", spec.ID, l)
		}
		seen[l] = true
	}
	if spec.InputDim != 0 && spec.InputDim != cfg.HiddenSize {
		return EncoderLoRAConfig{}, fmt.Errorf("task %q: input dimension %d, the encoder's hidden size is %d", spec.ID, spec.InputDim, cfg.HiddenSize)
	}
	return EncoderLoRAConfig{Layers: layers, Rank: rank, Alpha: spec.Alpha, Seed: spec.Seed, Classes: k}, nil
}

// NumParams is the length of the parameter vector for a model of
// configuration cfg: 2·Layers·H·Rank LoRA values, then Classes·H head
// weights and Classes biases. The operator announces it as
// spec.NumParams; the initial global version is all zeros.
func (c EncoderLoRAConfig) NumParams(cfg bert.Config) int {
	h := cfg.HiddenSize
	return 2*c.Layers*h*c.Rank + c.Classes*h + c.Classes
}

// EncoderLoRA is the classification Learner with LoRA inside a frozen BERT
// encoder: adapters on the query and value projections of the top layers
// and a linear softmax head on the pooled vector (the encoder's pooling
// and normalisation).
//
// Parameters, flattened in this order:
//
//	[Bq, Bv] of each adapted layer from the lowest up (H×Rank each,
//	row-major: bert.LoRA.Params), then the head weight W (Classes×H,
//	row-major), then the head bias (Classes).
//
// Every tenant derives the same frozen A from spec.Seed, so the average
// of the tenants' parameters gives exactly the average of their ΔW = s·B·A
// per layer, and the average head.
//
// The frozen layers below the adapters run once per record when the
// learner is built: it keeps each record's hidden state entering the
// lowest adapted layer (tokens×H float32, 4·T·H bytes per record).
type EncoderLoRA struct {
	enc           *bert.Encoder
	lora          *bert.LoRA
	h, k, nb      int
	w, b          []float64 // head, Classes×H and Classes
	train, test   []hidden
	trainY, testY []int
}

// hidden is one record's cached input of the adapted layers.
type hidden struct {
	x []float32 // T×H
	t int
}

func (s hidden) f64() []float64 {
	out := make([]float64, len(s.x))
	for i, v := range s.x {
		out[i] = float64(v)
	}
	return out
}

var _ Learner = (*EncoderLoRA)(nil)

// NewEncoderLoRA returns a Factory for classification tasks whose options
// select AdapterEncoderLoRA (see ParseEncoderLoRA). It tokenizes train and
// test with enc's tokenizer and runs the frozen layers once per record;
// examples whose label the task does not list are skipped with a warning
// on log. NewClassifier dispatches to it when
// spec.Options[OptionAdapter] == AdapterEncoderLoRA.
func NewEncoderLoRA(enc *bert.Encoder, train, test []dataset.Example, log *slog.Logger) Factory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		if spec.Kind != KindClassify {
			return nil, fmt.Errorf("task %q is of kind %q; this tenant's data are for %q", spec.ID, spec.Kind, KindClassify)
		}
		if enc == nil {
			return nil, fmt.Errorf("task %q: %s needs a BERT encoder", spec.ID, AdapterEncoderLoRA)
		}
		if spec.EncoderID != "" && spec.EncoderID != enc.ID() {
			return nil, fmt.Errorf("task %q needs encoder %q, this tenant has %q", spec.ID, spec.EncoderID, enc.ID())
		}
		mcfg := enc.Model().Config()
		c, err := ParseEncoderLoRA(spec, mcfg)
		if err != nil {
			return nil, err
		}
		opt := enc.Options()
		lora, err := bert.NewLoRA(enc.Model(), bert.LoRAConfig{TopLayers: c.Layers, Rank: c.Rank, Alpha: c.Alpha,
			Seed: c.Seed, Pooling: opt.Pooling, Normalize: opt.Normalize})
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		h := mcfg.HiddenSize
		l := &EncoderLoRA{enc: enc, lora: lora, h: h, k: c.Classes, nb: lora.NumParams(),
			w: make([]float64, c.Classes*h), b: make([]float64, c.Classes)}
		if l.train, l.trainY, err = l.cache(ctx, enc, spec.Labels, train, "train", log); err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		if l.test, l.testY, err = l.cache(ctx, enc, spec.Labels, test, "test", log); err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		return l, nil
	}
}

// cacheBatch is the number of records per frozen forward pass.
const cacheBatch = 32

// cache tokenizes the examples with a listed label and keeps their hidden
// states entering the lowest adapted layer.
func (l *EncoderLoRA) cache(ctx context.Context, enc *bert.Encoder, labels []string, ex []dataset.Example, split string, log *slog.Logger) ([]hidden, []int, error) {
	texts, ys, unknown := dataset.WithLabels(ex, labels)
	ids := make([][]int, len(texts))
	for i, text := range texts {
		ids[i] = enc.Tokenizer().Encode(text)
	}
	if unknown > 0 {
		log.Warn("examples with labels outside the task were skipped", "split", split, "skipped", unknown)
	}
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	// Similar lengths share a batch, so little padding is computed.
	slices.SortStableFunc(order, func(a, b int) int { return len(ids[a]) - len(ids[b]) })
	out := make([]hidden, len(ids))
	for start := 0; start < len(order); start += cacheBatch {
		idx := order[start:min(start+cacheBatch, len(order))]
		batch := make([][]int, len(idx))
		for i, j := range idx {
			batch[i] = ids[j]
		}
		xs, err := enc.Model().HiddenBefore(ctx, batch, l.lora.FirstLayer())
		if err != nil {
			return nil, nil, fmt.Errorf("%s split: %w", split, err)
		}
		for i, j := range idx {
			x := make([]float32, len(xs[i]))
			for p, v := range xs[i] {
				x[p] = float32(v) // exact: the frozen pass computes in float32
			}
			out[j] = hidden{x: x, t: len(batch[i])}
		}
	}
	return out, ys, nil
}

// NumParams is the parameter count (see the type's layout).
func (l *EncoderLoRA) NumParams() int { return l.nb + len(l.w) + len(l.b) }

// Params returns a copy of the parameters: LoRA B's, head W, head bias.
func (l *EncoderLoRA) Params() []float64 {
	return slices.Concat(l.lora.Params(), l.w, l.b)
}

// SetParams loads p (NumParams finite values, the Params layout).
func (l *EncoderLoRA) SetParams(p []float64) error {
	if len(p) != l.NumParams() {
		return fmt.Errorf("task: %d encoder-LoRA parameters, want %d", len(p), l.NumParams())
	}
	for i, v := range p[l.nb:] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("task: head parameter %d is %v", i, v)
		}
	}
	if err := l.lora.SetParams(p[:l.nb]); err != nil {
		return fmt.Errorf("task: %w", err)
	}
	copy(l.w, p[l.nb:])
	copy(l.b, p[l.nb+len(l.w):])
	return nil
}

// TrainSize is the number of cached training records.
func (l *EncoderLoRA) TrainSize() int { return len(l.train) }

// LoRA returns the encoder adapters (for ΔW and PEFT export).
func (l *EncoderLoRA) LoRA() *bert.LoRA { return l.lora }

// logits sets z = W·v + b.
func (l *EncoderLoRA) logits(z, v []float64) {
	for o := range z {
		s := l.b[o]
		row := l.w[o*l.h : (o+1)*l.h]
		for j, x := range v {
			s += row[j] * x
		}
		z[o] = s
	}
}

// predict returns the class of one record under the current parameters.
func (l *EncoderLoRA) predict(s hidden) (int, error) {
	v, _, err := l.lora.Forward(s.f64(), s.t)
	if err != nil {
		return 0, err
	}
	z := make([]float64, l.k)
	l.logits(z, v)
	best := 0
	for o, x := range z {
		if x > z[best] {
			best = o
		}
	}
	return best, nil
}

// EvalStats returns ClassStats of the held-out split under the current
// parameters (all zero without one).
func (l *EncoderLoRA) EvalStats() ([]int64, error) {
	m, err := models.NewConfusionMatrix(l.k)
	if err != nil {
		return nil, err
	}
	pred := make([]int, len(l.test))
	err = parallel(len(l.test), func(_, i int) error {
		var err error
		pred[i], err = l.predict(l.test[i])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("task: evaluation: %w", err)
	}
	for i, p := range pred {
		if err := m.Add(l.testY[i], p); err != nil {
			return nil, err
		}
	}
	return ClassStats(m), nil
}

// Predict returns the class index (into the task's Labels) of each text
// under the current parameters: the tenant's local use of the shared
// model.
func (l *EncoderLoRA) Predict(ctx context.Context, texts []string) ([]int, error) {
	out := make([]int, len(texts))
	z := make([]float64, l.k)
	for start := 0; start < len(texts); start += cacheBatch {
		vs, err := l.lora.Embed(ctx, l.enc.Tokenizer(), texts[start:min(start+cacheBatch, len(texts))])
		if err != nil {
			return nil, fmt.Errorf("task: predict: %w", err)
		}
		for i, v := range vs {
			l.logits(z, v)
			for o, x := range z {
				if x > z[out[start+i]] {
					out[start+i] = o
				}
			}
		}
	}
	return out, nil
}
