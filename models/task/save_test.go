package task

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/intent"
)

// A tenant's linear intent learner saves its head with the task's score
// and no threshold (it does not see the global one); the operator's
// SaveGlobal writes the threshold of the last released evaluation, and
// nothing when that evaluation rejected nothing.
func TestSaveLinearIntentModels(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	train, test := intentFixture()
	spec, initial, err := ClassifySpec(KindIntent, ClassifySetup{ID: "i", Labels: []string{"refund", "track_order"}, Adapter: AdapterLinear}, enc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewIntent(enc, train, test, nil)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	p := append([]float64(nil), initial...)
	for i := range p {
		p[i] = math.Sin(float64(i))
	}
	if err := l.SetParams(p); err != nil {
		t.Fatal(err)
	}
	load := func(path string) *intent.LinearDetector {
		t.Helper()
		data, format, err := models.ReadModelFile(path)
		if err != nil || format != models.LinearFormat {
			t.Fatalf("format %q: %v", format, err)
		}
		h, meta, err := models.UnmarshalLinear(data)
		if err != nil {
			t.Fatal(err)
		}
		d, err := intent.ParseLinearDetector(h, meta)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range h.Params() {
			if v != p[i] {
				t.Fatalf("parameter %d: %v, want %v", i, v, p[i])
			}
		}
		if d.Scorer != DefaultIntentLinearScale().Scorer || len(d.Labels) != 2 || d.Labels[1] != "track_order" || meta[intent.MetaEncoder] != enc.ID() {
			t.Fatalf("detector %+v, metadata %v", d, meta)
		}
		return d
	}
	dir := t.TempDir()
	own := filepath.Join(dir, "own.safetensors")
	if err := l.(Saver).SaveModel(own, spec); err != nil {
		t.Fatal(err)
	}
	if d := load(own); d.Threshold != intent.NoThreshold {
		t.Errorf("a tenant's file has threshold %v", d.Threshold)
	}
	for _, c := range []struct {
		eval map[string]float64
		want float64
	}{
		{map[string]float64{"threshold": 2.4936, "oos_recall": 0.5}, 2.4936},
		{map[string]float64{"threshold": -math.MaxFloat64}, intent.NoThreshold}, // the evaluation rejected nothing
		{nil, intent.NoThreshold},
	} {
		path := filepath.Join(dir, "global.safetensors")
		if err := SaveGlobal(spec, p, c.eval, path); err != nil {
			t.Fatal(err)
		}
		if d := load(path); d.Threshold != c.want {
			t.Errorf("eval %v: threshold %v, want %v", c.eval, d.Threshold, c.want)
		}
	}
	bad := spec
	bad.Options = map[string]string{OptionAdapter: "encoder-lora"}
	if err := SaveGlobal(bad, p, nil, filepath.Join(dir, "x")); err == nil {
		t.Error("an adapter predict cannot apply was saved")
	}
}
