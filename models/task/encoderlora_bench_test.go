package task_test

import (
	"context"
	"encoding/csv"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// bgeSmallZh is the shape of BAAI/bge-small-zh-v1.5 (weights random here).
var bgeSmallZh = bert.Config{ModelType: "bert", HiddenSize: 512, NumLayers: 4, NumHeads: 8,
	IntermediateSize: 2048, HiddenAct: "gelu", LayerNormEps: 1e-12, MaxPositionEmbeddings: 512,
	TypeVocabSize: 2, VocabSize: 21128}

// cjkEncoder wraps m with a character-level tokenizer over the special
// tokens and the given CJK ideographs (ids 5…), as BERT's Chinese
// tokenizer splits every ideograph into its own token. With CLS pooling and
// normalisation as bge models use.
func cjkEncoder(tb testing.TB, m *bert.Model, chars []rune, pool bert.Pooling, maxLen int) *bert.Encoder {
	tb.Helper()
	vocab := map[string]int{"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
	for _, c := range chars {
		if _, ok := vocab[string(c)]; !ok {
			vocab[string(c)] = len(vocab)
		}
	}
	tok, err := bert.NewTokenizer(vocab, maxLen)
	if err != nil {
		tb.Fatal(err)
	}
	enc, err := bert.New(m, tok, bert.Options{Pooling: pool, Normalize: true})
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// BenchmarkEncoderLoRAStep measures one DP-SGD step (q = 1 over 32
// records of 32 tokens: batch 32) of the encoder-LoRA learner, rank 8 in
// the top 1 or 2 layers of the bge-small-zh-v1.5 shape with random
// weights: per-record forward and backward through the adapted layers and
// the head, whole-gradient clipping, noise, update. Baselines in the same
// run: the head-only learner's step (NewClassifier, rank 8, on cached
// embeddings) and the frozen full-model forward pass of the same batch
// (what encoding those 32 records costs). Compare ns/op. Train runs the
// adapted layers' frozen products in float32 (bert.Workspace, mixed
// precision); BenchmarkLoRAPerExample in models/bert compares that with
// the float64 path in one run.
func BenchmarkEncoderLoRAStep(b *testing.B) {
	m, err := bert.RandomModel(bgeSmallZh, 7)
	if err != nil {
		b.Fatal(err)
	}
	chars := make([]rune, 3000)
	for i := range chars {
		chars[i] = rune(0x4e00 + i)
	}
	enc := cjkEncoder(b, m, chars, bert.PoolCLS, 512)
	r := mrand.New(mrand.NewPCG(9, 9))
	labels := []string{"a", "b", "c", "d"}
	var ex []dataset.Example
	for i := range 32 {
		s := make([]rune, 30) // 30 ideographs: 32 tokens with [CLS] and [SEP]
		for j := range s {
			s[j] = chars[r.IntN(len(chars))]
		}
		ex = append(ex, dataset.Example{Text: string(s), Label: labels[i%4]})
	}
	step := models.TrainConfig{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 1, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 32}
	rng, _ := privacy.NewRand(privacy.SeededReader(1))
	run := func(b *testing.B, l task.Learner) {
		for b.Loop() {
			if _, err := l.Train(step, rng); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "examples/s")
	}
	b.Run("forward_full_batch32_seq32", func(b *testing.B) {
		ids := make([][]int, len(ex))
		for i, e := range ex {
			ids[i] = enc.Tokenizer().Encode(e.Text)
		}
		for b.Loop() {
			if _, _, err := m.Forward(context.Background(), ids); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("head_only_step", func(b *testing.B) {
		spec := protocol.TaskSpec{ID: "bench", Kind: task.KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 8, Labels: labels, Seed: 1}
		l, err := task.NewClassifier(enc, ex, nil, nil)(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		run(b, l)
	})
	for _, layers := range []string{"1", "2"} {
		b.Run("encoder_lora_top"+layers+"_step", func(b *testing.B) {
			spec := protocol.TaskSpec{ID: "bench", Kind: task.KindClassify, EncoderID: enc.ID(), Labels: labels, Seed: 1,
				Options: map[string]string{task.OptionAdapter: task.AdapterEncoderLoRA, task.OptionLoRALayers: layers, task.OptionLoRARank: "8"}}
			l, err := task.NewEncoderLoRA(enc, ex, nil, nil)(context.Background(), spec)
			if err != nil {
				b.Fatal(err)
			}
			if l.TrainSize() != 32 {
				b.Fatalf("%d records cached", l.TrainSize())
			}
			run(b, l)
		})
	}
}

// bertMini is the shape of BERT-mini (Turc et al. 2019): 4 layers, H = 256.
var bertMini = bert.Config{ModelType: "bert", HiddenSize: 256, NumLayers: 4, NumHeads: 4,
	IntermediateSize: 1024, HiddenAct: "gelu", LayerNormEps: 1e-12, MaxPositionEmbeddings: 64, TypeVocabSize: 2}

// readMassive reads massive_intent_zh.csv (id,text,label,split) at path or
// in the folder path.
func readMassive(t *testing.T, path string) (train, val []dataset.Example) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "massive_intent_zh.csv")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || !slices.Equal(rows[0], []string{"id", "text", "label", "split"}) {
		t.Fatalf("%s: header %v, want id,text,label,split", path, rows[0])
	}
	for _, r := range rows[1:] {
		e := dataset.Example{Text: r[1], Label: r[2]}
		if r[3] == "train" {
			train = append(train, e)
		} else {
			val = append(val, e)
		}
	}
	return train, val
}

// An experiment, not a test: head-only LoRA classifier against LoRA in the
// encoder on MASSIVE zh-CN intents (the 12 most frequent, at most 150
// training records each; the official validation split of those intents
// held out), over a RANDOM BERT-mini-shaped encoder with a character
// vocabulary built from the data. Random weights carry no language
// knowledge: this checks the mechanics at a realistic shape (does
// training through the encoder work and help over a frozen random
// encoder), not what a pretrained encoder would reach. Non-private
// training (the DP-SGD path is the same code with clipping and noise).
//
//	FEDB2B_MASSIVE=/work/shared/data/massive_intent_zh go test -run MassiveExperiment -v ./models/task
func TestMassiveExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_MASSIVE")
	if path == "" {
		t.Skip("set FEDB2B_MASSIVE to the massive_intent_zh folder or CSV")
	}
	trainAll, valAll := readMassive(t, path)
	count := map[string]int{}
	for _, e := range trainAll {
		count[e.Label]++
	}
	labels := slices.SortedFunc(func(yield func(string) bool) {
		for l := range count {
			if !yield(l) {
				return
			}
		}
	}, func(a, b string) int { return count[b] - count[a] })[:12]
	slices.Sort(labels)
	keep := map[string]int{}
	for _, l := range labels {
		keep[l] = 0
	}
	var train, val []dataset.Example
	r := mrand.New(mrand.NewPCG(1, 1))
	r.Shuffle(len(trainAll), func(i, j int) { trainAll[i], trainAll[j] = trainAll[j], trainAll[i] })
	for _, e := range trainAll {
		if n, ok := keep[e.Label]; ok && n < 150 {
			train = append(train, e)
			keep[e.Label]++
		}
	}
	for _, e := range valAll {
		if _, ok := keep[e.Label]; ok {
			val = append(val, e)
		}
	}
	var chars []rune
	for _, e := range slices.Concat(train, val) {
		for _, c := range e.Text {
			chars = append(chars, c)
		}
	}
	cfg := bertMini
	cfg.VocabSize = 5 + len(chars) // an upper bound on the distinct characters
	m, err := bert.RandomModel(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	enc := cjkEncoder(t, m, chars, bert.PoolMean, 64)
	t.Logf("%d training, %d held-out records, %d intents, %d-token vocabulary, random %d-layer H=%d encoder",
		len(train), len(val), len(labels), enc.Tokenizer().VocabSize(), cfg.NumLayers, cfg.HiddenSize)
	ctx := context.Background()
	base := protocol.TaskSpec{ID: "massive", Kind: task.KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(), Labels: labels, Seed: 5}
	for _, arm := range []struct {
		name    string
		factory task.Factory
		opts    map[string]string
		rank    int
		lr      float64
	}{
		{"head-only LoRA classifier (rank 64)", task.NewClassifier(enc, train, val, nil), nil, 64, 4},
		{"encoder LoRA top 2 layers (rank 8) + head", task.NewEncoderLoRA(enc, train, val, nil),
			map[string]string{task.OptionAdapter: task.AdapterEncoderLoRA, task.OptionLoRALayers: "2", task.OptionLoRARank: "8"}, 0, 0.5},
	} {
		spec := base
		spec.Options, spec.Rank = arm.opts, arm.rank
		start := time.Now()
		l, err := arm.factory(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		prep := time.Since(start)
		rng, _ := privacy.NewRand(privacy.SeededReader(2))
		for epoch := 1; epoch <= 6; epoch++ {
			st, err := l.Train(models.TrainConfig{Steps: len(train) / 32, LearningRate: arm.lr, Momentum: 0.9, BatchSize: 32}, rng)
			if err != nil {
				t.Fatal(err)
			}
			s, err := l.EvalStats()
			if err != nil {
				t.Fatal(err)
			}
			acc, f1, _ := task.ClassMetrics(s, len(labels))
			t.Logf("%s: epoch %d: train loss %.3f, held-out accuracy %.3f, macro-F1 %.3f (prepare %v, total %v)",
				arm.name, epoch, st.MeanLoss, acc, f1, prep.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
	}
}
