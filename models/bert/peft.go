package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/fedb2b/fedb2b/models"
)

// PEFT file names.
const (
	PEFTConfigFile  = "adapter_config.json"
	PEFTWeightsFile = "adapter_model.safetensors"
)

// peftConfig is the adapter_config.json that Hugging Face PEFT writes for a
// LoRA adapter on a BertModel.
type peftConfig struct {
	PeftType          string   `json:"peft_type"`
	TaskType          *string  `json:"task_type"`
	BaseModel         string   `json:"base_model_name_or_path"`
	R                 int      `json:"r"`
	LoraAlpha         float64  `json:"lora_alpha"`
	LoraDropout       float64  `json:"lora_dropout"`
	TargetModules     []string `json:"target_modules"`
	LayersToTransform []int    `json:"layers_to_transform"`
	LayersPattern     *string  `json:"layers_pattern"`
	Bias              string   `json:"bias"`
	FanInFanOut       bool     `json:"fan_in_fan_out"`
	InferenceMode     bool     `json:"inference_mode"`
	InitLoraWeights   bool     `json:"init_lora_weights"`
	UseRSLoRA         bool     `json:"use_rslora"`
	UseDoRA           bool     `json:"use_dora"`
	ModulesToSave     []string `json:"modules_to_save"`
	Revision          *string  `json:"revision"`
}

// peftName is the tensor name PEFT saves for a LoRA matrix of a BertModel
// (the adapter name "default" is stripped on save).
func peftName(layer int, target, ab string) string {
	return fmt.Sprintf("base_model.model.encoder.layer.%d.attention.self.%s.lora_%s.weight", layer, target, ab)
}

// WritePEFT exports the adapter in Hugging Face PEFT's format into dir:
// adapter_config.json and adapter_model.safetensors (float32), with
// lora_A [Rank, H] and lora_B [H, Rank] of the query and value projections
// of each adapted layer, so that PeftModel.from_pretrained(AutoModel of the
// same base, dir) loads it. baseModel fills base_model_name_or_path.
// Pooling and normalisation are not part of PEFT's format.
func (l *LoRA) WritePEFT(dir, baseModel string) error {
	h, r := l.m.cfg.HiddenSize, l.cfg.Rank
	cfg := peftConfig{PeftType: "LORA", BaseModel: baseModel, R: r, LoraAlpha: l.cfg.Alpha,
		TargetModules: []string{"query", "value"}, Bias: "none", InferenceMode: true, InitLoraWeights: true}
	ts := map[string]*Tensor{}
	for i := range l.layers {
		layer := l.first + i
		cfg.LayersToTransform = append(cfg.LayersToTransform, layer)
		for _, x := range []struct {
			target string
			a, b   []float64
		}{{"query", l.layers[i].aq, l.bq[i]}, {"value", l.layers[i].av, l.bv[i]}} {
			ts[peftName(layer, x.target, "A")] = &Tensor{Shape: []int{r, h}, Data: f32(x.a)}
			ts[peftName(layer, x.target, "B")] = &Tensor{Shape: []int{h, r}, Data: f32(x.b)}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bert: %w", err)
	}
	cj, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("bert: encoding %s: %w", PEFTConfigFile, err)
	}
	st, err := WriteSafetensors(ts, map[string]string{"format": "pt"})
	if err != nil {
		return fmt.Errorf("bert: %w", err)
	}
	// Weights first, each file written whole (temporary file, fsync,
	// rename): a crash never leaves a config that names missing weights.
	if err := models.WriteFileAtomic(filepath.Join(dir, PEFTWeightsFile), st, 0o600); err != nil {
		return fmt.Errorf("bert: %w", err)
	}
	if err := models.WriteFileAtomic(filepath.Join(dir, PEFTConfigFile), append(cj, '\n'), 0o600); err != nil {
		return fmt.Errorf("bert: %w", err)
	}
	return nil
}

func f32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

// ReadPEFT loads the B matrices of an adapter written by WritePEFT (or by
// PEFT for the same base, rank, layers and seed-derived A). It checks the
// configuration, every name and shape, and that each stored A equals this
// adapter's A in float32: an adapter trained from another seed is refused.
func (l *LoRA) ReadPEFT(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, PEFTConfigFile))
	if err != nil {
		return fmt.Errorf("bert: reading PEFT adapter: %w", err)
	}
	var cfg peftConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("bert: %s: malformed JSON: %w", PEFTConfigFile, err)
	}
	if cfg.PeftType != "LORA" || cfg.R != l.cfg.Rank || cfg.LoraAlpha != l.cfg.Alpha || cfg.UseRSLoRA || cfg.UseDoRA {
		return fmt.Errorf("bert: PEFT adapter is %s r=%d alpha=%g (rslora %t, dora %t), want LORA r=%d alpha=%g",
			cfg.PeftType, cfg.R, cfg.LoraAlpha, cfg.UseRSLoRA, cfg.UseDoRA, l.cfg.Rank, l.cfg.Alpha)
	}
	ts, err := ReadSafetensors(filepath.Join(dir, PEFTWeightsFile))
	if err != nil {
		return err
	}
	h, r := l.m.cfg.HiddenSize, l.cfg.Rank
	want := 4 * len(l.layers)
	if len(ts) != want {
		return fmt.Errorf("bert: PEFT adapter has %d tensors, want %d", len(ts), want)
	}
	newB := make([][]float32, 0, 2*len(l.layers))
	for i := range l.layers {
		layer := l.first + i
		for _, x := range []struct {
			target string
			a      []float64
		}{{"query", l.layers[i].aq}, {"value", l.layers[i].av}} {
			ta, tb := ts[peftName(layer, x.target, "A")], ts[peftName(layer, x.target, "B")]
			if ta == nil || tb == nil {
				return fmt.Errorf("bert: PEFT adapter lacks layer %d %s", layer, x.target)
			}
			if !slices.Equal(ta.Shape, []int{r, h}) || !slices.Equal(tb.Shape, []int{h, r}) {
				return fmt.Errorf("bert: PEFT layer %d %s: shapes %v and %v, want [%d %d] and [%d %d]", layer, x.target, ta.Shape, tb.Shape, r, h, h, r)
			}
			for j, v := range ta.Data {
				if v != float32(x.a[j]) {
					return errors.New("bert: PEFT adapter's lora_A differs from this task's seed-derived A")
				}
			}
			for j, v := range tb.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("bert: PEFT layer %d %s lora_B[%d] is %v", layer, x.target, j, v)
				}
			}
			newB = append(newB, tb.Data)
		}
	}
	for i := range l.layers {
		copy(l.bq[i], f64(newB[2*i]))
		copy(l.bv[i], f64(newB[2*i+1]))
	}
	return nil
}
