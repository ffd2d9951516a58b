package task

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/embcache"
	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/protocol"
)

// NewClassifier picks the adapter the task's options name, looking through
// the embedding cache for the BERT encoder LoRA-in-encoder needs.
func TestClassifierAdapterDispatch(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{Pooling: bert.PoolMean})
	cached, err := embcache.Wrap(enc, t.TempDir(), embcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex := toyExamples(1, 5)
	spec := toySpec(enc, "1", "2")
	l, err := NewClassifier(cached, ex, ex, nil)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*EncoderLoRA); !ok {
		t.Fatalf("adapter %s gave a %T", AdapterEncoderLoRA, l)
	}
	spec.Options[OptionAdapter] = AdapterHead
	spec.InputDim, spec.Rank = enc.Dim(), 4
	if l, err = NewClassifier(cached, ex, ex, nil)(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*Classifier); !ok {
		t.Fatalf("adapter %s gave a %T", AdapterHead, l)
	}
	spec.Options[OptionAdapter] = "prefix-tuning"
	if _, err := NewClassifier(cached, ex, ex, nil)(context.Background(), spec); err == nil || !strings.Contains(err.Error(), `unknown adapter "prefix-tuning"`) {
		t.Fatalf("unknown adapter: %v", err)
	}
	hashing, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	spec.Options[OptionAdapter] = AdapterEncoderLoRA
	if _, err := NewClassifier(hashing, ex, ex, nil)(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "needs a bert: encoder") {
		t.Fatalf("LoRA-in-encoder on a hashing encoder: %v", err)
	}
}

// NewText serves both kinds over labelled texts, by the announced kind.
func TestNewTextDispatch(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 64})
	ex := []dataset.Example{{Text: "steel pipes", Label: "a"}, {Text: "fresh bread", Label: "b"}, {Text: "weather?", Label: intent.OOSLabel}}
	spec := protocol.TaskSpec{ID: "t", EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 2, Labels: []string{"a", "b"}, Seed: 1}
	f := NewText(enc, ex, ex, nil)
	for kind, want := range map[string]string{KindClassify: "*task.Classifier", KindIntent: "*task.Intent"} {
		spec.Kind = kind
		l, err := f(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", l); got != want {
			t.Errorf("kind %s: %s, want %s", kind, got, want)
		}
	}
	spec.Kind = KindForecast
	if _, err := f(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "labelled texts serve") {
		t.Fatalf("forecast over texts: %v", err)
	}
}
