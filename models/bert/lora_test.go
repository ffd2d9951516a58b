package bert

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

var loraTexts = []string{"Refund request for damaged packaging — order #A-77 (qty 500).", "客户询问：订单12345什么时候发货？", "we are a supplier"}

func tinyInputs(t *testing.T, e *Encoder, layer int) ([][]float64, []int) {
	t.Helper()
	ids := make([][]int, len(loraTexts))
	lens := make([]int, len(loraTexts))
	for i, s := range loraTexts {
		ids[i] = e.Tokenizer().Encode(s)
		lens[i] = len(ids[i])
	}
	xs, err := e.Model().HiddenBefore(context.Background(), ids, layer)
	if err != nil {
		t.Fatal(err)
	}
	return xs, lens
}

// With B = 0 the adapted float64 path must reproduce the float32 encoder.
func TestLoRAZeroMatchesEncoder(t *testing.T) {
	for _, c := range []struct {
		top int
		opt Options
	}{{1, Options{Pooling: PoolMean}}, {2, Options{Pooling: PoolCLS, Normalize: true}}} {
		e := loadTiny(t, c.opt)
		want, err := e.Encode(context.Background(), loraTexts)
		if err != nil {
			t.Fatal(err)
		}
		l, err := NewLoRA(e.Model(), LoRAConfig{TopLayers: c.top, Rank: 4, Seed: 1, Pooling: c.opt.Pooling, Normalize: c.opt.Normalize})
		if err != nil {
			t.Fatal(err)
		}
		xs, lens := tinyInputs(t, e, l.FirstLayer())
		for i := range xs {
			got, _, err := l.Forward(xs[i], lens[i])
			if err != nil {
				t.Fatal(err)
			}
			for j := range got {
				if math.Abs(got[j]-want[i][j]) > 1e-5 {
					t.Fatalf("top %d, text %d, dim %d: %g vs encoder %g", c.top, i, j, got[j], want[i][j])
				}
			}
		}
	}
}

// Per-example gradients against central finite differences of
// loss = u·pooled, for every trainable parameter.
func TestLoRAGradientFiniteDifferences(t *testing.T) {
	e := loadTiny(t, Options{})
	for _, c := range []LoRAConfig{
		{TopLayers: 2, Rank: 2, Alpha: 4, Seed: 3, Pooling: PoolMean},
		{TopLayers: 1, Rank: 3, Seed: 4, Pooling: PoolCLS, Normalize: true},
	} {
		l, u := loraCase(t, e, c)
		p := l.Params()
		xs, lens := tinyInputs(t, e, l.FirstLayer())
		for ex := range xs {
			_, tape, err := l.Forward(xs[ex], lens[ex])
			if err != nil {
				t.Fatal(err)
			}
			grad := make([]float64, l.NumParams())
			if err := l.Backward(grad, tape, u); err != nil {
				t.Fatal(err)
			}
			loss := func(q []float64) float64 {
				if err := l.SetParams(q); err != nil {
					t.Fatal(err)
				}
				out, _, _ := l.Forward(xs[ex], lens[ex])
				return dot(out, u)
			}
			const eps = 1e-5
			var worst, norm float64
			q := append([]float64(nil), p...)
			for i := range p {
				q[i] = p[i] + eps
				fp := loss(q)
				q[i] = p[i] - eps
				fm := loss(q)
				q[i] = p[i]
				fd := (fp - fm) / (2 * eps)
				worst = max(worst, math.Abs(fd-grad[i]))
				norm = max(norm, math.Abs(fd))
			}
			l.SetParams(p)
			if norm == 0 || worst > 1e-8*max(1, norm) {
				t.Fatalf("%+v example %d: worst |fd − grad| = %g (max |grad| %g)", c, ex, worst, norm)
			}
			t.Logf("top %d pooling %s example %d: worst |fd − grad| %.2g, max |grad| %.3g", c.TopLayers, c.Pooling, ex, worst, norm)
		}
	}
}

// Averaging the clients' B averages their ΔW exactly, because A is
// derived from the task seed and identical everywhere.
func TestLoRAAggregationExact(t *testing.T) {
	e := loadTiny(t, Options{})
	cfg := LoRAConfig{TopLayers: 2, Rank: 4, Alpha: 8, Seed: 42}
	rng := rand.New(rand.NewPCG(1, 2))
	var clients []*LoRA
	for range 3 {
		l, _ := NewLoRA(e.Model(), cfg)
		p := make([]float64, l.NumParams())
		for i := range p {
			p[i] = rng.NormFloat64()
		}
		l.SetParams(p)
		clients = append(clients, l)
	}
	avg := make([]float64, clients[0].NumParams())
	for _, c := range clients {
		for i, v := range c.Params() {
			avg[i] += v / 3
		}
	}
	global, _ := NewLoRA(e.Model(), cfg)
	if err := global.SetParams(avg); err != nil {
		t.Fatal(err)
	}
	for layer := global.FirstLayer(); layer < 2; layer++ {
		for _, target := range []string{"query", "value"} {
			got, err := global.DeltaW(layer, target)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(got))
			for _, c := range clients {
				d, _ := c.DeltaW(layer, target)
				for i := range d {
					want[i] += d[i] / 3
				}
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("layer %d %s: ΔW of the average %g, average ΔW %g", layer, target, got[i], want[i])
				}
			}
		}
	}
	other, _ := NewLoRA(e.Model(), LoRAConfig{TopLayers: 2, Rank: 4, Alpha: 8, Seed: 43})
	if other.layers[0].aq[0] == global.layers[0].aq[0] {
		t.Fatal("A does not depend on the seed")
	}
	if _, err := global.DeltaW(5, "query"); err == nil {
		t.Fatal("DeltaW of a missing layer accepted")
	}
}

func TestLoRAConfigErrors(t *testing.T) {
	m := loadTiny(t, Options{}).Model()
	for _, c := range []LoRAConfig{{TopLayers: 0, Rank: 2}, {TopLayers: 3, Rank: 2}, {TopLayers: 1, Rank: 0},
		{TopLayers: 1, Rank: 64}, {TopLayers: 1, Rank: 2, Alpha: math.NaN()}, {TopLayers: 1, Rank: 2, Pooling: "max"}} {
		if _, err := NewLoRA(m, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	l, _ := NewLoRA(m, LoRAConfig{TopLayers: 1, Rank: 2})
	if err := l.SetParams(make([]float64, 3)); err == nil {
		t.Error("wrong parameter count accepted")
	}
	p := make([]float64, l.NumParams())
	p[1] = math.Inf(1)
	if err := l.SetParams(p); err == nil {
		t.Error("infinite parameter accepted")
	}
	if _, _, err := l.Forward(make([]float64, 5), 1); err == nil {
		t.Error("short input accepted")
	}
}

// Training only the encoder's LoRA B matrices, under a fixed random linear
// head, must fit a small task: the mechanics of end-to-end backpropagation
// (the tiny model is random, so this says nothing about quality).
func TestLoRATrainingReducesLoss(t *testing.T) {
	e := loadTiny(t, Options{})
	g := readGolden(t)
	texts := g.Sentences
	labels := []int{1, 1, 0, 0, 1, 0, 0, 0} // Chinese vs not
	l, err := NewLoRA(e.Model(), LoRAConfig{TopLayers: 2, Rank: 4, Alpha: 8, Seed: 11, Pooling: PoolCLS, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	head := make([]float64, 2*e.Dim())
	for i := range head {
		head[i] = rng.NormFloat64() * 3
	}
	ids := make([][]int, len(texts))
	for i, s := range texts {
		ids[i] = e.Tokenizer().Encode(s)
	}
	xs, err := e.Model().HiddenBefore(context.Background(), ids, l.FirstLayer())
	if err != nil {
		t.Fatal(err)
	}
	h := e.Dim()
	lossAndUp := func(v []float64, y int) (float64, []float64) {
		z := []float64{dot(head[:h], v), dot(head[h:], v)}
		m := max(z[0], z[1])
		lse := m + math.Log(math.Exp(z[0]-m)+math.Exp(z[1]-m))
		up := make([]float64, h)
		for c := range 2 {
			pc := math.Exp(z[c] - lse)
			if c == y {
				pc--
			}
			for j := range up {
				up[j] += pc * head[c*h+j]
			}
		}
		return lse - z[y], up
	}
	epoch := func(train bool) float64 {
		var total float64
		sum := make([]float64, l.NumParams())
		grad := make([]float64, l.NumParams())
		for i := range xs {
			v, tape, err := l.Forward(xs[i], len(ids[i]))
			if err != nil {
				t.Fatal(err)
			}
			loss, up := lossAndUp(v, labels[i])
			total += loss
			if train {
				l.Backward(grad, tape, up)
				for k, gv := range grad {
					sum[k] += gv / float64(len(xs))
				}
			}
		}
		if train {
			p := l.Params()
			for k := range p {
				p[k] -= 0.5 * sum[k]
			}
			l.SetParams(p)
		}
		return total / float64(len(xs))
	}
	first := epoch(false)
	for range 40 {
		epoch(true)
	}
	last := epoch(false)
	t.Logf("mean cross-entropy %.4f → %.4f after 40 full-batch steps", first, last)
	if !(last < 0.5*first) {
		t.Fatalf("loss %.4f → %.4f: LoRA training did not fit", first, last)
	}
	vecs, err := l.Embed(context.Background(), e.Tokenizer(), texts[:2])
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := l.Forward(xs[1], len(ids[1]))
	for j := range want {
		if vecs[1][j] != want[j] {
			t.Fatal("Embed differs from Forward on the same input")
		}
	}
}
