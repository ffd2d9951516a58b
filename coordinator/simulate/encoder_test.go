package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/embcache"
	"github.com/fedb2b/fedb2b/models/encoderspec"
	"github.com/fedb2b/fedb2b/privacy"
)

// tinyBert is the tiny random BERT of package bert's golden tests.
const tinyBert = "../../models/bert/testdata/tiny-bert"

// vocabTopics are words and characters that are whole tokens in tiny-bert's
// 116-entry vocabulary, grouped by topic. Each topic is a label; a text is
// a shuffled mix of its topic's tokens and shared filler, so the label is
// a function of which tokens occur (as it is for real intents), and even a
// random BERT maps the topics to separable pooled vectors.
var vocabTopics = map[string][]string{
	"refund":      {"refund", "request", "damaged", "packaging", "order", "qty", "询", "问", "订", "单"},
	"furniture":   {"office", "furniture", "stationery", "wholesale", "supplier", "tab", "space"},
	"electronics": {"pcb", "assemblies", "electronic", "shenzhen", "huaxin", "manufactures", "industrial"},
	"food":        {"cafe", "equipement", "食", "品", "批", "超", "市", "连", "锁"},
	"software":    {"软", "件", "开", "发", "服", "务", "new", "test"},
}

var vocabFiller = []string{"we", "are", "a", "of", "and", "to", "for", "the", "is", "client", "客", "户", "企", "业", "我", "们", "公", "司", ".", ",", "?"}

// vocabData makes n labelled texts from vocabTopics (deterministic in seed).
func vocabData(n int, seed uint64) []dataset.Example {
	r := mrand.New(mrand.NewPCG(seed, 0x70c))
	labels := make([]string, 0, len(vocabTopics))
	for l := range vocabTopics {
		labels = append(labels, l)
	}
	// Map order is random: sort so the data depends on seed only.
	for i := 1; i < len(labels); i++ {
		for j := i; j > 0 && labels[j] < labels[j-1]; j-- {
			labels[j], labels[j-1] = labels[j-1], labels[j]
		}
	}
	out := make([]dataset.Example, n)
	for i := range out {
		l := labels[r.IntN(len(labels))]
		words := vocabTopics[l]
		var toks []string
		for range 3 + r.IntN(3) {
			toks = append(toks, words[r.IntN(len(words))])
		}
		for range 1 + r.IntN(3) {
			toks = append(toks, vocabFiller[r.IntN(len(vocabFiller))])
		}
		r.Shuffle(len(toks), func(a, b int) { toks[a], toks[b] = toks[b], toks[a] })
		out[i] = dataset.Example{Text: strings.Join(toks, " "), Label: l}
	}
	return out
}

// encoderRun is a small secure federation (3 tenants, all needed) on enc.
func encoderRun(t *testing.T, enc models.Encoder, data []dataset.Example, rounds int) *Report {
	t.Helper()
	cfg := Config{
		Tenants: 3, MinClients: 3, Alpha: 1, Seed: 3, Data: data,
		Encoder: enc, Rank: 64,
		Rounds: rounds, LocalSteps: 20, SampleRate: 0.1, TargetEpsilon: 8,
		LearningRate: 1, ServerLR: 1,
		RoundTimeout: 10 * time.Second,
		Rand:         privacy.SeededReader(17),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != rounds {
		t.Fatalf("got %d rounds, want %d: %+v", len(rep.Rounds), rounds, rep.Rounds)
	}
	accs := make([]string, len(rep.Rounds))
	for i, r := range rep.Rounds {
		if r.Abandoned || r.Participants != 3 {
			t.Errorf("round %d: abandoned=%v (%s), participants %v", r.Round, r.Abandoned, r.Reason, r.Tenants)
		}
		accs[i] = fmt.Sprintf("%.4f", r.Accuracy)
	}
	if rep.SecureAggregation == nil {
		t.Error("the run did not use secure aggregation")
	}
	first, last := rep.Rounds[0], rep.Rounds[len(rep.Rounds)-1]
	if !(last.Accuracy > first.Accuracy) {
		t.Errorf("accuracy did not rise over round 1: %v", accs)
	}
	if last.Examples == 0 {
		t.Error("no held-out examples were evaluated")
	}
	for name, e := range rep.Epsilon {
		if e > 8+1e-9 {
			t.Errorf("%s spent ε=%v above its cap 8", name, e)
		}
	}
	t.Logf("encoder %s (dim %d): accuracy by round %v (%d held-out examples)", enc.ID(), enc.Dim(), accs, last.Examples)
	return rep
}

// TestFederatedBertEncoder runs the federation on the tiny random BERT
// (mean pooling), opened by spec as `demo --encoder bert:PATH --pooling mean`
// does. (The demo's --embed-cache path is tested in cmd/fedb2b; here the
// cache's fsync per record would only slow the run.)
func TestFederatedBertEncoder(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	enc, err := encoderspec.Open("bert:"+tinyBert, encoderspec.Options{Pooling: "mean"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc.ID(), "bert:") || enc.Dim() != 32 {
		t.Fatalf("opened %s with dimension %d, want a bert: encoder of dimension 32", enc.ID(), enc.Dim())
	}
	encoderRun(t, enc, vocabData(1500, 5), 5)
}

// embeddingsServer mimics an OpenAI-compatible POST /v1/embeddings: each
// input becomes the vector of a hashing encoder (a deterministic stand-in
// for a real embedding model), so the task is learnable. It checks the
// model name and the API key and counts the texts it embedded.
type embeddingsServer struct {
	model, key string
	enc        models.Encoder
	texts      atomic.Int64
}

func (s *embeddingsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		http.Error(w, `{"error":{"message":"bad API key"}}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != s.model || len(req.Input) == 0 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	vecs, err := s.enc.Encode(r.Context(), req.Input)
	if err != nil {
		http.Error(w, `{"error":{"message":"encoder failed"}}`, http.StatusInternalServerError)
		return
	}
	s.texts.Add(int64(len(req.Input)))
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	}
	resp := struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
		Model  string `json:"model"`
	}{Object: "list", Model: s.model}
	// Answer in reverse order: clients must place vectors by index.
	for i := len(vecs) - 1; i >= 0; i-- {
		resp.Data = append(resp.Data, item{Object: "embedding", Index: i, Embedding: vecs[i]})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// TestFederatedOpenAIEncoder runs the federation on an OpenAI-compatible
// endpoint (an in-test server), opened by spec as `demo --encoder
// openai:URL#MODEL --api-key-env VAR` does.
func TestFederatedOpenAIEncoder(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	inner, err := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	if err != nil {
		t.Fatal(err)
	}
	srv := &embeddingsServer{model: "fake-embed", key: "sk-test-0123", enc: inner}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	t.Setenv("FEDB2B_TEST_EMBED_KEY", srv.key)
	enc, err := encoderspec.Open("openai:"+ts.URL+"#fake-embed", encoderspec.Options{APIKeyEnv: "FEDB2B_TEST_EMBED_KEY", BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if want := "openai:" + ts.URL + "/v1/embeddings#fake-embed:dim=256"; enc.ID() != want {
		t.Fatalf("encoder ID %q, want %q", enc.ID(), want)
	}
	data := vocabData(1500, 6)
	encoderRun(t, enc, data, 5)
	// The probe, then every tenant's train and held-out texts, each once.
	if got := srv.texts.Load(); got != int64(len(data))+1 {
		t.Errorf("the endpoint embedded %d texts, want %d (the probe and each record once)", got, len(data)+1)
	}
}

// TestEncoderExperiment is the measured experiment behind the README's
// figures, run only when FEDB2B_ENCODER_EXPERIMENT names a labelled CSV
// (e.g. ../shared/data/massive_intent_zh/massive_intent_zh.csv):
//
//	FEDB2B_ENCODER_EXPERIMENT=$PWD/../shared/data/massive_intent_zh/massive_intent_zh.csv \
//	  go test -run TestEncoderExperiment -v -timeout 1h ./coordinator/simulate
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
		if cc, ok := enc.(*embcache.Cache); ok {
			hits, misses := cc.Stats()
			extra = fmt.Sprintf(", cache %d hits / %d misses", hits, misses)
		}
		t.Logf("%s pooling=%q normalize=%v dim=%d: rounds %v; federated acc %.4f F1 %.4f; local-only %.4f; centralized %.4f; %v%s",
			enc.ID(), c.opt.Pooling, c.opt.Normalize, enc.Dim(), accs, rep.Final.Accuracy, rep.Final.MacroF1,
			rep.Baselines["local_only"].Accuracy, rep.Baselines["centralized"].Accuracy, time.Since(start).Round(time.Second), extra)
	}
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
