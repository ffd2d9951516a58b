package bert

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"

	"github.com/fedb2b/fedb2b/models"
)

// Pooling selects how a sequence's hidden states become one vector.
type Pooling string

const (
	// PoolMean is the attention-mask-weighted mean of the last hidden state
	// (sentence-transformers models such as all-MiniLM-L6-v2, text2vec).
	PoolMean Pooling = "mean"
	// PoolCLS is the last hidden state of the [CLS] token (bge models).
	PoolCLS Pooling = "cls"
)

// ParsePooling accepts "mean" or "cls".
func ParsePooling(s string) (Pooling, error) {
	switch p := Pooling(s); p {
	case PoolMean, PoolCLS:
		return p, nil
	}
	return "", fmt.Errorf("bert: unknown pooling %q (want mean or cls)", s)
}

// Options configure an Encoder.
type Options struct {
	// Pooling is PoolMean (the default when empty) or PoolCLS.
	Pooling Pooling
	// Normalize scales every vector to unit L2 norm.
	Normalize bool
	// BatchSize is the number of texts per forward pass (default 32).
	BatchSize int
}

// Encoder is a models.Encoder backed by a BERT model and its tokenizer.
type Encoder struct {
	model *Model
	tok   *Tokenizer
	opt   Options
	id    string
}

var _ models.Encoder = (*Encoder)(nil)

// Load opens a Hugging Face model folder: config.json, model.safetensors,
// and vocab.txt or tokenizer.json (tokenizer_config.json optional).
func Load(dir string, opt Options) (*Encoder, error) {
	cfg, err := ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	ts, err := ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, err
	}
	w, err := WeightsFromTensors(cfg, ts)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", filepath.Join(dir, "model.safetensors"), err)
	}
	m, err := NewModel(cfg, w)
	if err != nil {
		return nil, err
	}
	tok, err := LoadTokenizer(dir, cfg.MaxPositionEmbeddings)
	if err != nil {
		return nil, err
	}
	return New(m, tok, opt)
}

// New combines a model and a tokenizer into an Encoder.
func New(m *Model, tok *Tokenizer, opt Options) (*Encoder, error) {
	if opt.Pooling == "" {
		opt.Pooling = PoolMean
	}
	if _, err := ParsePooling(string(opt.Pooling)); err != nil {
		return nil, err
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 32
	}
	if tok.MaxLen > m.cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("bert: tokenizer maximum length %d exceeds max_position_embeddings %d", tok.MaxLen, m.cfg.MaxPositionEmbeddings)
	}
	for t, id := range tok.vocab {
		if id < 0 || id >= m.cfg.VocabSize {
			return nil, fmt.Errorf("bert: vocabulary token %q has id %d outside the model's vocab_size %d", t, id, m.cfg.VocabSize)
		}
	}
	e := &Encoder{model: m, tok: tok, opt: opt}
	e.id = "bert:" + e.fingerprint()
	return e, nil
}

// fingerprint hashes the configuration, every weight, the tokenizer and the
// pooling settings; the first 16 hex digits of the SHA-256 are kept.
func (e *Encoder) fingerprint() string {
	h := sha256.New()
	cfg, _ := json.Marshal(e.model.cfg) // a struct of ints and strings: cannot fail
	writeStr(h, "fedb2b-bert-v1")
	writeStr(h, string(cfg))
	w := e.model.w
	floats := func(fs []float32) {
		buf := make([]byte, 4*len(fs))
		for i, f := range fs {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
		}
		h.Write(buf)
	}
	for _, f := range [][]float32{w.Word, w.Position, w.TokenType, w.EmbNorm.Gamma, w.EmbNorm.Beta} {
		floats(f)
	}
	for _, l := range w.Layers {
		for _, lin := range []Linear{l.Query, l.Key, l.Value, l.AttnOut, l.Inter, l.Output} {
			floats(lin.W)
			floats(lin.B)
		}
		for _, n := range []Norm{l.AttnNorm, l.OutNorm} {
			floats(n.Gamma)
			floats(n.Beta)
		}
	}
	toks := make([]string, 0, len(e.tok.vocab))
	for t := range e.tok.vocab {
		toks = append(toks, t)
	}
	sort.Strings(toks)
	for _, t := range toks {
		writeStr(h, t)
		binary.Write(h, binary.LittleEndian, int64(e.tok.vocab[t]))
	}
	writeStr(h, fmt.Sprintf("lower=%t strip=%t cjk=%t maxlen=%d maxword=%d prefix=%q pooling=%s normalize=%t",
		e.tok.LowerCase, e.tok.StripAccents, e.tok.ChineseChars, e.tok.MaxLen, e.tok.MaxWordChars, e.tok.Prefix,
		e.opt.Pooling, e.opt.Normalize))
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:8])
}

func writeStr(w io.Writer, s string) {
	binary.Write(w, binary.LittleEndian, uint64(len(s)))
	io.WriteString(w, s)
}

// ID is "bert:" followed by 16 hex digits of a SHA-256 over the
// configuration, the weights, the tokenizer and the pooling settings.
func (e *Encoder) ID() string { return e.id }

// Dim is the hidden size.
func (e *Encoder) Dim() int { return e.model.cfg.HiddenSize }

// Model returns the underlying model.
func (e *Encoder) Model() *Model { return e.model }

// Options returns the encoder's options (defaults filled in).
func (e *Encoder) Options() Options { return e.opt }

// Tokenizer returns the encoder's tokenizer.
func (e *Encoder) Tokenizer() *Tokenizer { return e.tok }

// Encode tokenizes, runs the model in batches of Options.BatchSize and
// pools each text to one vector. Texts are batched in order of token count
// so that little padding is computed; padding is masked, so a text's
// vector does not depend on its batch.
func (e *Encoder) Encode(ctx context.Context, texts []string) ([][]float64, error) {
	ids := make([][]int, len(texts))
	order := make([]int, len(texts))
	for i, t := range texts {
		ids[i] = e.tok.Encode(t)
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	out := make([][]float64, len(texts))
	for start := 0; start < len(order); start += e.opt.BatchSize {
		idx := order[start:min(start+e.opt.BatchSize, len(order))]
		batch := make([][]int, len(idx))
		for i, j := range idx {
			batch[i] = ids[j]
		}
		hidden, T, err := e.model.Forward(ctx, batch)
		if err != nil {
			return nil, err
		}
		for i, v := range Pool(hidden, batch, T, e.model.cfg.HiddenSize, e.opt.Pooling, e.opt.Normalize) {
			out[idx[i]] = v
		}
	}
	return out, nil
}

// Pool reduces a last hidden state [len(ids)][T][h] to one vector per
// sequence: the mean over its len(ids[b]) real tokens, or its [CLS] row,
// optionally scaled to unit L2 norm. Sums run in float64.
func Pool(hidden []float32, ids [][]int, T, h int, p Pooling, normalize bool) [][]float64 {
	out := make([][]float64, len(ids))
	for b, s := range ids {
		v := make([]float64, h)
		n := 1
		if p == PoolMean {
			n = len(s)
		}
		for t := range n {
			row := hidden[(b*T+t)*h : (b*T+t+1)*h]
			for j, x := range row {
				v[j] += float64(x)
			}
		}
		var norm float64
		for j := range v {
			v[j] /= float64(n)
			norm += v[j] * v[j]
		}
		if normalize && norm > 0 {
			inv := 1 / math.Sqrt(norm)
			for j := range v {
				v[j] *= inv
			}
		}
		out[b] = v
	}
	return out
}
