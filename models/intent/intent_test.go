package intent

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/fedb2b/fedb2b/models"
)

func TestMaxProbAndQuantile(t *testing.T) {
	conf, pred := MaxProb([][]float64{{0.2, 0.8}, {0.6, 0.4}, {0.5, 0.5}})
	if pred[0] != 1 || pred[1] != 0 || pred[2] != 0 || conf[0] != 0.8 || conf[2] != 0.5 {
		t.Fatalf("MaxProb %v %v", conf, pred)
	}
	c := []float64{0.9, 0.3, 0.7, 0.5, 0.95, 0.6, 0.8, 0.4, 0.85, 0.99}
	// Sorted: 0.3 0.4 0.5 … ; reject 20% of 10 → the 2nd-smallest-index
	// value s[2] = 0.5 rejects 0.3 and 0.4.
	tau, err := CalibrateQuantile(c, 0.2)
	if err != nil || tau != 0.5 {
		t.Fatalf("τ = %v (%v), want 0.5", tau, err)
	}
	if c[0] != 0.9 {
		t.Fatal("CalibrateQuantile modified its input")
	}
	if tau, _ := CalibrateQuantile(c, 0.05); tau != 0 {
		t.Fatalf("reject 5%% of 10 → nothing, got τ = %v", tau)
	}
	if _, err := CalibrateQuantile(nil, 0.1); err == nil {
		t.Fatal("empty validation accepted")
	}
	if _, err := CalibrateQuantile(c, 1); err == nil {
		t.Fatal("reject rate 1 accepted")
	}
}

func TestCalibrateJointHandComputed(t *testing.T) {
	// In-scope: confidences 0.9 (correct), 0.8 (correct), 0.6 (wrong),
	// 0.5 (correct). OOS: 0.7, 0.4.
	// τ=0:   acc 3/4, oos 0/2 → 0.375
	// τ=0.5: acc 3/4, oos 1/2 → 0.625
	// τ=0.6: acc 2/4, oos 1/2 → 0.5
	// τ=0.7: acc 2/4, oos 1/2 → 0.5
	// τ=0.8: acc 2/4, oos 2/2 → 0.75  ← best
	// τ=0.9: acc 1/4, oos 2/2 → 0.625
	tau, err := CalibrateJoint([]float64{0.9, 0.8, 0.6, 0.5}, []bool{true, true, false, true}, []float64{0.7, 0.4})
	if err != nil || tau != 0.8 {
		t.Fatalf("τ = %v (%v), want 0.8", tau, err)
	}
	if _, err := CalibrateJoint([]float64{0.5}, []bool{true}, nil); err == nil {
		t.Fatal("joint calibration without OOS accepted")
	}
}

func TestMetricsHandComputed(t *testing.T) {
	var m Metrics
	m.AddInScope(true, true)
	m.AddInScope(false, true)
	m.AddInScope(false, false)
	m.AddInScope(true, true)
	m.AddOOS(true)
	m.AddOOS(false)
	m.AddOOS(true)
	if m.InScopeAccuracy() != 0.5 || math.Abs(m.OOSRecall()-2.0/3) > 1e-15 || m.FalseRejectRate() != 0.25 {
		t.Fatalf("metrics %+v: %v", m, m.Map())
	}
	var a Metrics
	a.Merge(m)
	a.Merge(m)
	if a.InScope != 8 || a.OOSDetected != 4 || a.InScopeAccuracy() != 0.5 {
		t.Fatalf("merged %+v", a)
	}
	var none Metrics
	if _, ok := none.Map()["oos_recall"]; ok || !math.IsNaN(none.OOSRecall()) {
		t.Fatal("OOS recall must be absent/NaN without OOS messages")
	}
}

func TestSaveAndParseMetadata(t *testing.T) {
	clf, _ := models.NewClassifier(models.ClassifierConfig{InputDim: 8, Rank: 2, Classes: 2, Seed: 1})
	d := &Detector{Classifier: clf, Labels: []string{"a", "b"}, Threshold: 0.4}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := d.Save(path, "enc-id"); err != nil {
		t.Fatal(err)
	}
	_, meta, err := models.LoadClassifier(path)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := ParseLabels(meta, 2)
	if err != nil || labels[1] != "b" || meta[MetaEncoder] != "enc-id" {
		t.Fatalf("labels %v meta %v (%v)", labels, meta, err)
	}
	if th, err := ParseThreshold(meta); err != nil || th != 0.4 {
		t.Fatalf("threshold %v (%v)", th, err)
	}
	for _, bad := range []map[string]string{{MetaLabels: "[\"a\"]"}, {MetaLabels: "[\"a\",\"a\"]"}, {MetaLabels: "a,b"}} {
		if _, err := ParseLabels(bad, 2); err == nil {
			t.Errorf("labels %v accepted", bad)
		}
	}
	if _, err := ParseThreshold(map[string]string{MetaThreshold: "1.5"}); err == nil {
		t.Error("threshold 1.5 accepted")
	}
	if l, _ := ParseLabels(nil, 3); l[2] != "2" {
		t.Errorf("default labels %v", l)
	}
}

// A saved intent detector whose labels end with OOSLabel scores and
// labels by the in-scope logits after the round trip; labels that put
// OOSLabel elsewhere are refused; a classifier's "oos" (red team F2) is
// an ordinary label that can be predicted.
func TestLinearDetectorWithTrainedOOSClass(t *testing.T) {
	h, err := models.NewLinearHead(models.LinearConfig{InputDim: 2, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	// W is feature-major (classes per feature), then the biases: feature
	// 0 → class a, feature 1 → the oos class, most of all.
	if err := h.SetParams([]float64{2, 0, 0, 0, 1, 5, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "d.safetensors")
	d := &LinearDetector{Head: h, Labels: []string{"a", "b", OOSLabel}, Scorer: Scorer{Kind: ScoreMaxLogit, InScopeClasses: 2}, Threshold: 0.5}
	if err := d.Save(path, "hash:2"); err != nil {
		t.Fatal(err)
	}
	data, _, err := models.ReadModelFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h2, meta, err := models.UnmarshalLinear(data)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := ParseLinearDetector(h2, meta)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Scorer.InScopeClasses != 2 {
		t.Fatalf("parsed scorer %+v, want 2 in-scope classes", d2.Scorer)
	}
	rows := []models.SparseRow{{Idx: []int32{0}, Val: []float64{1}}, {Idx: []int32{1}, Val: []float64{1}}}
	for _, det := range []*LinearDetector{d, d2} {
		lab, sc, err := det.Classify(rows)
		if err != nil {
			t.Fatal(err)
		}
		// Row 0: in-scope max logit 2 → "a". Row 1: in-scope logits
		// (0, 1) → max 1 ≥ 0.5 → "b", not the class's 5.
		if lab[0] != "a" || lab[1] != "b" || sc[0] != 2 || sc[1] != 1 {
			t.Errorf("labels %q scores %v, want [a b] [2 1]", lab, sc)
		}
	}
	d.Labels = []string{OOSLabel, "a", "b"}
	if _, _, err := d.Classify(rows); err == nil {
		t.Error("a misplaced oos label was accepted")
	}
	cls, err := ParseLinearDetector(h2, map[string]string{MetaTask: "classify", MetaLabels: `["a","b","oos"]`})
	if err != nil {
		t.Fatal(err)
	}
	if lab, _, err := cls.Classify(rows); err != nil || cls.Scorer.InScopeClasses != 0 || lab[1] != OOSLabel {
		t.Errorf("classifier with an \"oos\" label: %q, %v, scorer %+v; want row 1 labelled oos", lab, err, cls.Scorer)
	}
}
