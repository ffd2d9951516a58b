package bert

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
)

// loraADomain separates the derivation of the LoRA A matrices from every
// other use of a task seed.
const loraADomain = "fedb2b/models/bert/lora_A/v1"

// LoRAConfig describes LoRA adapters on the query and value projections of
// the top layers of a BERT encoder.
type LoRAConfig struct {
	// TopLayers is the number of adapted layers, counted from the top.
	TopLayers int
	// Rank is the LoRA rank r.
	Rank int
	// Alpha is the scaling numerator: ΔW = (Alpha/Rank)·B·A. Zero means
	// Alpha = Rank.
	Alpha float64
	// Seed derives every A (Rank×H, frozen): all clients of a task get the
	// bit-identical A, so averaging the trained B averages ΔW exactly.
	Seed uint64
	// Pooling and Normalize turn the last hidden state into the vector the
	// head sees, as in Options.
	Pooling   Pooling
	Normalize bool
}

// layer64 is a float64 copy of an adapted layer's frozen weights (the
// matrices also keep the model's float32 copy for mixed precision).
type layer64 struct {
	wq, wk, wv, wao, wi, wo frozen
	bq, bk, bv, bao, bi, bo []float64
	g1, be1, g2, be2        []float64
	aq, av                  []float64 // Rank×H, frozen
}

// LoRA holds the adapters of one encoder. Only the B matrices (H×Rank,
// zero at start) train; A is derived from the seed. The trainable
// parameters, flattened, are [Bq, Bv] of each adapted layer from the lowest
// up, row-major. A LoRA is not safe for concurrent mutation; concurrent
// Forward and Backward calls are safe.
type LoRA struct {
	cfg    LoRAConfig
	m      *Model
	first  int
	scale  float64
	layers []layer64
	bq, bv [][]float64
}

// NewLoRA attaches adapters to the top cfg.TopLayers layers of m.
func NewLoRA(m *Model, cfg LoRAConfig) (*LoRA, error) {
	n, h := m.cfg.NumLayers, m.cfg.HiddenSize
	if cfg.TopLayers < 1 || cfg.TopLayers > n {
		return nil, fmt.Errorf("bert: LoRA top layers %d out of range [1, %d]", cfg.TopLayers, n)
	}
	if cfg.Rank < 1 || cfg.Rank > h {
		return nil, fmt.Errorf("bert: LoRA rank %d out of range [1, %d]", cfg.Rank, h)
	}
	if cfg.Alpha < 0 || math.IsNaN(cfg.Alpha) || math.IsInf(cfg.Alpha, 0) {
		return nil, fmt.Errorf("bert: LoRA alpha %v must be finite and non-negative", cfg.Alpha)
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = float64(cfg.Rank)
	}
	if cfg.Pooling == "" {
		cfg.Pooling = PoolMean
	}
	if _, err := ParsePooling(string(cfg.Pooling)); err != nil {
		return nil, err
	}
	l := &LoRA{cfg: cfg, m: m, first: n - cfg.TopLayers, scale: cfg.Alpha / float64(cfg.Rank)}
	var key [32]byte
	hs := sha256.New()
	hs.Write([]byte(loraADomain))
	binary.Write(hs, binary.LittleEndian, cfg.Seed)
	hs.Sum(key[:0])
	rng := rand.New(rand.NewChaCha8(key))
	bound := 1 / math.Sqrt(float64(h)) // PEFT's kaiming_uniform(a=√5) bound for A
	uniform := func(k int) []float64 {
		v := make([]float64, k)
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * bound
		}
		return v
	}
	for li := l.first; li < n; li++ {
		w := &m.w.Layers[li]
		l.layers = append(l.layers, layer64{
			wq: frozenOf(w.Query), bq: f64(w.Query.B), wk: frozenOf(w.Key), bk: f64(w.Key.B),
			wv: frozenOf(w.Value), bv: f64(w.Value.B), wao: frozenOf(w.AttnOut), bao: f64(w.AttnOut.B),
			g1: f64(w.AttnNorm.Gamma), be1: f64(w.AttnNorm.Beta), wi: frozenOf(w.Inter), bi: f64(w.Inter.B),
			wo: frozenOf(w.Output), bo: f64(w.Output.B), g2: f64(w.OutNorm.Gamma), be2: f64(w.OutNorm.Beta),
			aq: uniform(cfg.Rank * h), av: uniform(cfg.Rank * h),
		})
		l.bq = append(l.bq, make([]float64, h*cfg.Rank))
		l.bv = append(l.bv, make([]float64, h*cfg.Rank))
	}
	return l, nil
}

func frozenOf(w Linear) frozen {
	f := frozen{w64: f64(w.W), w32: w.W, out: w.Out, in: w.In}
	if haveKernel {
		f.t32 = make([]float32, len(w.W))
		for o := range w.Out {
			for i := range w.In {
				f.t32[i*w.Out+o] = w.W[o*w.In+i]
			}
		}
	}
	return f
}

func f64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// Config returns the adapter configuration (defaults filled in).
func (l *LoRA) Config() LoRAConfig { return l.cfg }

// FirstLayer is the index of the lowest adapted layer: the input of Forward
// is Model.HiddenBefore(..., FirstLayer()).
func (l *LoRA) FirstLayer() int { return l.first }

// Scale is Alpha/Rank.
func (l *LoRA) Scale() float64 { return l.scale }

// NumParams is the number of trainable parameters, 2·TopLayers·H·Rank.
func (l *LoRA) NumParams() int { return 2 * len(l.layers) * l.m.cfg.HiddenSize * l.cfg.Rank }

// Params returns a copy of the trainable parameters, flattened.
func (l *LoRA) Params() []float64 {
	out := make([]float64, 0, l.NumParams())
	for i := range l.layers {
		out = append(append(out, l.bq[i]...), l.bv[i]...)
	}
	return out
}

// SetParams replaces the trainable parameters; p must have NumParams finite
// values.
func (l *LoRA) SetParams(p []float64) error {
	if len(p) != l.NumParams() {
		return fmt.Errorf("bert: %d LoRA parameters, want %d", len(p), l.NumParams())
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("bert: LoRA parameter %d is %v", i, v)
		}
	}
	k := len(l.bq[0])
	for i := range l.layers {
		copy(l.bq[i], p[2*i*k:])
		copy(l.bv[i], p[(2*i+1)*k:])
	}
	return nil
}

// DeltaW returns the update (Alpha/Rank)·B·A (H×H, row-major, in
// nn.Linear's [out][in] layout) that the adapter adds to the query
// (target "query") or value ("value") weight of layer (absolute index).
func (l *LoRA) DeltaW(layer int, target string) ([]float64, error) {
	i := layer - l.first
	if i < 0 || i >= len(l.layers) {
		return nil, fmt.Errorf("bert: layer %d is not adapted (adapted: %d..%d)", layer, l.first, l.m.cfg.NumLayers-1)
	}
	b, a := l.bq[i], l.layers[i].aq
	switch target {
	case "query":
	case "value":
		b, a = l.bv[i], l.layers[i].av
	default:
		return nil, fmt.Errorf("bert: LoRA target %q (want query or value)", target)
	}
	h, r := l.m.cfg.HiddenSize, l.cfg.Rank
	out := make([]float64, h*h)
	gemm(false, false, h, h, r, l.scale, b, r, a, h, 0, out, h)
	return out, nil
}
