package bert

import (
	"fmt"
	"math/rand/v2"
)

// RandomModel returns a model of shape cfg with weights drawn from a
// seeded N(0, 0.02²), as BERT initialises them (LayerNorm scales 1,
// shifts, biases and embeddings from the same normal). It is for
// benchmarks and mechanics experiments at the shape of a real checkpoint:
// random weights carry no language knowledge, so accuracy measured with
// them says nothing about a pretrained model.
func RandomModel(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bert: random model: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.02)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	lin := func(out, in int) Linear { return Linear{W: vec(out * in), B: vec(out), In: in, Out: out} }
	h := cfg.HiddenSize
	w := &Weights{Word: vec(cfg.VocabSize * h), Position: vec(cfg.MaxPositionEmbeddings * h),
		TokenType: vec(cfg.TypeVocabSize * h), EmbNorm: Norm{ones(h), vec(h)}}
	for range cfg.NumLayers {
		w.Layers = append(w.Layers, Layer{Query: lin(h, h), Key: lin(h, h), Value: lin(h, h), AttnOut: lin(h, h),
			AttnNorm: Norm{ones(h), vec(h)}, Inter: lin(cfg.IntermediateSize, h), Output: lin(h, cfg.IntermediateSize),
			OutNorm: Norm{ones(h), vec(h)}})
	}
	return NewModel(cfg, w)
}
