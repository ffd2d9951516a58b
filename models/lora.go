package models

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	mrand "math/rand/v2"
)

// Tensor names of a Classifier, as stored in safetensors files.
const (
	TensorLoRAA    = "lora_A"    // A, Rank×InputDim
	TensorLoRAB    = "lora_B"    // B, Classes×Rank
	TensorHeadBias = "head_bias" // hb, Classes
	TensorW0       = "W0"        // frozen base head, Classes×InputDim
	TensorB0       = "b0"        // frozen base bias, Classes
)

// Limits on a classifier's shape; they bound memory for configurations
// received from elsewhere.
const (
	maxInputDim = 1 << 24
	maxRank     = 4096
	maxClasses  = 1 << 16
	maxElements = 1 << 28
)

// loraADomain separates the derivation of A from every other use of a task
// seed.
const loraADomain = "fedb2b/models/lora_A/v1"

// ClassifierConfig fixes the shape of a LoRA classifier.
type ClassifierConfig struct {
	// InputDim is the encoder dimension (din).
	InputDim int
	// Rank is the LoRA rank r.
	Rank int
	// Classes is the number of output classes (dout), at least 2.
	Classes int
	// Alpha is the LoRA scaling numerator: the update is scaled by
	// Alpha/Rank. Zero means Alpha = Rank (scale 1).
	Alpha float64
	// Seed determines A: every party that builds a classifier with the same
	// config gets the bit-identical A.
	Seed uint64
	// TrainA makes A trainable. Federated tasks leave it false: A stays the
	// seed-derived matrix on every client, only B and the head bias train,
	// so averaging B averages ΔW = (Alpha/Rank)·B·A exactly, and features
	// can be projected once (Project).
	TrainA bool
}

func (cfg *ClassifierConfig) check() error {
	switch {
	case cfg.InputDim < 1 || cfg.InputDim > maxInputDim:
		return fmt.Errorf("models: input dim %d out of range [1, %d]", cfg.InputDim, maxInputDim)
	case cfg.Rank < 1 || cfg.Rank > maxRank:
		return fmt.Errorf("models: rank %d out of range [1, %d]", cfg.Rank, maxRank)
	case cfg.Classes < 2 || cfg.Classes > maxClasses:
		return fmt.Errorf("models: classes %d out of range [2, %d]", cfg.Classes, maxClasses)
	case int64(cfg.InputDim)*int64(cfg.Rank) > maxElements || int64(cfg.InputDim)*int64(cfg.Classes) > maxElements:
		return fmt.Errorf("models: classifier %dx%dx%d too large", cfg.InputDim, cfg.Rank, cfg.Classes)
	case math.IsNaN(cfg.Alpha) || math.IsInf(cfg.Alpha, 0) || cfg.Alpha < 0:
		return fmt.Errorf("models: alpha %v must be finite and non-negative", cfg.Alpha)
	}
	return nil
}

// Classifier is a LoRA adapter with a classification head, in float64:
//
//	logits = x·W0ᵀ + b0 + hb + (Alpha/Rank)·(x·Aᵀ)·Bᵀ
//
// for an input row x of length InputDim. W0 (Classes×InputDim) and b0 are a
// frozen base head, zero unless loaded; A (Rank×InputDim) is derived from
// the seed and frozen unless TrainA; B (Classes×Rank, initially zero) and
// hb (Classes, initially zero) train. Matrices are row-major.
//
// A Classifier is not safe for concurrent mutation; concurrent Predict
// calls without training are safe.
type Classifier struct {
	cfg   ClassifierConfig
	scale float64
	a     []float64
	aT    []float64 // Aᵀ (InputDim×Rank), kept only while A is frozen, for fast Project
	b     []float64
	hb    []float64
	w0    []float64 // nil means zero
	b0    []float64
}

// NewClassifier checks cfg and returns a classifier with A derived from
// cfg.Seed, B and hb zero and no base head.
//
// A[k][j] = ±1/√Rank with independent fair signs from ChaCha8 keyed by
// SHA-256(loraADomain || Seed little-endian): a Rademacher
// Johnson–Lindenstrauss projection, so ‖x·Aᵀ‖ ≈ ‖x‖. Signs rather than
// Gaussians keep A bit-identical on every platform (no transcendental
// functions involved).
func NewClassifier(cfg ClassifierConfig) (*Classifier, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = float64(cfg.Rank)
	}
	c := &Classifier{
		cfg:   cfg,
		scale: cfg.Alpha / float64(cfg.Rank),
		a:     make([]float64, cfg.Rank*cfg.InputDim),
		b:     make([]float64, cfg.Classes*cfg.Rank),
		hb:    make([]float64, cfg.Classes),
		b0:    make([]float64, cfg.Classes),
	}
	fillA(c.a, cfg.Seed, cfg.Rank)
	c.refreshAT()
	return c, nil
}

// refreshAT recomputes the transposed copy of a frozen A.
func (c *Classifier) refreshAT() {
	if c.cfg.TrainA {
		c.aT = nil
		return
	}
	r, din := c.cfg.Rank, c.cfg.InputDim
	if c.aT == nil {
		c.aT = make([]float64, len(c.a))
	}
	for k := 0; k < r; k++ {
		for j := 0; j < din; j++ {
			c.aT[j*r+k] = c.a[k*din+j]
		}
	}
}

func fillA(a []float64, seed uint64, rank int) {
	h := sha256.New()
	h.Write([]byte(loraADomain))
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	h.Write(s[:])
	var key [32]byte
	copy(key[:], h.Sum(nil))
	src := mrand.NewChaCha8(key)
	v := 1 / math.Sqrt(float64(rank))
	var bits uint64
	for i := range a {
		if i%64 == 0 {
			bits = src.Uint64()
		}
		if bits&1 == 1 {
			a[i] = v
		} else {
			a[i] = -v
		}
		bits >>= 1
	}
}

// Config returns the configuration (with Alpha filled in).
func (c *Classifier) Config() ClassifierConfig { return c.cfg }

// Scale is Alpha/Rank.
func (c *Classifier) Scale() float64 { return c.scale }

// NumParams is the length of Params: Rank·InputDim (if TrainA) +
// Classes·Rank + Classes.
func (c *Classifier) NumParams() int {
	n := len(c.b) + len(c.hb)
	if c.cfg.TrainA {
		n += len(c.a)
	}
	return n
}

// trainable returns the trainable tensors in Params order.
func (c *Classifier) trainable() [][]float64 {
	if c.cfg.TrainA {
		return [][]float64{c.a, c.b, c.hb}
	}
	return [][]float64{c.b, c.hb}
}

// Params returns a copy of the trainable parameters flattened in this
// order: A row-major (only if TrainA), then B row-major, then hb.
func (c *Classifier) Params() []float64 {
	out := make([]float64, 0, c.NumParams())
	for _, t := range c.trainable() {
		out = append(out, t...)
	}
	return out
}

// SetParams replaces the trainable parameters (order as in Params). It
// rejects a wrong length or a NaN or infinite entry and then changes
// nothing.
func (c *Classifier) SetParams(p []float64) error {
	if len(p) != c.NumParams() {
		return fmt.Errorf("models: parameter vector has length %d, want %d", len(p), c.NumParams())
	}
	if i := firstNonFinite(p); i >= 0 {
		return fmt.Errorf("models: parameter %d is not finite", i)
	}
	off := 0
	for _, t := range c.trainable() {
		off += copy(t, p[off:])
	}
	return nil
}

// Tensor returns a copy of the named tensor and its shape. W0 reads as
// zeros if no base head was set.
func (c *Classifier) Tensor(name string) ([]float64, []int, error) {
	t, shape, err := c.tensorRef(name)
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		return make([]float64, shape[0]*shape[1]), shape, nil
	}
	return append([]float64(nil), t...), shape, nil
}

// SetTensor replaces the named tensor with a copy of data, which must have
// the tensor's size and be finite. Setting A on a classifier with frozen A
// is allowed (it is how a saved model is restored) but invalidates earlier
// projections.
func (c *Classifier) SetTensor(name string, data []float64) error {
	t, shape, err := c.tensorRef(name)
	if err != nil {
		return err
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(data) != n {
		return fmt.Errorf("models: tensor %s has %d values, want %d (shape %v)", name, len(data), n, shape)
	}
	if i := firstNonFinite(data); i >= 0 {
		return fmt.Errorf("models: tensor %s value %d is not finite", name, i)
	}
	if name == TensorW0 {
		if IsZero(data) {
			c.w0 = nil
			return nil
		}
		if t == nil {
			c.w0 = make([]float64, n)
			t = c.w0
		}
	}
	copy(t, data)
	if name == TensorLoRAA {
		c.refreshAT()
	}
	return nil
}

// HasBase reports whether a non-zero frozen base weight W0 is set.
func (c *Classifier) HasBase() bool { return c.w0 != nil }

func (c *Classifier) tensorRef(name string) ([]float64, []int, error) {
	r, din, dout := c.cfg.Rank, c.cfg.InputDim, c.cfg.Classes
	switch name {
	case TensorLoRAA:
		return c.a, []int{r, din}, nil
	case TensorLoRAB:
		return c.b, []int{dout, r}, nil
	case TensorHeadBias:
		return c.hb, []int{dout}, nil
	case TensorW0:
		return c.w0, []int{dout, din}, nil
	case TensorB0:
		return c.b0, []int{dout}, nil
	}
	return nil, nil, fmt.Errorf("models: unknown tensor %q", name)
}

// firstNonFinite returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}
