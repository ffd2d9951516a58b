package simulate

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/dataset"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
)

// massiveBertMini is the shape of BERT-mini (Turc et al. 2019): 4 layers,
// H = 256, 4 heads; the vocabulary is the data's characters.
var massiveBertMini = bert.Config{ModelType: "bert", HiddenSize: 256, NumLayers: 4, NumHeads: 4,
	IntermediateSize: 1024, HiddenAct: "gelu", LayerNormEps: 1e-12, MaxPositionEmbeddings: 64, TypeVocabSize: 2}

// massiveOpts are the experiment's settings; FEDB2B_MASSIVE_OPTS
// overrides them as comma-separated key=value pairs, keys intents,
// per_intent (0: all records), rounds, steps, q, head_lr, lora_lr,
// head_rank and arms ("head+lora", "head" or "lora"), e.g.
// "rounds=3,arms=lora,lora_lr=16".
type massiveOpts struct {
	intents, perIntent, rounds, steps int
	q, headLR, loraLR                 float64
	headRank                          int
	arms                              []string
}

func parseMassiveOpts(s string) (massiveOpts, error) {
	o := massiveOpts{intents: 12, rounds: 6, steps: 10, q: 0.1, headLR: 8, loraLR: 8, headRank: 64, arms: []string{"head", "lora"}}
	for kv := range strings.SplitSeq(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, fmt.Errorf("FEDB2B_MASSIVE_OPTS: %q is not key=value", kv)
		}
		var err error
		switch k {
		case "intents":
			o.intents, err = strconv.Atoi(v)
		case "per_intent":
			o.perIntent, err = strconv.Atoi(v)
		case "rounds":
			o.rounds, err = strconv.Atoi(v)
		case "steps":
			o.steps, err = strconv.Atoi(v)
		case "q":
			o.q, err = strconv.ParseFloat(v, 64)
		case "head_lr":
			o.headLR, err = strconv.ParseFloat(v, 64)
		case "lora_lr":
			o.loraLR, err = strconv.ParseFloat(v, 64)
		case "head_rank":
			o.headRank, err = strconv.Atoi(v)
		case "arms":
			o.arms = strings.Split(v, "+")
		default:
			return o, fmt.Errorf("FEDB2B_MASSIVE_OPTS: unknown key %q", k)
		}
		if err != nil {
			return o, fmt.Errorf("FEDB2B_MASSIVE_OPTS: %s: %w", k, err)
		}
	}
	return o, nil
}

// loadMassive reads massive_intent_zh.csv (id,text,label,split; both
// official splits pooled) at path or in the folder path and keeps the n
// most frequent intents (ties by name), at most perIntent records of each
// (0: all; a seeded sample otherwise).
func loadMassive(t *testing.T, path string, n, perIntent int) []dataset.Example {
	t.Helper()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "massive_intent_zh.csv")
	}
	all, _, err := dataset.LoadFile(path, dataset.LoadOptions{TextCol: "text", LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range all {
		count[e.Label]++
	}
	labels := slices.SortedFunc(maps.Keys(count), func(a, b string) int { return cmp.Or(count[b]-count[a], strings.Compare(a, b)) })
	labels = labels[:min(n, len(labels))]
	r := mrand.New(mrand.NewPCG(1, 1))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	kept := map[string]int{}
	for _, l := range labels {
		kept[l] = 0
	}
	var out []dataset.Example
	for _, e := range all {
		if c, ok := kept[e.Label]; ok && (perIntent == 0 || c < perIntent) {
			out = append(out, e)
			kept[e.Label]++
		}
	}
	return out
}

// TestMassiveFederatedExperiment is an experiment behind an assertion, run
// only when FEDB2B_MASSIVE names the massive_intent_zh folder (or its CSV):
//
//	FEDB2B_MASSIVE=/work/shared/data/massive_intent_zh \
//	  go test -run TestMassiveFederatedExperiment -v -timeout 1h ./simulate
//
// MASSIVE zh-CN intents (the 12 most frequent, both official splits
// pooled; CC BY 4.0, FitzGerald et al. 2022), split over 5 tenants by
// simulate's Dirichlet split (α 0.5, 20% of each tenant held out). Two
// federated arms on the same split and the same encoder, both over the
// real coordinator with mutual TLS, SecAgg+ and DP-SGD at record-level
// ε = 8, δ = 1e-5 per tenant: (1) the head-only LoRA classifier over the
// encoder's pooled vectors; (2) LoRA (rank 8) on the query and value
// projections of the top 2 encoder layers with a linear head. Evaluation
// is exact (EvalEpsilon 0: the tenants' confusion statistics summed
// without noise, not charged to ε).
//
// The encoder is a RANDOM BERT-mini-shaped model (4 layers, H = 256) with
// a character vocabulary built from the data: random weights carry no
// language knowledge, so the figures show the mechanics at a realistic
// shape (the federation trains both adapters under DP and secure
// aggregation), not what a pretrained encoder would reach. The test
// asserts that both arms finish every round within the budget and improve
// over their round-1 accuracy; it does not assert which arm wins.
//
// Measured (defaults: 6 rounds × 10 local steps, q 0.1, z 0.889; learning
// rate 8 for both arms, chosen from head {2, 8, 32} at 6 rounds and
// encoder LoRA {2 (2 rounds), 8, 16 (3 rounds)}; 6,963 records, 1,397
// held out; 5m45s on 2 shared cores): head-only accuracy 0.313, macro-F1
// 0.160; encoder LoRA accuracy 0.295, macro-F1 0.182 (the most frequent
// intent is 13.5% of the records). Runs with the same seed are not
// bit-reproducible (cause not investigated): a repeat of the head-only arm
// gave 0.304.
func TestMassiveFederatedExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_MASSIVE")
	if path == "" {
		t.Skip("set FEDB2B_MASSIVE to the massive_intent_zh folder or CSV to run the experiment")
	}
	o, err := parseMassiveOpts(os.Getenv("FEDB2B_MASSIVE_OPTS"))
	if err != nil {
		t.Fatal(err)
	}
	data := loadMassive(t, path, o.intents, o.perIntent)
	texts := make([]string, len(data))
	for i, e := range data {
		texts[i] = e.Text
	}
	enc, err := bert.RandomCharEncoder(massiveBertMini, 3, texts, 64, bert.Options{Pooling: bert.PoolMean, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records, %d intents, %d-token character vocabulary, random %d-layer H=%d encoder; %d rounds × %d steps, q %.2f",
		len(data), o.intents, enc.Tokenizer().VocabSize(), massiveBertMini.NumLayers, massiveBertMini.HiddenSize, o.rounds, o.steps, o.q)
	type arm struct {
		name, adapter    string
		rank, loraLayers int
		lr               float64
	}
	arms := map[string]arm{
		"head": {fmt.Sprintf("head-only LoRA classifier (rank %d), lr %g", o.headRank, o.headLR), modeltask.AdapterHead, o.headRank, 0, o.headLR},
		"lora": {fmt.Sprintf("encoder LoRA top 2 layers (rank 8) + head, lr %g", o.loraLR), modeltask.AdapterEncoderLoRA, 8, 2, o.loraLR},
	}
	var table []string
	for _, key := range o.arms {
		a, ok := arms[key]
		if !ok {
			t.Fatalf("FEDB2B_MASSIVE_OPTS: unknown arm %q (head, lora)", key)
		}
		cfg := Defaults()
		cfg.Data, cfg.Encoder, cfg.Rand = data, enc, privacy.SeededReader(5)
		cfg.Adapter, cfg.Rank, cfg.LoRALayers, cfg.LearningRate = a.adapter, a.rank, a.loraLayers, a.lr
		cfg.Rounds, cfg.LocalSteps, cfg.SampleRate = o.rounds, o.steps, o.q
		cfg.TargetEpsilon, cfg.Delta, cfg.EvalEpsilon = 8, 1e-5, 0
		cfg.Baselines = false
		cfg.RoundTimeout = 20 * time.Minute // round 1 waits for every tenant to run its data through the frozen layers
		start := time.Now()
		last := start
		rep, err := Run(context.Background(), cfg, func(rr RoundReport) {
			t.Logf("%s: round %d: accuracy %.4f, macro-F1 %.4f over %d held-out records, %d participants, round %v",
				key, rr.Round, rr.Accuracy, rr.MacroF1, rr.Examples, rr.Participants, time.Since(last).Round(time.Second))
			last = time.Now()
		})
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		wall := time.Since(start).Round(time.Second)
		maxEps := 0.0
		for _, e := range rep.Epsilon {
			maxEps = max(maxEps, e)
		}
		if len(rep.Rounds) != o.rounds {
			t.Errorf("%s: %d of %d rounds reported", a.name, len(rep.Rounds), o.rounds)
		}
		for _, rr := range rep.Rounds {
			if rr.Abandoned || rr.Participants != cfg.Tenants {
				t.Errorf("%s: round %d abandoned=%v with %d participants (%s)", a.name, rr.Round, rr.Abandoned, rr.Participants, rr.Reason)
			}
		}
		// Exact evaluation (EvalEpsilon 0) releases exact counts: every
		// tenant's record-level ε is ∞, and the report must say so.
		if !math.IsInf(maxEps, 1) {
			t.Errorf("%s: ε = %.4f after exact evaluations, want +Inf", a.name, maxEps)
		}
		if len(rep.Rounds) > 0 && !(rep.Final.Accuracy > rep.Rounds[0].Accuracy) {
			t.Errorf("%s: final accuracy %.4f does not improve over round 1's %.4f", a.name, rep.Final.Accuracy, rep.Rounds[0].Accuracy)
		}
		accs := make([]string, len(rep.Rounds))
		for i, rr := range rep.Rounds {
			accs[i] = fmt.Sprintf("%.3f", rr.Accuracy)
		}
		table = append(table, fmt.Sprintf("| %s | %d | %.4f | %.4f | %s | z %.3f, max ε %.3f | %v |",
			a.name, rep.Config.Labels, rep.Final.Accuracy, rep.Final.MacroF1, strings.Join(accs, " "), rep.Privacy.NoiseMultiplier, maxEps, wall))
	}
	t.Logf("exact evaluation (EvalEpsilon 0); random encoder weights: mechanics, not quality\n| arm | intents | final accuracy | final macro-F1 | accuracy by round | DP-SGD | wall |\n|---|---|---|---|---|---|---|\n%s",
		strings.Join(table, "\n"))
}
