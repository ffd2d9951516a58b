package bert

import (
	"encoding/json"
	"fmt"
	"os"
)

// Config is the part of a Hugging Face config.json that the forward pass
// needs.
type Config struct {
	ModelType             string  `json:"model_type"`
	HiddenSize            int     `json:"hidden_size"`
	NumLayers             int     `json:"num_hidden_layers"`
	NumHeads              int     `json:"num_attention_heads"`
	IntermediateSize      int     `json:"intermediate_size"`
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	TypeVocabSize         int     `json:"type_vocab_size"`
	VocabSize             int     `json:"vocab_size"`
	PadTokenID            int     `json:"pad_token_id"`
}

// supportedTypes are the model_type values whose checkpoints have the
// plain BERT layout (absolute positions starting at 0, post-LayerNorm).
var supportedTypes = map[string]bool{"bert": true}

// maxDim bounds every size in a config so that a hostile config cannot ask
// for an absurd allocation.
const maxDim = 1 << 20

// ReadConfig reads and validates config.json at path.
func ReadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("bert: reading config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("bert: %s: malformed JSON: %w", path, err)
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-12
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu"
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("bert: %s: %w", path, err)
	}
	return c, nil
}

// Validate checks that the configuration describes a supported BERT-like
// model with consistent sizes.
func (c Config) Validate() error {
	if !supportedTypes[c.ModelType] {
		return fmt.Errorf("unsupported architecture: model_type %q (supported: bert)", c.ModelType)
	}
	switch c.HiddenAct {
	case "gelu", "gelu_new", "gelu_pytorch_tanh":
	default:
		return fmt.Errorf("unsupported hidden_act %q (supported: gelu, gelu_new, gelu_pytorch_tanh)", c.HiddenAct)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings}, {"type_vocab_size", c.TypeVocabSize},
		{"vocab_size", c.VocabSize},
	} {
		if f.v <= 0 || f.v > maxDim {
			return fmt.Errorf("%s = %d out of range (1..%d)", f.name, f.v, maxDim)
		}
	}
	if c.HiddenSize%c.NumHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumHeads)
	}
	if c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize {
		return fmt.Errorf("pad_token_id %d outside the vocabulary (size %d)", c.PadTokenID, c.VocabSize)
	}
	if c.LayerNormEps <= 0 || c.LayerNormEps > 1 {
		return fmt.Errorf("layer_norm_eps %g out of range", c.LayerNormEps)
	}
	return nil
}
