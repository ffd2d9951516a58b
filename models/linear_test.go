package models

import (
	"math"
	mrand "math/rand/v2"
	"testing"
)

// sparseText returns n L2-normalised sparse rows of dimension dim in k
// classes, like hashed texts: each class owns 12 "keyword" buckets, and a
// row holds 3 of its class's keywords plus 8 random buckets.
func sparseText(n, dim, k int, seed uint64) ([]SparseRow, []int) {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	keys := make([][]int, k)
	for c := range keys {
		for range 12 {
			keys[c] = append(keys[c], rng.IntN(dim))
		}
	}
	rows := make([]SparseRow, n)
	y := make([]int, n)
	x := make([]float64, dim)
	for i := range rows {
		clear(x)
		y[i] = i % k
		for range 3 {
			x[keys[y[i]][rng.IntN(12)]] += 1
		}
		for range 8 {
			x[rng.IntN(dim)] += 1
		}
		s := math.Sqrt(sumSq(x))
		for j := range x {
			x[j] /= s
		}
		rows[i] = Sparsify(x)
	}
	return rows, y
}

func newHead(t testing.TB, dim, k int) *LinearHead {
	t.Helper()
	h, err := NewLinearHead(LinearConfig{InputDim: dim, Classes: k})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func randomise(t testing.TB, h *LinearHead, seed uint64) {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(seed, 3))
	p := h.Params()
	for i := range p {
		p[i] = rng.NormFloat64()
	}
	if err := h.SetParams(p); err != nil {
		t.Fatal(err)
	}
}

func TestLinearGradientMatchesFiniteDifferences(t *testing.T) {
	rows, y := sparseText(4, 40, 3, 1)
	h := newHead(t, 40, 3)
	randomise(t, h, 2)
	g := make([]float64, h.NumParams())
	for i, r := range rows {
		if _, err := h.PerExampleGradient(g, r, y[i]); err != nil {
			t.Fatal(err)
		}
		p := h.Params()
		loss := func(q []float64) float64 {
			if err := h.SetParams(q); err != nil {
				t.Fatal(err)
			}
			l, _ := h.PerExampleGradient(make([]float64, len(q)), r, y[i])
			return l
		}
		const eps = 1e-6
		for j := range p {
			q := append([]float64(nil), p...)
			q[j] += eps
			up := loss(q)
			q[j] -= 2 * eps
			fd := (up - loss(q)) / (2 * eps)
			if math.Abs(fd-g[j]) > 1e-7 {
				t.Fatalf("row %d parameter %d: gradient %g, finite difference %g", i, j, g[j], fd)
			}
		}
		_ = h.SetParams(p)
	}
}

// The fused sparse path must add exactly the clipped dense per-example
// gradients, with the norm ‖p−e_y‖·√(‖x‖²+1) computed in closed form.
func TestLinearAccumulateIsSumOfClippedGradients(t *testing.T) {
	rows, y := sparseText(30, 64, 4, 3)
	h := newHead(t, 64, 4)
	randomise(t, h, 4)
	batch := []int{0, 3, 5, 7, 11, 12, 20, 29}
	for _, clip := range []float64{0, 0.3, 1.0, 100} {
		want := make([]float64, h.NumParams())
		g := make([]float64, h.NumParams())
		clippedWant := 0
		for _, i := range batch {
			if _, err := h.PerExampleGradient(g, rows[i], y[i]); err != nil {
				t.Fatal(err)
			}
			f := 1.0
			if clip > 0 {
				n := math.Sqrt(sumSq(g))
				if n > clip {
					clippedWant++
				}
				f = math.Min(1, clip/(n+clipEpsilon))
			}
			axpy(want, f, g)
		}
		tr := NewLinearTrainer(h)
		_, clipped := tr.accumulate(SliceRows(rows), y, batch, clip, false)
		if clipped != clippedWant {
			t.Errorf("clip %g: %d clipped, want %d", clip, clipped, clippedWant)
		}
		for j := range want {
			if math.Abs(tr.sum[j]-want[j]) > 1e-12 {
				t.Fatalf("clip %g: sum[%d] = %g, want %g", clip, j, tr.sum[j], want[j])
			}
		}
		if clip == 0.3 && clippedWant == 0 {
			t.Fatal("test does not exercise clipping")
		}
	}
}

// FedAvg of linear heads is exact: the head with the weighted average of
// the parameters has, on every input, the weighted average of the logits.
func TestLinearFedAvgIsExact(t *testing.T) {
	rows, _ := sparseText(20, 50, 5, 5)
	heads := []*LinearHead{newHead(t, 50, 5), newHead(t, 50, 5), newHead(t, 50, 5)}
	w := []float64{0.5, 0.3, 0.2}
	avg := make([]float64, heads[0].NumParams())
	for i, h := range heads {
		randomise(t, h, uint64(10+i))
		axpy(avg, w[i], h.Params())
	}
	m := newHead(t, 50, 5)
	if err := m.SetParams(avg); err != nil {
		t.Fatal(err)
	}
	z, zi := make([]float64, 5), make([]float64, 5)
	for _, r := range rows {
		want := make([]float64, 5)
		for i, h := range heads {
			h.logits(zi, r)
			axpy(want, w[i], zi)
		}
		m.logits(z, r)
		for o := range z {
			if math.Abs(z[o]-want[o]) > 1e-12 {
				t.Fatalf("logit %d of averaged head %g, average of logits %g", o, z[o], want[o])
			}
		}
	}
}

// Attack on the normalisation (issue #13): the released step of DP-SGD on
// neighbouring data sets (one record removed) must differ by at most
// lr·C/B for the public expected batch B. Dividing by q·n instead, n the
// private record count, fails this: removing a record also rescales every
// other record's contribution.
func TestLinearDPStepSensitivityUsesPublicBatch(t *testing.T) {
	rows, y := sparseText(41, 32, 2, 6)
	// Forty records of class 0 and the removed one of class 1: its
	// gradient points away from the others'.
	for i := range y {
		y[i] = 0
	}
	y[40] = 1
	const clip, lr, batch = 1.0, 1.0, 20.0
	step := func(rows []SparseRow, y []int) []float64 {
		h := newHead(t, 32, 2)
		tr := NewLinearTrainer(h)
		// q = 1 samples every record; the noise (tiny here, identical
		// draws from the same seed) cancels in the difference.
		cfg := LinearTrainConfig{Steps: 1, LearningRate: lr, Optimizer: OptimizerSGD, Private: true,
			SampleRate: 1, ClipNorm: clip, NoiseMultiplier: 1e-9, ExpectedBatch: batch}
		if _, err := tr.Train(rows, y, cfg, testRand(t, 9)); err != nil {
			t.Fatal(err)
		}
		return h.Params()
	}
	a, b := step(rows, y), step(rows[:40], y[:40])
	var d float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
	}
	d = math.Sqrt(d)
	if bound := lr * clip / batch; d > bound*(1+1e-6) {
		t.Fatalf("neighbouring steps differ by %g > lr·C/B = %g", d, bound)
	}
	if d < 0.5*lr*clip/batch {
		t.Fatalf("neighbouring steps differ by only %g: the removed record should move the step", d)
	}
	// The same two data sets normalised by q·n (the leak): the difference
	// exceeds the bound, so the check above can fail.
	sum := func(rows []SparseRow, y []int) []float64 {
		tr := NewLinearTrainer(newHead(t, 32, 2))
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		tr.accumulate(SliceRows(rows), y, idx, clip, false)
		return tr.sum
	}
	sa, sb := sum(rows, y), sum(rows[:40], y[:40])
	var leak float64
	for i := range sa {
		v := sa[i]/41 - sb[i]/40
		leak += v * v
	}
	if math.Sqrt(leak)*lr <= lr*clip/41 {
		t.Fatalf("q·n normalisation gives %g, within the bound: the attack data are too weak", math.Sqrt(leak))
	}
}

func TestLinearTrainConfigNeedsPublicBatch(t *testing.T) {
	cfg := LinearTrainConfig{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1}
	if err := cfg.Check(); err == nil {
		t.Fatal("private config without an expected batch size accepted")
	}
	cfg.ExpectedBatch = 10
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []LinearTrainConfig{
		{Steps: 1, LearningRate: math.NaN(), BatchSize: 1},
		{Steps: 1, LearningRate: 1, BatchSize: 0},
		{Steps: 1, LearningRate: 1, BatchSize: 1, Optimizer: "lion"},
		{Steps: 1, LearningRate: 1, Private: true, SampleRate: 1.5, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 1},
		{Steps: 1, LearningRate: 1, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: math.Inf(1), ExpectedBatch: 1},
	} {
		if bad.Check() == nil {
			t.Errorf("bad config accepted: %+v", bad)
		}
	}
}

// The noise is on every coordinate: with no data signal (every gradient
// clipped to nothing by a huge batch denominator) one SGD step moves each
// parameter by lr·N(0, (zC)²)/B.
func TestLinearDPNoiseScale(t *testing.T) {
	rows, y := sparseText(10, 400, 5, 8)
	h := newHead(t, 400, 5)
	const z, c, b = 2.0, 0.5, 4.0
	tr := NewLinearTrainer(h)
	cfg := LinearTrainConfig{Steps: 1, LearningRate: 1, Optimizer: OptimizerSGD, Private: true, SampleRate: 1e-9,
		ClipNorm: c, NoiseMultiplier: z, ExpectedBatch: b}
	if _, err := tr.Train(rows, y, cfg, testRand(t, 1)); err != nil {
		t.Fatal(err)
	}
	p := h.Params()
	sd := math.Sqrt(sumSq(p) / float64(len(p)))
	if want := z * c / b; math.Abs(sd-want) > 0.05*want {
		t.Fatalf("per-coordinate noise std %g, want %g", sd, want)
	}
}

func TestLinearTrainingLearns(t *testing.T) {
	rows, y := sparseText(2000, 512, 8, 11)
	test, ty := sparseText(800, 512, 8, 11) // same keywords (seed), fresh rows
	test, ty = test[400:], ty[400:]
	acc := func(h *LinearHead) float64 {
		m, err := h.Evaluate(test, ty)
		if err != nil {
			t.Fatal(err)
		}
		return m.Accuracy()
	}
	fit := newHead(t, 512, 8)
	if err := FitLinear(fit, rows, y, FitOptions{}); err != nil {
		t.Fatal(err)
	}
	dp := newHead(t, 512, 8)
	cfg := LinearTrainConfig{Steps: 300, LearningRate: 0.05, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 100}
	if _, err := NewLinearTrainer(dp).Train(rows, y, cfg, testRand(t, 12)); err != nil {
		t.Fatal(err)
	}
	a, b := acc(fit), acc(dp)
	t.Logf("accuracy: FitLinear %.3f, DP-Adam %.3f (chance 0.125)", a, b)
	if a < 0.9 || b < 0.7 {
		t.Fatalf("FitLinear %.3f (want ≥ 0.9), DP-Adam %.3f (want ≥ 0.7)", a, b)
	}
}

// FitLinear reaches the minimum: the gradient of the regularised objective
// vanishes at its result.
func TestFitLinearConverges(t *testing.T) {
	rows, y := sparseText(300, 64, 4, 13)
	h := newHead(t, 64, 4)
	const c = 10.0
	if err := FitLinear(h, rows, y, FitOptions{C: c, MaxIterations: 2000}); err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, h.NumParams())
	g := make([]float64, h.NumParams())
	for i, r := range rows {
		if _, err := h.PerExampleGradient(g, r, y[i]); err != nil {
			t.Fatal(err)
		}
		axpy(grad, 1/float64(len(rows)), g)
	}
	p := h.Params()
	nw := h.Config().InputDim * h.Config().Classes
	for i := range nw {
		grad[i] += p[i] / (c * float64(len(rows)))
	}
	if m := maxAbs(grad); m > 1e-6 {
		t.Fatalf("objective gradient at FitLinear's result has max entry %g", m)
	}
	if maxAbs(p) < 0.5 {
		t.Fatal("FitLinear did not move the parameters")
	}
}

func TestLinearRejectsBadInput(t *testing.T) {
	h := newHead(t, 10, 3)
	bad := []SparseRow{{Idx: []int32{3, 2}, Val: []float64{1, 1}}}
	if _, err := h.Predict(bad); err == nil {
		t.Error("unsorted indices accepted")
	}
	if _, err := h.Predict([]SparseRow{{Idx: []int32{10}, Val: []float64{1}}}); err == nil {
		t.Error("index outside the dimension accepted")
	}
	if _, err := h.Predict([]SparseRow{{Idx: []int32{1}, Val: []float64{math.NaN()}}}); err == nil {
		t.Error("NaN value accepted")
	}
	if err := h.SetParams(make([]float64, 5)); err == nil {
		t.Error("short parameter vector accepted")
	}
	if _, err := NewLinearHead(LinearConfig{InputDim: 10, Classes: 1}); err == nil {
		t.Error("one class accepted")
	}
	if _, err := NewLinearTrainer(h).Train([]SparseRow{{}}, []int{3}, LinearTrainConfig{Steps: 1, LearningRate: 1, BatchSize: 1}, testRand(t, 1)); err == nil {
		t.Error("label out of range accepted")
	}
}

// A tenant with no records still releases a noised update when training
// privately (an error or a zero update would tell it from a tenant with
// one record); without DP there is nothing to train on.
func TestLinearPrivateTrainingWithoutExamplesIsNoiseOnly(t *testing.T) {
	h := newHead(t, 16, 3)
	cfg := LinearTrainConfig{Steps: 3, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 4}
	if _, err := NewLinearTrainer(h).Train(nil, nil, cfg, testRand(t, 2)); err != nil {
		t.Fatalf("private training without examples: %v", err)
	}
	if maxAbs(h.Params()) == 0 {
		t.Fatal("private training without examples left the parameters exactly unchanged")
	}
	if _, err := NewLinearTrainer(h).Train(nil, nil, LinearTrainConfig{Steps: 1, LearningRate: 0.1, BatchSize: 1}, testRand(t, 2)); err == nil {
		t.Fatal("non-private training without examples accepted")
	}
}
