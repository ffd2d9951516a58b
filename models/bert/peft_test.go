package bert

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestPEFTExportFormat(t *testing.T) {
	e := loadTiny(t, Options{})
	l, err := NewLoRA(e.Model(), LoRAConfig{TopLayers: 1, Rank: 4, Alpha: 16, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	p := make([]float64, l.NumParams())
	for i := range p {
		p[i] = rng.NormFloat64()
	}
	l.SetParams(p)
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := l.WritePEFT(dir, "tiny-bert"); err != nil {
		t.Fatal(err)
	}
	// adapter_config.json: the fields PEFT's LoraConfig reads.
	b, _ := os.ReadFile(filepath.Join(dir, PEFTConfigFile))
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"peft_type": "LORA", "r": 4.0, "lora_alpha": 16.0, "bias": "none",
		"fan_in_fan_out": false, "use_rslora": false, "base_model_name_or_path": "tiny-bert"} {
		if cfg[k] != want {
			t.Errorf("%s = %v, want %v", k, cfg[k], want)
		}
	}
	if got, _ := json.Marshal(cfg["target_modules"]); string(got) != `["query","value"]` {
		t.Errorf("target_modules %s", got)
	}
	if got, _ := json.Marshal(cfg["layers_to_transform"]); string(got) != `[1]` {
		t.Errorf("layers_to_transform %s", got)
	}
	// adapter_model.safetensors: PEFT's names for a BertModel, F32, A [r,H], B [H,r].
	raw, _ := os.ReadFile(filepath.Join(dir, PEFTWeightsFile))
	n := binary.LittleEndian.Uint64(raw)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	if string(header["__metadata__"]) != `{"format":"pt"}` {
		t.Errorf("metadata %s", header["__metadata__"])
	}
	re := regexp.MustCompile(`^base_model\.model\.encoder\.layer\.(\d+)\.attention\.self\.(query|value)\.lora_(A|B)\.weight$`)
	var names []string
	for name, msg := range header {
		if name == "__metadata__" {
			continue
		}
		names = append(names, name)
		m := re.FindStringSubmatch(name)
		if m == nil || m[1] != "1" {
			t.Errorf("tensor name %q is not PEFT's", name)
			continue
		}
		var info tensorInfo
		json.Unmarshal(msg, &info)
		want := "[4,32]"
		if m[3] == "B" {
			want = "[32,4]"
		}
		if got, _ := json.Marshal(info.Shape); info.DType != "F32" || string(got) != want {
			t.Errorf("%s: %s %s, want F32 %s", name, info.DType, got, want)
		}
	}
	sort.Strings(names)
	if len(names) != 4 {
		t.Fatalf("tensors %v", names)
	}
	// Round trip: a fresh adapter with the same seed reads B back.
	l2, _ := NewLoRA(e.Model(), LoRAConfig{TopLayers: 1, Rank: 4, Alpha: 16, Seed: 9})
	if err := l2.ReadPEFT(dir); err != nil {
		t.Fatal(err)
	}
	for i, v := range l2.Params() {
		if v != float64(float32(p[i])) {
			t.Fatalf("parameter %d: %g, want %g", i, v, float32(p[i]))
		}
	}
	// Another seed, rank or layer count is refused.
	for _, c := range []LoRAConfig{{TopLayers: 1, Rank: 4, Alpha: 16, Seed: 10}, {TopLayers: 1, Rank: 2, Alpha: 16, Seed: 9},
		{TopLayers: 2, Rank: 4, Alpha: 16, Seed: 9}} {
		l3, _ := NewLoRA(e.Model(), c)
		if err := l3.ReadPEFT(dir); err == nil {
			t.Errorf("%+v: foreign adapter accepted", c)
		}
	}
	if err := l2.ReadPEFT(t.TempDir()); err == nil || !strings.Contains(err.Error(), PEFTConfigFile) {
		t.Errorf("missing adapter: %v", err)
	}
}
