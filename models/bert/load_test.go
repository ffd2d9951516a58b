package bert

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTiny copies the tiny model into a fresh temporary folder.
func copyTiny(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(tinyDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func rewriteWeights(t *testing.T, dir string, edit func(map[string]*Tensor) map[string]*Tensor) {
	t.Helper()
	ts, err := ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := WriteSafetensors(edit(ts), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), buf, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing weights", func(t *testing.T) {
		dir := copyTiny(t)
		os.Remove(filepath.Join(dir, "model.safetensors"))
		_, err := Load(dir, Options{})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "model.safetensors") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("missing config", func(t *testing.T) {
		dir := copyTiny(t)
		os.Remove(filepath.Join(dir, "config.json"))
		if _, err := Load(dir, Options{}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "config.json") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("missing vocabulary", func(t *testing.T) {
		dir := copyTiny(t)
		os.Remove(filepath.Join(dir, "vocab.txt"))
		os.Remove(filepath.Join(dir, "tokenizer.json"))
		if _, err := Load(dir, Options{}); err == nil || !strings.Contains(err.Error(), "neither vocab.txt nor tokenizer.json") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("unsupported architecture", func(t *testing.T) {
		dir := copyTiny(t)
		b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		b = []byte(strings.Replace(string(b), `"model_type": "bert"`, `"model_type": "gpt2"`, 1))
		os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600)
		if _, err := Load(dir, Options{}); err == nil || !strings.Contains(err.Error(), `unsupported architecture: model_type "gpt2"`) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("wrong shape", func(t *testing.T) {
		dir := copyTiny(t)
		rewriteWeights(t, dir, func(ts map[string]*Tensor) map[string]*Tensor {
			q := ts["encoder.layer.1.attention.self.query.weight"]
			q.Shape = []int{16, 64}
			return ts
		})
		_, err := Load(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), `"encoder.layer.1.attention.self.query.weight" has shape [16 64], want [32 32]`) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("missing tensor", func(t *testing.T) {
		dir := copyTiny(t)
		rewriteWeights(t, dir, func(ts map[string]*Tensor) map[string]*Tensor {
			delete(ts, "encoder.layer.0.output.LayerNorm.bias")
			return ts
		})
		if _, err := Load(dir, Options{}); err == nil || !strings.Contains(err.Error(), `missing tensor "encoder.layer.0.output.LayerNorm.bias"`) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("bad pooling", func(t *testing.T) {
		if _, err := Load(copyTiny(t), Options{Pooling: "max"}); err == nil {
			t.Fatal("pooling max accepted")
		}
	})
}

func TestBertPrefixAndTokenizerJSONOnly(t *testing.T) {
	ref := loadTiny(t, Options{})
	dir := copyTiny(t)
	rewriteWeights(t, dir, func(ts map[string]*Tensor) map[string]*Tensor {
		out := map[string]*Tensor{}
		for n, x := range ts {
			out["bert."+n] = x
		}
		return out
	})
	os.Remove(filepath.Join(dir, "vocab.txt"))
	e, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != ref.ID() {
		t.Fatalf("ID %s with bert. prefix and tokenizer.json, want %s", e.ID(), ref.ID())
	}
	texts := []string{"Refund request for damaged packaging", "客户询问：订单"}
	a, _ := ref.Encode(context.Background(), texts)
	b, err := e.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("vector %d differs at %d", i, j)
			}
		}
	}
}

func TestIDDependsOnSettingsAndWeights(t *testing.T) {
	mean, cls := loadTiny(t, Options{}), loadTiny(t, Options{Pooling: PoolCLS})
	norm := loadTiny(t, Options{Normalize: true})
	if !strings.HasPrefix(mean.ID(), "bert:") || len(mean.ID()) != len("bert:")+16 {
		t.Fatalf("ID %q", mean.ID())
	}
	if mean.ID() == cls.ID() || mean.ID() == norm.ID() {
		t.Fatal("pooling settings do not change the ID")
	}
	if again := loadTiny(t, Options{}); again.ID() != mean.ID() {
		t.Fatal("ID not deterministic")
	}
	dir := copyTiny(t)
	rewriteWeights(t, dir, func(ts map[string]*Tensor) map[string]*Tensor {
		ts["encoder.layer.1.output.dense.bias"].Data[3] += 1e-3
		return ts
	})
	e, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() == mean.ID() {
		t.Fatal("a changed weight does not change the ID")
	}
}

func TestEncodeDeterministicAndCancel(t *testing.T) {
	e := loadTiny(t, Options{BatchSize: 2})
	texts := []string{"we are a supplier", "", "订单", "office furniture"}
	a, err := e.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(texts) || len(a[1]) != e.Dim() {
		t.Fatalf("got %d vectors of %d", len(a), len(a[1]))
	}
	// Batch composition must not change a text's vector (padding is masked).
	single, _ := e.Encode(context.Background(), texts[3:])
	for j := range single[0] {
		if d := single[0][j] - a[3][j]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("padding changes the vector: %g", d)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Encode(ctx, texts); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled encode: %v", err)
	}
}
