package models

import (
	"errors"
	"math"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func testRand(t testing.TB, seed uint64) *mrand.Rand {
	t.Helper()
	rng, err := privacy.NewRand(privacy.SeededReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	return rng
}

// blobs returns n unit-norm inputs of dimension din in k classes: class
// centres are random unit vectors plus noise.
func blobs(n, din, k int, seed uint64) ([][]float64, []int) {
	rng := mrand.New(mrand.NewPCG(seed, 1))
	centres := make([][]float64, k)
	for c := range centres {
		centres[c] = make([]float64, din)
		for j := range centres[c] {
			centres[c][j] = rng.NormFloat64()
		}
	}
	x := make([][]float64, n)
	y := make([]int, n)
	for i := range x {
		y[i] = i % k
		x[i] = make([]float64, din)
		for j := range x[i] {
			x[i][j] = centres[y[i]][j] + 0.8*rng.NormFloat64()
		}
		s := math.Sqrt(sumSq(x[i]))
		for j := range x[i] {
			x[i][j] /= s
		}
	}
	return x, y
}

func accuracy(t *testing.T, c *Classifier, f [][]float64, y []int) float64 {
	t.Helper()
	cm, err := c.Evaluate(f, y)
	if err != nil {
		t.Fatal(err)
	}
	return cm.Accuracy()
}

func TestTrainNonPrivateAndPrivate(t *testing.T) {
	x, y := blobs(600, 64, 4, 1)
	for _, trainA := range []bool{false, true} {
		for _, private := range []bool{false, true} {
			c, err := NewClassifier(ClassifierConfig{InputDim: 64, Rank: 8, Classes: 4, Seed: 7, TrainA: trainA})
			if err != nil {
				t.Fatal(err)
			}
			f, err := c.Project(x)
			if err != nil {
				t.Fatal(err)
			}
			cfg := TrainConfig{Steps: 150, LearningRate: 0.5, Momentum: 0.5, BatchSize: 32}
			if private {
				cfg.Private, cfg.SampleRate, cfg.ClipNorm, cfg.NoiseMultiplier = true, 0.1, 1, 1
				cfg.ExpectedBatch = 0.1 * float64(len(f))
			}
			st, err := c.Train(f, y, cfg, testRand(t, 2))
			if err != nil {
				t.Fatal(err)
			}
			acc := accuracy(t, c, f, y)
			t.Logf("trainA=%v private=%v acc=%.5f loss=%.6f examples=%d clipped=%.2f", trainA, private, acc, st.MeanLoss, st.Examples, st.ClippedFraction)
			if acc < 0.9 {
				t.Errorf("trainA=%v private=%v: accuracy %.3f < 0.9", trainA, private, acc)
			}
			if st.Steps != 150 || (!private && st.Examples != 150*32) {
				t.Errorf("stats %+v", st)
			}
			if private && (st.Examples < 150*60*8/10 || st.Examples > 150*60*12/10) {
				t.Errorf("Poisson batches: %d examples, expected about %d", st.Examples, 150*60)
			}
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	x, y := blobs(200, 32, 3, 3)
	run := func() []float64 {
		c, _ := NewClassifier(ClassifierConfig{InputDim: 32, Rank: 4, Classes: 3, Seed: 1})
		f, _ := c.Project(x)
		cfg := TrainConfig{Steps: 20, LearningRate: 0.3, Private: true, SampleRate: 0.2, ClipNorm: 0.5, NoiseMultiplier: 1.1, ExpectedBatch: 40}
		if _, err := c.Train(f, y, cfg, testRand(t, 9)); err != nil {
			t.Fatal(err)
		}
		return c.Params()
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("param %d differs: %v vs %v", i, a[i], b[i])
		}
	}
	if IsZero(a) {
		t.Fatal("training changed nothing")
	}
}

// TestPrivateNoiseScale checks the noise normalisation: with a zero learning
// signal (all examples clipped to nothing is impossible, so use q tiny) the
// update is noise N(0, (zC)²)/B per coordinate times the learning rate,
// with B the public ExpectedBatch whatever the number of examples N.
func TestPrivateNoiseScale(t *testing.T) {
	c, _ := NewClassifier(ClassifierConfig{InputDim: 16, Rank: 16, Classes: 40, Seed: 1})
	x := make([][]float64, 1000)
	for i := range x {
		x[i] = make([]float64, 16) // zero inputs: u = 0, only hb gets signal
	}
	y := make([]int, len(x))
	f, _ := c.Project(x)
	cfg := TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 1e-9, ClipNorm: 2, NoiseMultiplier: 3, ExpectedBatch: 1e-6}
	want := 3 * 2 / 1e-6                 // zC/B
	for _, n := range []int{1000, 500} { // the noise must not depend on N
		c, _ := NewClassifier(ClassifierConfig{InputDim: 16, Rank: 16, Classes: 40, Seed: 1})
		if _, err := c.Train(f[:n], y[:n], cfg, testRand(t, 4)); err != nil {
			t.Fatal(err)
		}
		b, _, _ := c.Tensor(TensorLoRAB)
		sd := math.Sqrt(sumSq(b) / float64(len(b)))
		if math.Abs(sd/want-1) > 0.15 { // 640 samples: relative sd error ≈ 3 %
			t.Fatalf("N=%d: noise sd %g, want %g", n, sd, want)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	c, _ := NewClassifier(ClassifierConfig{InputDim: 8, Rank: 2, Classes: 3})
	x, y := blobs(10, 8, 3, 1)
	f, _ := c.Project(x)
	rng := testRand(t, 1)
	good := TrainConfig{Steps: 1, LearningRate: 0.1, BatchSize: 4}
	bad := []TrainConfig{
		{Steps: -1, LearningRate: 0.1, BatchSize: 1},
		{Steps: 1, LearningRate: math.NaN(), BatchSize: 1},
		{Steps: 1, LearningRate: 0.1, BatchSize: 0},
		{Steps: 1, LearningRate: 0.1, Momentum: 1, BatchSize: 1},
		{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0, ClipNorm: 1, NoiseMultiplier: 1},
		{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: -1, NoiseMultiplier: 1},
		{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 0, ExpectedBatch: 1},
		{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1},
		{Steps: 1, LearningRate: 0.1, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: math.Inf(1)},
	}
	for _, cfg := range bad {
		if _, err := c.Train(f, y, cfg, rng); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if _, err := c.Train(f, y[:5], good, rng); err == nil {
		t.Error("label count mismatch accepted")
	}
	if _, err := c.Train(f, append([]int{3}, y[1:]...), good, rng); err == nil {
		t.Error("label out of range accepted")
	}
	if _, err := c.Train(x, y, good, rng); err == nil {
		t.Error("unprojected rows accepted")
	}
	if _, err := c.Train(f, y, good, nil); err == nil {
		t.Error("nil rng accepted")
	}
	before := c.Params()
	huge := TrainConfig{Steps: 50, LearningRate: 1e308, BatchSize: 10}
	if _, err := c.Train(f, y, huge, rng); !errors.Is(err, ErrDiverged) {
		t.Fatalf("divergence: %v", err)
	}
	after := c.Params()
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("parameters not restored after divergence")
		}
	}
}

// TestStepNoAllocs checks that a training step does not allocate.
func TestStepNoAllocs(t *testing.T) {
	c, _ := NewClassifier(ClassifierConfig{InputDim: 32, Rank: 8, Classes: 5})
	x, y := blobs(256, 32, 5, 1)
	f, _ := c.Project(x)
	tr := newTrainer(c)
	rng := testRand(t, 1)
	tr.batch = make([]int, 0, 256)
	allocs := testing.AllocsPerRun(20, func() {
		tr.batch = privacy.PoissonSample(len(f), 0.5, rng, tr.batch)
		tr.accumulate(f, y, tr.batch, 1)
		privacy.AddGaussian(tr.sum, 1, rng)
		tr.apply(128, 0.1, 0.9)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per step", allocs)
	}
}

// TestPrivateTrainingIgnoresUnnoisedLoss: issue #13 finding 6. Whether a
// private run goes on must not depend on the un-noised loss of private
// examples: one record whose loss is not finite contributes nothing and
// training continues (formerly the non-finite loss sum aborted it with
// ErrDiverged). Non-private training still stops on it.
func TestPrivateTrainingIgnoresUnnoisedLoss(t *testing.T) {
	c, _ := NewClassifier(ClassifierConfig{InputDim: 8, Rank: 8, Classes: 3, Seed: 1})
	x, y := blobs(30, 8, 3, 1)
	f, _ := c.Project(x)
	f[0] = slices.Clone(f[0])
	for i := range f[0] {
		f[0][i] = math.Inf(1) // this record's logits and loss are not finite
	}
	cfg := TrainConfig{Steps: 5, LearningRate: 0.1, Private: true, SampleRate: 1, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 30}
	if _, err := c.Train(f, y, cfg, testRand(t, 3)); err != nil {
		t.Fatalf("private training stopped on an un-noised loss: %v", err)
	}
	for _, p := range c.Params() {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			t.Fatal("a non-finite record leaked into the parameters")
		}
	}
	if _, err := c.Train(f, y, TrainConfig{Steps: 5, LearningRate: 0.1, BatchSize: 30}, testRand(t, 3)); !errors.Is(err, ErrDiverged) {
		t.Fatalf("non-private training on the same data: %v, want ErrDiverged", err)
	}
}
