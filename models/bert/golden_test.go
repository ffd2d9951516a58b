package bert

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

const tinyDir = "testdata/tiny-bert"

type golden struct {
	Sentences       []string        `json:"sentences"`
	Tokens          [][]string      `json:"tokens"`
	InputIDs        [][]int         `json:"input_ids"`
	AttentionMask   [][]int         `json:"attention_mask"`
	LastHiddenState [][][]float64   `json:"last_hidden_state"`
	MeanPooled      [][]float64     `json:"mean_pooled"`
	CLSNormalized   [][]float64     `json:"cls_normalized"`
	PoolerOutput    [][]float64     `json:"pooler_output"`
	Extra           json.RawMessage `json:"generator"`
}

func readGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tinyDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Sentences) == 0 || len(g.Sentences) != len(g.InputIDs) {
		t.Fatalf("golden.json: %d sentences, %d id rows", len(g.Sentences), len(g.InputIDs))
	}
	return g
}

func loadTiny(t *testing.T, opt Options) *Encoder {
	t.Helper()
	e, err := Load(tinyDir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// realIDs strips the padding of a golden row using its attention mask.
func realIDs(g golden, i int) []int {
	n := 0
	for _, m := range g.AttentionMask[i] {
		n += m
	}
	return g.InputIDs[i][:n]
}

func TestGoldenTokens(t *testing.T) {
	g := readGolden(t)
	e := loadTiny(t, Options{})
	for i, s := range g.Sentences {
		want := realIDs(g, i)
		got := e.Tokenizer().Encode(s)
		if len(got) != len(want) {
			t.Fatalf("sentence %d %q: %d ids %v, want %d %v", i, s, len(got), got, len(want), want)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("sentence %d %q: id %d = %d, want %d (tokens %v, want %v)", i, s, j, got[j], want[j],
					e.Tokenizer().Tokenize(s), g.Tokens[i])
			}
		}
	}
}

func TestGoldenHiddenAndPooled(t *testing.T) {
	g := readGolden(t)
	e := loadTiny(t, Options{})
	ids := make([][]int, len(g.Sentences))
	for i := range ids {
		ids[i] = realIDs(g, i)
	}
	hidden, T, err := e.Model().Forward(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if T != len(g.InputIDs[0]) {
		t.Fatalf("padded length %d, want %d", T, len(g.InputIDs[0]))
	}
	h := e.Dim()
	var worst float64
	for b := range g.LastHiddenState {
		for tt := range g.LastHiddenState[b] {
			for j, want := range g.LastHiddenState[b][tt] {
				d := math.Abs(float64(hidden[(b*T+tt)*h+j]) - want)
				worst = max(worst, d)
				if d > 1e-4 {
					t.Fatalf("last_hidden_state[%d][%d][%d] = %g, want %g", b, tt, j, hidden[(b*T+tt)*h+j], want)
				}
			}
		}
	}
	t.Logf("last_hidden_state: worst abs error %.3g (padding positions included)", worst)
	pooled := e.Model().Pooler(hidden, len(ids), T)
	worst = 0
	for b := range g.PoolerOutput {
		for j, want := range g.PoolerOutput[b] {
			worst = max(worst, math.Abs(pooled[b][j]-want))
		}
	}
	if worst > 1e-4 {
		t.Fatalf("pooler_output: worst abs error %g", worst)
	}

	check := func(name string, opt Options, want [][]float64) {
		t.Helper()
		vecs, err := loadTiny(t, opt).Encode(context.Background(), g.Sentences)
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for i := range want {
			for j := range want[i] {
				worst = max(worst, math.Abs(vecs[i][j]-want[i][j]))
			}
		}
		if worst > 1e-4 {
			t.Fatalf("%s: worst abs error %g > 1e-4", name, worst)
		}
		t.Logf("%s: worst abs error %.3g", name, worst)
	}
	check("mean_pooled", Options{Pooling: PoolMean}, g.MeanPooled)
	check("cls_normalized", Options{Pooling: PoolCLS, Normalize: true}, g.CLSNormalized)
	check("cls_normalized batch 3", Options{Pooling: PoolCLS, Normalize: true, BatchSize: 3}, g.CLSNormalized)
}
