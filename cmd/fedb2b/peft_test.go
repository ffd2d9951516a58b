package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// demo --adapter encoder-lora trains LoRA inside the tiny BERT over the
// coordinator and writes the federated adapter in PEFT format.
func TestDemoEncoderLoRAWritesPEFT(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := filepath.Join(t.TempDir(), "peft")
	var o, e bytes.Buffer
	code := run([]string{"demo", "--encoder", "bert:../../models/bert/testdata/tiny-bert", "--adapter", "encoder-lora",
		"--lora-layers", "1", "--rank", "4", "--rounds", "2", "--records", "300", "--peft-out", dir}, &o, &e)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, e.String(), o.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		PeftType string   `json:"peft_type"`
		R        int      `json:"r"`
		Targets  []string `json:"target_modules"`
		Layers   []int    `json:"layers_to_transform"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.PeftType != "LORA" || cfg.R != 4 || len(cfg.Targets) != 2 || len(cfg.Layers) != 1 || cfg.Layers[0] != 1 {
		t.Fatalf("adapter config %s", b)
	}
	if st, err := os.Stat(filepath.Join(dir, "adapter_model.safetensors")); err != nil || st.Size() == 0 {
		t.Fatalf("weights: %v", err)
	}
}
