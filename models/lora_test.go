package models

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

type loraRef struct {
	N, Din, Dout, R int
	Alpha           float64
	ClipNorm        float64     `json:"clip_norm"`
	X               [][]float64 `json:"x"`
	Y               []int       `json:"y"`
	W0              [][]float64 `json:"W0"`
	B0              []float64   `json:"b0"`
	A               [][]float64 `json:"A"`
	B               [][]float64 `json:"B"`
	HB              []float64   `json:"hb"`
	Logits          [][]float64 `json:"logits"`
	Losses          []float64   `json:"losses"`
	Grads           [][]float64 `json:"per_example_grads"`
	Norms           []float64   `json:"per_example_norms"`
	Factors         []float64   `json:"clip_factors"`
	ClippedMean     []float64   `json:"clipped_mean_grad"`
}

func loadLoRARef(t *testing.T) *loraRef {
	t.Helper()
	data, err := os.ReadFile("testdata/lora/lora-per-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref loraRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if ref.N != len(ref.X) || ref.Din != 16 || ref.R != 4 || ref.Dout != 5 {
		t.Fatalf("unexpected reference shape %+v", ref)
	}
	return &ref
}

func flat(m [][]float64) []float64 {
	var out []float64
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

func refClassifier(t *testing.T, ref *loraRef, trainA bool) *Classifier {
	t.Helper()
	c, err := NewClassifier(ClassifierConfig{InputDim: ref.Din, Rank: ref.R, Classes: ref.Dout, Alpha: ref.Alpha, TrainA: trainA})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]float64{
		TensorW0: flat(ref.W0), TensorB0: ref.B0, TensorLoRAA: flat(ref.A), TensorLoRAB: flat(ref.B), TensorHeadBias: ref.HB,
	} {
		if err := c.SetTensor(name, v); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// closeRel reports |a-b| <= tol·max(|b|, 1e-3) (relative, with a floor for
// entries near zero).
func closeRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(b), 1e-3)
}

func checkVec(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !closeRel(got[i], want[i], tol) {
			t.Fatalf("%s[%d] = %.17g, want %.17g", what, i, got[i], want[i])
		}
	}
}

// TestLoRAReferenceTrainA checks logits, losses, per-example gradients,
// norms, clip factors and the clipped mean against the torch reference.
func TestLoRAReferenceTrainA(t *testing.T) {
	ref := loadLoRARef(t)
	c := refClassifier(t, ref, true)
	const tol = 1e-10
	feats, err := c.Project(ref.X)
	if err != nil {
		t.Fatal(err)
	}
	z, u := make([]float64, ref.Dout), make([]float64, ref.R)
	g := make([]float64, c.NumParams())
	if c.NumParams() != len(ref.Grads[0]) {
		t.Fatalf("NumParams %d, reference %d", c.NumParams(), len(ref.Grads[0]))
	}
	tr := newTrainer(c)
	for i := range feats {
		c.logits(z, feats[i], u)
		checkVec(t, "logits", z, ref.Logits[i], tol)
		loss, err := c.PerExampleGradient(g, feats[i], ref.Y[i])
		if err != nil {
			t.Fatal(err)
		}
		if !closeRel(loss, ref.Losses[i], tol) {
			t.Fatalf("loss %d = %v, want %v", i, loss, ref.Losses[i])
		}
		checkVec(t, "grad", g, ref.Grads[i], tol)
		if n := math.Sqrt(sumSq(g)); !closeRel(n, ref.Norms[i], tol) {
			t.Fatalf("norm %d = %v, want %v", i, n, ref.Norms[i])
		}
		// Fused path on a batch of one: sum = factor·g.
		tr.accumulate(feats, ref.Y, []int{i}, ref.ClipNorm)
		scaled := make([]float64, len(g))
		for j := range g {
			scaled[j] = ref.Factors[i] * ref.Grads[i][j]
		}
		checkVec(t, "factor*grad", tr.sum, scaled, tol)
		// Unclipped fused path reproduces the gradient itself.
		tr.accumulate(feats, ref.Y, []int{i}, 0)
		checkVec(t, "fused grad", tr.sum, ref.Grads[i], tol)
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	_, clipped := tr.accumulate(feats, ref.Y, all, ref.ClipNorm)
	mean := make([]float64, len(tr.sum))
	for j := range mean {
		mean[j] = tr.sum[j] / float64(ref.N)
	}
	checkVec(t, "clipped mean", mean, ref.ClippedMean, tol)
	if clipped != ref.N { // every reference norm exceeds 0.5
		t.Fatalf("clipped %d, want %d", clipped, ref.N)
	}
}

// TestLoRAReferenceFrozenA checks the frozen-A path, which trains on cached
// projections [x·Aᵀ, x·W0ᵀ], against the B and hb parts of the reference.
func TestLoRAReferenceFrozenA(t *testing.T) {
	ref := loadLoRARef(t)
	c := refClassifier(t, ref, false)
	const tol = 1e-10
	if !c.HasBase() || c.FeatureDim() != ref.R+ref.Dout {
		t.Fatalf("feature dim %d", c.FeatureDim())
	}
	feats, err := c.Project(ref.X)
	if err != nil {
		t.Fatal(err)
	}
	off := ref.R * ref.Din
	g := make([]float64, c.NumParams())
	tr := newTrainer(c)
	for i := range feats {
		if _, err := c.PerExampleGradient(g, feats[i], ref.Y[i]); err != nil {
			t.Fatal(err)
		}
		checkVec(t, "grad B,hb", g, ref.Grads[i][off:], tol)
		want := math.Sqrt(sumSq(ref.Grads[i][off:]))
		factor := math.Min(1, ref.ClipNorm/(want+1e-12))
		tr.accumulate(feats, ref.Y, []int{i}, ref.ClipNorm)
		for j := range g {
			if !closeRel(tr.sum[j], factor*ref.Grads[i][off+j], tol) {
				t.Fatalf("example %d clipped grad %d = %v, want %v", i, j, tr.sum[j], factor*ref.Grads[i][off+j])
			}
		}
	}
	pred, err := c.Predict(feats)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pred {
		if p != argmax(ref.Logits[i]) {
			t.Fatalf("prediction %d = %d, want %d", i, p, argmax(ref.Logits[i]))
		}
	}
}
