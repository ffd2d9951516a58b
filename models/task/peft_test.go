package task

import (
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
)

// The federated parameters' encoder adapters round-trip through the PEFT
// files: a fresh adapter reading them holds the same B matrices (to
// float32), and the head is left out.
func TestExportPEFTRoundTrip(t *testing.T) {
	enc := loadTinyBERT(t, bert.Options{Pooling: bert.PoolMean})
	spec := toySpec(enc, "2", "4")
	c, err := ParseEncoderLoRA(spec, enc.Model().Config())
	if err != nil {
		t.Fatal(err)
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	params := make([]float64, c.NumParams(enc.Model().Config()))
	for i := range params {
		params[i] = r.NormFloat64()
	}
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := ExportPEFT(spec, enc, params, dir, "tiny-bert"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{bert.PEFTConfigFile, bert.PEFTWeightsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	lora, err := bert.NewLoRA(enc.Model(), bert.LoRAConfig{TopLayers: 2, Rank: 4, Alpha: spec.Alpha, Seed: spec.Seed, Pooling: bert.PoolMean})
	if err != nil {
		t.Fatal(err)
	}
	if err := lora.ReadPEFT(dir); err != nil {
		t.Fatal(err)
	}
	got := lora.Params()
	for i, v := range got {
		if math.Abs(v-params[i]) > 1e-6*math.Max(1, math.Abs(params[i])) {
			t.Fatalf("parameter %d: %v after the round trip, %v before", i, v, params[i])
		}
	}
	if len(got) >= len(params) {
		t.Fatalf("the adapter holds %d parameters, the task %d: the head should not be in PEFT", len(got), len(params))
	}
	hashing, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 32})
	if err := ExportPEFT(spec, hashing, params, dir, "x"); err == nil || !strings.Contains(err.Error(), "needs the bert: encoder") {
		t.Fatalf("hashing encoder: %v", err)
	}
	if err := ExportPEFT(spec, enc, params[:10], dir, "x"); err == nil || !strings.Contains(err.Error(), "10 parameters") {
		t.Fatalf("short parameters: %v", err)
	}
}
