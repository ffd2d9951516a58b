package bert

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Model is a BERT encoder: configuration plus weights. It is immutable
// after NewModel and safe for concurrent use.
type Model struct {
	cfg Config
	w   *Weights
	act func(float64) float64
	// blasOnly keeps the forward pass on gonum Sgemm and serial GELU and
	// LayerNorm even where the AVX2/FMA kernel runs: the baseline of
	// BenchmarkForwardBGESmallZh, never set outside tests.
	blasOnly bool
}

// NewModel checks that w matches cfg and returns the model.
func NewModel(cfg Config, w *Weights) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	if err := checkWeights(cfg, w); err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	m := &Model{cfg: cfg, w: w, act: geluErf}
	if cfg.HiddenAct != "gelu" {
		m.act = geluTanh
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

func checkWeights(cfg Config, w *Weights) error {
	h, in := cfg.HiddenSize, cfg.IntermediateSize
	type chk struct {
		name string
		got  int
		want int
	}
	cs := []chk{
		{"word embeddings", len(w.Word), cfg.VocabSize * h},
		{"position embeddings", len(w.Position), cfg.MaxPositionEmbeddings * h},
		{"token type embeddings", len(w.TokenType), cfg.TypeVocabSize * h},
		{"embedding LayerNorm gamma", len(w.EmbNorm.Gamma), h}, {"embedding LayerNorm beta", len(w.EmbNorm.Beta), h},
		{"layers", len(w.Layers), cfg.NumLayers},
	}
	for i, l := range w.Layers {
		p := fmt.Sprintf("layer %d ", i)
		for _, x := range []struct {
			n       string
			l       Linear
			out, in int
		}{{"query", l.Query, h, h}, {"key", l.Key, h, h}, {"value", l.Value, h, h},
			{"attention output", l.AttnOut, h, h}, {"intermediate", l.Inter, in, h}, {"output", l.Output, h, in}} {
			cs = append(cs, chk{p + x.n + " weight", len(x.l.W), x.out * x.in}, chk{p + x.n + " bias", len(x.l.B), x.out},
				chk{p + x.n + " in", x.l.In, x.in}, chk{p + x.n + " out", x.l.Out, x.out})
		}
		cs = append(cs, chk{p + "attention LayerNorm", len(l.AttnNorm.Gamma) + len(l.AttnNorm.Beta), 2 * h},
			chk{p + "output LayerNorm", len(l.OutNorm.Gamma) + len(l.OutNorm.Beta), 2 * h})
	}
	for _, c := range cs {
		if c.got != c.want {
			return fmt.Errorf("%s: size %d, want %d", c.name, c.got, c.want)
		}
	}
	return nil
}

// Forward runs the encoder on a batch of id sequences (each with its own
// [CLS]/[SEP]) padded to the longest, and returns the last hidden state,
// row-major [len(ids)][T][H], and T. Padding positions hold the pad token
// and are masked out of attention, as in Hugging Face's BertModel.
func (m *Model) Forward(ctx context.Context, ids [][]int) ([]float32, int, error) {
	return m.forward(ctx, ids, len(m.w.Layers))
}

// HiddenBefore runs the embeddings and the layers below layer (0-based) on
// a batch and returns, per sequence, the unpadded hidden state [len][H] in
// float64: the input of layer. The base is frozen, so callers training
// LoRA in the layers from layer up may compute this once per record.
func (m *Model) HiddenBefore(ctx context.Context, ids [][]int, layer int) ([][]float64, error) {
	if layer < 0 || layer > len(m.w.Layers) {
		return nil, fmt.Errorf("bert: layer %d out of range [0, %d]", layer, len(m.w.Layers))
	}
	x, T, err := m.forward(ctx, ids, layer)
	if err != nil {
		return nil, err
	}
	h := m.cfg.HiddenSize
	out := make([][]float64, len(ids))
	for b, s := range ids {
		v := make([]float64, len(s)*h)
		for i := range v {
			v[i] = float64(x[b*T*h+i])
		}
		out[b] = v
	}
	return out, nil
}

// forward runs the embeddings and the first nLayers layers.
func (m *Model) forward(ctx context.Context, ids [][]int, nLayers int) ([]float32, int, error) {
	h := m.cfg.HiddenSize
	bsz, T := len(ids), 0
	for i, s := range ids {
		if len(s) == 0 || len(s) > m.cfg.MaxPositionEmbeddings {
			return nil, 0, fmt.Errorf("bert: sequence %d has %d tokens (want 1..%d)", i, len(s), m.cfg.MaxPositionEmbeddings)
		}
		T = max(T, len(s))
	}
	x := make([]float32, bsz*T*h)
	for b, s := range ids {
		for t := range T {
			id := m.cfg.PadTokenID
			if t < len(s) {
				id = s[t]
			}
			if id < 0 || id >= m.cfg.VocabSize {
				return nil, 0, fmt.Errorf("bert: token id %d out of the vocabulary (size %d)", id, m.cfg.VocabSize)
			}
			row := x[(b*T+t)*h : (b*T+t+1)*h]
			we, pe, te := m.w.Word[id*h:(id+1)*h], m.w.Position[t*h:(t+1)*h], m.w.TokenType[:h]
			for j := range row {
				row[j] = we[j] + pe[j] + te[j]
			}
		}
	}
	layerNorm(x, h, m.w.EmbNorm, m.cfg.LayerNormEps)
	n := bsz * T
	q, k, v := make([]float32, n*h), make([]float32, n*h), make([]float32, n*h)
	att, tmp := make([]float32, n*h), make([]float32, n*h)
	inter := make([]float32, n*m.cfg.IntermediateSize)
	for li := range nLayers {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		l := &m.w.Layers[li]
		m.linear(q, x, n, l.Query)
		m.linear(k, x, n, l.Key)
		m.linear(v, x, n, l.Value)
		m.attention(att, q, k, v, ids, T)
		m.linear(tmp, att, n, l.AttnOut)
		addTo(tmp, x)
		m.layerNorm(tmp, l.AttnNorm)
		m.linear(inter, tmp, n, l.Inter)
		m.rows(n, func(lo, hi int) {
			in := m.cfg.IntermediateSize
			if m.cfg.HiddenAct == "gelu" && m.fast() {
				geluErfRows(inter[lo*in : hi*in])
				return
			}
			for i, val := range inter[lo*in : hi*in] {
				inter[lo*in+i] = float32(m.act(float64(val)))
			}
		})
		m.linear(x, inter, n, l.Output)
		addTo(x, tmp)
		m.layerNorm(x, l.OutNorm)
	}
	return x, T, nil
}

// fast reports whether the forward pass takes the assembly kernel path.
func (m *Model) fast() bool { return haveKernel && !m.blasOnly }

// linear is linearFast where the assembly kernel runs, else linear.
func (m *Model) linear(dst, x []float32, n int, l Linear) {
	if m.fast() {
		linearFast(dst, x, n, l)
		return
	}
	linear(dst, x, n, l)
}

// rows runs f over [0, n) rows, split among goroutines on the fast path.
func (m *Model) rows(n int, f func(lo, hi int)) {
	if m.fast() {
		parallelRows(n, 64, f)
		return
	}
	f(0, n)
}

// layerNorm is layerNorm over rows of width H, split among goroutines on
// the fast path (each row's result is the same either way).
func (m *Model) layerNorm(x []float32, nrm Norm) {
	h := m.cfg.HiddenSize
	m.rows(len(x)/h, func(lo, hi int) { layerNorm(x[lo*h:hi*h], h, nrm, m.cfg.LayerNormEps) })
}

// linear sets dst[n][Out] = x[n][In] Wᵀ + b with one BLAS Sgemm.
func linear(dst, x []float32, n int, l Linear) {
	for r := range n {
		copy(dst[r*l.Out:(r+1)*l.Out], l.B)
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: n, Cols: l.In, Stride: l.In, Data: x[:n*l.In]},
		blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: l.W},
		1, blas32.General{Rows: n, Cols: l.Out, Stride: l.Out, Data: dst[:n*l.Out]})
}

func addTo(dst, s []float32) {
	for i, v := range s {
		dst[i] += v
	}
}

// attention computes multi-head scaled dot-product attention per sequence,
// ignoring keys at padding positions; sequences run in parallel.
func (m *Model) attention(dst, q, k, v []float32, ids [][]int, T int) {
	h, nh := m.cfg.HiddenSize, m.cfg.NumHeads
	dh := h / nh
	scale := float32(1 / math.Sqrt(float64(dh)))
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scores := make([]float32, T*T)
			var vh []float32
			fast := m.fast()
			if fast {
				vh = make([]float32, T*dh)
			}
			for b := range jobs {
				valid := len(ids[b])
				off := b * T * h
				for hd := range nh {
					o := off + hd*dh
					if fast {
						headAttention(dst[o:], q[o:], k[o:], v[o:], scores, vh, T, valid, h, dh, scale)
						continue
					}
					mat := func(s []float32, rows int) blas32.General {
						return blas32.General{Rows: rows, Cols: dh, Stride: h, Data: s[o : o+(rows-1)*h+dh]}
					}
					sc := blas32.General{Rows: T, Cols: valid, Stride: valid, Data: scores[:T*valid]}
					blas32.Gemm(blas.NoTrans, blas.Trans, scale, mat(q, T), mat(k, valid), 0, sc)
					for r := range T {
						softmax(sc.Data[r*valid : (r+1)*valid])
					}
					blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, sc, mat(v, valid), 0, mat(dst, T))
				}
			}
		}()
	}
	for b := range ids {
		jobs <- b
	}
	close(jobs)
	wg.Wait()
}

// headAttention is one head of one sequence on the assembly kernel: dst
// (T rows of dh at stride h) = softmax(scale·q·kᵀ)·v over the first valid
// keys, with q, k, v, dst starting at the head's column. scores (T×T) and
// vh (T×dh, the head's values made contiguous for the kernel) are scratch.
func headAttention(dst, q, k, v, scores, vh []float32, T, valid, h, dh int, scale float32) {
	sc := scores[:T*valid]
	clear(sc)
	sgemmNT(T, dh, q, h, k, h, sc, valid, 0, valid)
	for r := range T {
		row := sc[r*valid : (r+1)*valid]
		for j := range row {
			row[j] *= scale
		}
		softmax(row)
	}
	for r := range valid {
		copy(vh[r*dh:(r+1)*dh], v[r*h:r*h+dh])
	}
	for r := range T {
		clear(dst[r*h : r*h+dh])
	}
	sgemmNN(T, dh, valid, sc, valid, vh, dh, dst, h)
}

func softmax(s []float32) {
	mx := s[0]
	for _, v := range s[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range s {
		e := math.Exp(float64(v - mx))
		s[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range s {
		s[i] *= inv
	}
}

// layerNorm normalises each row of x (width h) in place, computing the
// statistics in float64.
func layerNorm(x []float32, h int, nrm Norm, eps float64) {
	for r := 0; r+h <= len(x); r += h {
		row := x[r : r+h]
		var mean float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(h)
		var vr float64
		for _, v := range row {
			d := float64(v) - mean
			vr += d * d
		}
		inv := 1 / math.Sqrt(vr/float64(h)+eps)
		for j, v := range row {
			row[j] = float32((float64(v)-mean)*inv)*nrm.Gamma[j] + nrm.Beta[j]
		}
	}
}

// geluErf is GELU in its exact form, x·Φ(x) = x/2·(1 + erf(x/√2)).
func geluErf(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

// geluTanh is the tanh approximation used by gelu_new / gelu_pytorch_tanh.
func geluTanh(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// Pooler applies BertModel's pooler, tanh(W·h[CLS] + b), to a last hidden
// state [B][T][H]; it returns nil if the checkpoint has no pooler.
func (m *Model) Pooler(hidden []float32, batch, T int) [][]float64 {
	p := m.w.Pooler
	if p == nil {
		return nil
	}
	h := m.cfg.HiddenSize
	out := make([][]float64, batch)
	for b := range out {
		cls := hidden[b*T*h : b*T*h+h]
		v := make([]float64, h)
		for o := range v {
			s := float64(p.B[o])
			for j, x := range cls {
				s += float64(p.W[o*h+j]) * float64(x)
			}
			v[o] = math.Tanh(s)
		}
		out[b] = v
	}
	return out
}
