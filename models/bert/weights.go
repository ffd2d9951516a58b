package bert

import (
	"fmt"
	"slices"
	"strings"
)

// Linear is a dense layer y = x Wᵀ + b with W stored [out][in] row-major,
// as PyTorch's nn.Linear stores it.
type Linear struct {
	W       []float32
	B       []float32
	In, Out int
}

// Norm is a LayerNorm's scale and shift.
type Norm struct {
	Gamma, Beta []float32
}

// Layer is one transformer block (post-LayerNorm, as in BERT).
type Layer struct {
	Query, Key, Value, AttnOut Linear
	AttnNorm                   Norm
	Inter, Output              Linear
	OutNorm                    Norm
}

// Weights holds every parameter of a BERT encoder in float32.
type Weights struct {
	Word, Position, TokenType []float32 // [vocab][H], [maxPos][H], [types][H]
	EmbNorm                   Norm
	Layers                    []Layer
	Pooler                    *Linear // nil when the checkpoint has none
}

// tensorSet looks tensors up by their BertModel name, with or without a
// "bert." prefix, and checks shapes.
type tensorSet struct {
	ts     map[string]*Tensor
	prefix string
}

func newTensorSet(ts map[string]*Tensor) tensorSet {
	if _, ok := ts["embeddings.word_embeddings.weight"]; !ok {
		if _, ok := ts["bert.embeddings.word_embeddings.weight"]; ok {
			return tensorSet{ts, "bert."}
		}
	}
	return tensorSet{ts, ""}
}

func (s tensorSet) get(name string, shape ...int) ([]float32, error) {
	t, ok := s.ts[s.prefix+name]
	if !ok {
		// Old TensorFlow-converted checkpoints name LayerNorm parameters gamma/beta.
		alt := strings.NewReplacer("LayerNorm.weight", "LayerNorm.gamma", "LayerNorm.bias", "LayerNorm.beta").Replace(name)
		if t, ok = s.ts[s.prefix+alt]; !ok {
			return nil, fmt.Errorf("missing tensor %q", s.prefix+name)
		}
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("tensor %q has shape %v, want %v", s.prefix+name, t.Shape, shape)
	}
	return t.Data, nil
}

func (s tensorSet) linear(name string, out, in int) (Linear, error) {
	w, err := s.get(name+".weight", out, in)
	if err != nil {
		return Linear{}, err
	}
	b, err := s.get(name+".bias", out)
	if err != nil {
		return Linear{}, err
	}
	return Linear{W: w, B: b, In: in, Out: out}, nil
}

func (s tensorSet) norm(name string, h int) (Norm, error) {
	g, err := s.get(name+".weight", h)
	if err != nil {
		return Norm{}, err
	}
	b, err := s.get(name+".bias", h)
	if err != nil {
		return Norm{}, err
	}
	return Norm{Gamma: g, Beta: b}, nil
}

// WeightsFromTensors picks the BertModel parameters out of tensors and
// checks every shape against cfg.
func WeightsFromTensors(cfg Config, ts map[string]*Tensor) (*Weights, error) {
	s := newTensorSet(ts)
	h, in := cfg.HiddenSize, cfg.IntermediateSize
	w := &Weights{}
	var err error
	if w.Word, err = s.get("embeddings.word_embeddings.weight", cfg.VocabSize, h); err != nil {
		return nil, err
	}
	if w.Position, err = s.get("embeddings.position_embeddings.weight", cfg.MaxPositionEmbeddings, h); err != nil {
		return nil, err
	}
	if w.TokenType, err = s.get("embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, h); err != nil {
		return nil, err
	}
	if w.EmbNorm, err = s.norm("embeddings.LayerNorm", h); err != nil {
		return nil, err
	}
	w.Layers = make([]Layer, cfg.NumLayers)
	for i := range w.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		l := &w.Layers[i]
		for _, f := range []struct {
			dst     *Linear
			name    string
			out, in int
		}{
			{&l.Query, "attention.self.query", h, h}, {&l.Key, "attention.self.key", h, h},
			{&l.Value, "attention.self.value", h, h}, {&l.AttnOut, "attention.output.dense", h, h},
			{&l.Inter, "intermediate.dense", in, h}, {&l.Output, "output.dense", h, in},
		} {
			if *f.dst, err = s.linear(p+f.name, f.out, f.in); err != nil {
				return nil, err
			}
		}
		if l.AttnNorm, err = s.norm(p+"attention.output.LayerNorm", h); err != nil {
			return nil, err
		}
		if l.OutNorm, err = s.norm(p+"output.LayerNorm", h); err != nil {
			return nil, err
		}
	}
	if _, ok := ts[s.prefix+"pooler.dense.weight"]; ok {
		pl, err := s.linear("pooler.dense", h, h)
		if err != nil {
			return nil, err
		}
		w.Pooler = &pl
	}
	return w, nil
}
