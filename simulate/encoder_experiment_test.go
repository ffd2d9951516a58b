package simulate

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/embcache"
	"github.com/fedb2b/fedb2b/models/encoderspec"
	"github.com/fedb2b/fedb2b/privacy"
)

// TestEncoderExperiment is the measured experiment behind the README's
// figures, run only when FEDB2B_ENCODER_EXPERIMENT names a labelled CSV
// (e.g. ../shared/data/massive_intent_zh/massive_intent_zh.csv):
//
//	FEDB2B_ENCODER_EXPERIMENT=$PWD/../shared/data/massive_intent_zh/massive_intent_zh.csv \
//	  go test -run TestEncoderExperiment -v -timeout 1h ./simulate
//
// It compares the demo's federation (5 tenants, secure aggregation,
// DP-SGD at ε=8, head-only adapter) on the hashing encoder and on a
// BERT-shaped model with the bge-small-zh-v1.5 shape and random weights,
// written to a temporary folder and opened through encoderspec behind the
// embedding cache. Random weights prove the mechanics (tokenizer, forward
// pass, cache, pinning, federation at full size), not the quality a
// pretrained checkpoint would bring. FEDB2B_ENCODER_EXPERIMENT_N caps the
// records (default 3000, a seeded sample) because the pure-Go forward pass
// of this shape encodes tens of sentences per second on two cores.
func TestEncoderExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_ENCODER_EXPERIMENT")
	if path == "" {
		t.Skip("set FEDB2B_ENCODER_EXPERIMENT to a labelled CSV to run the experiment")
	}
	n := 3000
	if v := os.Getenv("FEDB2B_ENCODER_EXPERIMENT_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			t.Fatalf("FEDB2B_ENCODER_EXPERIMENT_N=%q: want an integer ≥ 100", v)
		}
	}
	data, _, err := dataset.LoadFile(path, dataset.LoadOptions{TextCol: "text", LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	r := mrand.New(mrand.NewPCG(11, 12))
	r.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	data = data[:min(n, len(data))]
	dir := filepath.Join(t.TempDir(), "bge-small-zh-shaped-random")
	start := time.Now()
	if err := writeRandomBert(dir, data); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote a random bge-small-zh-shaped model in %v", time.Since(start).Round(time.Millisecond))
	for _, c := range []struct {
		spec string
		opt  encoderspec.Options
	}{
		{"hashing", encoderspec.Options{}},
		{"bert:" + dir, encoderspec.Options{Pooling: "mean", CacheDir: t.TempDir()}},
		{"bert:" + dir, encoderspec.Options{Pooling: "mean", Normalize: true, CacheDir: t.TempDir()}},
		{"bert:" + dir, encoderspec.Options{Pooling: "cls", Normalize: true, CacheDir: t.TempDir()}},
	} {
		enc, err := encoderspec.Open(c.spec, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Defaults()
		cfg.Data, cfg.Encoder, cfg.Rand = data, enc, privacy.SeededReader(5)
		cfg.RoundTimeout = 20 * time.Minute // round 1 waits for every tenant to encode its data
		start := time.Now()
		rep, err := Run(context.Background(), cfg, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		accs := make([]string, len(rep.Rounds))
		for i, rr := range rep.Rounds {
			accs[i] = fmt.Sprintf("%.3f", rr.Accuracy)
		}
		extra := ""
		if cos, err := meanCosine(enc, data[:200]); err == nil {
			extra = fmt.Sprintf(", mean pairwise cosine %.3f", cos)
		}
		if cc, ok := enc.(*embcache.Cache); ok {
			hits, misses := cc.Stats()
			extra += fmt.Sprintf(", cache %d hits / %d misses", hits, misses)
		}
		t.Logf("%s pooling=%q normalize=%v dim=%d: rounds %v; federated acc %.4f F1 %.4f; local-only %.4f; centralized %.4f; %v%s",
			enc.ID(), c.opt.Pooling, c.opt.Normalize, enc.Dim(), accs, rep.Final.Accuracy, rep.Final.MacroF1,
			rep.Baselines["local_only"].Accuracy, rep.Baselines["centralized"].Accuracy, time.Since(start).Round(time.Second), extra)
	}
}

// meanCosine is the mean cosine similarity over pairs of ex's vectors: near
// 1 means the encoder maps every text to nearly the same direction.
func meanCosine(enc models.Encoder, ex []dataset.Example) (float64, error) {
	texts := make([]string, len(ex))
	for i, e := range ex {
		texts[i] = e.Text
	}
	vecs, err := enc.Encode(context.Background(), texts)
	if err != nil {
		return 0, err
	}
	var sum float64
	pairs := 0
	for i := range vecs {
		for j := i + 1; j < len(vecs); j++ {
			var dot, ni, nj float64
			for k := range vecs[i] {
				dot += vecs[i][k] * vecs[j][k]
				ni += vecs[i][k] * vecs[i][k]
				nj += vecs[j][k] * vecs[j][k]
			}
			if ni > 0 && nj > 0 {
				sum += dot / math.Sqrt(ni*nj)
				pairs++
			}
		}
	}
	return sum / float64(max(pairs, 1)), nil
}

// writeRandomBert writes a Hugging Face BERT folder with the
// bge-small-zh-v1.5 shape (hidden 512, 4 layers, 8 heads, intermediate
// 2048, vocabulary 21128) and weights drawn from N(0, 0.02²) as BERT
// initialises them. Its vocabulary holds the special tokens, every
// character of data, and placeholders up to 21128 entries.
func writeRandomBert(dir string, data []dataset.Example) error {
	const h, layers, heads, inter, vocab, maxPos = 512, 4, 8, 2048, 21128, 512
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	config := fmt.Sprintf(`{"model_type":"bert","architectures":["BertModel"],"hidden_size":%d,"num_hidden_layers":%d,
"num_attention_heads":%d,"intermediate_size":%d,"hidden_act":"gelu","layer_norm_eps":1e-12,
"max_position_embeddings":%d,"type_vocab_size":2,"vocab_size":%d,"pad_token_id":0}`, h, layers, heads, inter, maxPos, vocab)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600); err != nil {
		return err
	}
	words := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	seen := map[string]bool{}
	for _, e := range data {
		for _, c := range strings.ToLower(e.Text) {
			if s := string(c); c > ' ' && !seen[s] {
				seen[s] = true
				words = append(words, s, "##"+s)
			}
		}
	}
	for i := 0; len(words) < vocab; i++ {
		words = append(words, fmt.Sprintf("[unused%d]", i))
	}
	if len(words) > vocab {
		return fmt.Errorf("data has %d distinct characters, more than the vocabulary holds", len(seen))
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(strings.Join(words, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	rng := mrand.New(mrand.NewPCG(2026, 6))
	ts := map[string]*bert.Tensor{}
	normal := func(name string, shape ...int) {
		size := 1
		for _, d := range shape {
			size *= d
		}
		v := make([]float32, size)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.02)
		}
		ts[name] = &bert.Tensor{Shape: shape, Data: v}
	}
	layerNorm := func(name string) {
		g := make([]float32, h)
		for i := range g {
			g[i] = 1
		}
		ts[name+".weight"] = &bert.Tensor{Shape: []int{h}, Data: g}
		ts[name+".bias"] = &bert.Tensor{Shape: []int{h}, Data: make([]float32, h)}
	}
	linear := func(name string, out, in int) {
		normal(name+".weight", out, in)
		ts[name+".bias"] = &bert.Tensor{Shape: []int{out}, Data: make([]float32, out)}
	}
	normal("embeddings.word_embeddings.weight", vocab, h)
	normal("embeddings.position_embeddings.weight", maxPos, h)
	normal("embeddings.token_type_embeddings.weight", 2, h)
	layerNorm("embeddings.LayerNorm")
	for i := range layers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			linear(p+n, h, h)
		}
		linear(p+"intermediate.dense", inter, h)
		linear(p+"output.dense", h, inter)
		layerNorm(p + "attention.output.LayerNorm")
		layerNorm(p + "output.LayerNorm")
	}
	b, err := bert.WriteSafetensors(ts, map[string]string{"format": "pt"})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "model.safetensors"), b, 0o600)
}
