package recommend

import (
	"fmt"
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
)

// Tower is the shared, federated part of the product tower: v = W·x for a
// product's frozen text features x (length P); W is K×P, row-major.
type Tower struct {
	K, P int
	W    []float64
}

// NewTower returns a tower initialised to a public seed-derived Rademacher
// matrix (entries ±1/√K, so ‖W·x‖ ≈ ‖x‖): every tenant starts from the same
// W without any data.
func NewTower(k, p int, seed uint64) (*Tower, error) {
	if k < 1 || p < 1 || k*p > 1<<24 {
		return nil, fmt.Errorf("recommend: tower shape %d×%d not allowed", k, p)
	}
	return &Tower{K: k, P: p, W: forecast.RademacherProjection("fedb2b/recommend/tower-init/v1", seed, k, p)}, nil
}

// Embed writes W·x into dst (length K).
func (t *Tower) Embed(dst, x []float64) {
	if len(dst) != t.K || len(x) != t.P {
		panic("recommend: Embed: wrong lengths")
	}
	for k := 0; k < t.K; k++ {
		row := t.W[k*t.P : (k+1)*t.P]
		var s float64
		for j, v := range x {
			s += row[j] * v
		}
		dst[k] = s
	}
}

// EmbedAll returns W·x for every row of x.
func (t *Tower) EmbedAll(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, xi := range x {
		out[i] = make([]float64, t.K)
		t.Embed(out[i], xi)
	}
	return out
}

// Local is what a tenant keeps to itself: one vector per customer (length
// K). It is trained on the tenant's server and never leaves it.
type Local struct {
	U [][]float64
}

// InitLocal sets each customer's vector to the mean embedding of the
// products it bought (a function of its own purchases and the public tower
// only).
func InitLocal(t *Tower, x [][]float64, td *TenantData) *Local {
	v := make([]float64, t.K)
	l := &Local{U: make([][]float64, len(td.Train))}
	for c, items := range td.Train {
		u := make([]float64, t.K)
		for _, p := range items {
			t.Embed(v, x[p])
			for k := range u {
				u[k] += v[k] / float64(len(items))
			}
		}
		l.U[c] = u
	}
	return l
}

// TrainConfig sets up local training of the tower and the customer vectors
// with the BPR loss −log σ(u·W(x⁺−x⁻)).
type TrainConfig struct {
	Steps        int
	LearningRate float64 // tower
	CustomerRate float64 // customer vectors
	PairsPerCust int     // (positive, negative) pairs per sampled customer
	// Privacy unit: a customer. Each step samples customers (Poisson, rate
	// SampleRate); a customer's tower gradient (mean over its pairs) is
	// clipped to ClipNorm and N(0, (NoiseMultiplier·ClipNorm)²) is added
	// to every coordinate of the sum. Without Private no clipping or noise.
	Private                               bool
	SampleRate, ClipNorm, NoiseMultiplier float64
	// ExpectedBatch divides every private step's noised sum of customer
	// gradients: a public constant of the plan, never q·N of the tenant's
	// own number of customers (which the noise scale would then reveal).
	// Without Private the divisor is q·N.
	ExpectedBatch float64
}

// Check validates c.
func (c TrainConfig) Check() error {
	if c.Steps < 0 || !(c.LearningRate > 0) || !(c.CustomerRate >= 0) || c.PairsPerCust < 1 {
		return fmt.Errorf("recommend: invalid training config: steps %d, rates %v/%v, pairs %d", c.Steps, c.LearningRate, c.CustomerRate, c.PairsPerCust)
	}
	if !(c.SampleRate > 0 && c.SampleRate <= 1) {
		return fmt.Errorf("recommend: sample rate %v outside (0, 1]", c.SampleRate)
	}
	if c.Private && (!(c.ClipNorm > 0) || !(c.NoiseMultiplier > 0)) {
		return fmt.Errorf("recommend: DP training needs C > 0 and z > 0, got %v and %v", c.ClipNorm, c.NoiseMultiplier)
	}
	if c.Private && (!(c.ExpectedBatch > 0) || math.IsInf(c.ExpectedBatch, 0)) {
		return fmt.Errorf("recommend: expected batch %v must be positive and finite (public: not q·N of the tenant's own N)", c.ExpectedBatch)
	}
	return nil
}

// TrainStats are local diagnostics of a Train call, computed from private
// data: do not release them.
type TrainStats struct {
	Steps     int     // steps taken
	Customers int     // customer gradients computed (sum of batch sizes)
	MeanLoss  float64 // mean BPR loss of the sampled pairs, before their step
	// ClippedFraction is the fraction of customer gradients whose norm
	// exceeded ClipNorm (private training only).
	ClippedFraction float64
}

// Train runs cfg.Steps steps on the tenant's purchases. x holds the frozen
// features of every catalog product. Customers without purchases are never
// sampled into a gradient (they contribute zero). All randomness comes from
// rng.
func Train(t *Tower, l *Local, x [][]float64, td *TenantData, cfg TrainConfig, rng *mrand.Rand) (TrainStats, error) {
	var st TrainStats
	if err := cfg.Check(); err != nil {
		return st, err
	}
	n := len(td.Train)
	if len(l.U) != n {
		return st, fmt.Errorf("recommend: %d customer vectors for %d customers", len(l.U), n)
	}
	// The catalogue size is public; the number of customers is not:
	// DP-SGD runs its steps (noise only) even without customers, else an
	// exactly-zero update tells an empty tenant from one with a customer.
	if len(x) < 2 || (n == 0 && !cfg.Private) {
		return st, nil
	}
	var loss float64
	pairs, clipped := 0, 0
	kp := t.K * t.P
	g := make([]float64, kp)
	gc := make([]float64, kp)
	gu := make([]float64, t.K)
	d := make([]float64, t.P)
	vd := make([]float64, t.K)
	var batch []int
	for step := 0; step < cfg.Steps; step++ {
		clear(g)
		batch = privacy.PoissonSample(n, cfg.SampleRate, rng, batch[:0])
		for _, c := range batch {
			items := td.Train[c]
			if len(items) == 0 {
				continue
			}
			u := l.U[c]
			clear(gc)
			clear(gu)
			for m := 0; m < cfg.PairsPerCust; m++ {
				pos := items[rng.IntN(len(items))]
				neg := rng.IntN(len(x))
				for try := 0; try < 5 && contains(items, neg); try++ {
					neg = rng.IntN(len(x))
				}
				for j := range d {
					d[j] = x[pos][j] - x[neg][j]
				}
				t.Embed(vd, d)
				var s float64
				for k := range u {
					s += u[k] * vd[k]
				}
				a := 1 / (1 + math.Exp(s)) // σ(−s) = −dL/ds
				loss += softplus(-s)       // −log σ(s)
				pairs++
				for k := range u {
					gu[k] -= a * vd[k]
					c := -a * u[k]
					if c == 0 {
						continue
					}
					row := gc[k*t.P : (k+1)*t.P]
					for j, dj := range d {
						row[j] += c * dj
					}
				}
			}
			inv := 1 / float64(cfg.PairsPerCust)
			for i := range gc {
				gc[i] *= inv
			}
			st.Customers++
			if cfg.Private && privacy.ClipL2(gc, cfg.ClipNorm) < 1 {
				clipped++
			}
			for i, v := range gc {
				g[i] += v
			}
			for k := range u {
				u[k] -= cfg.CustomerRate * gu[k] * inv
			}
		}
		if cfg.Private {
			privacy.AddGaussian(g, cfg.NoiseMultiplier*cfg.ClipNorm, rng)
		}
		denom := cfg.SampleRate * float64(n) // non-private only
		if cfg.Private {
			denom = cfg.ExpectedBatch
		}
		lr := cfg.LearningRate / denom
		for i := range t.W {
			t.W[i] -= lr * g[i]
		}
	}
	st.Steps = cfg.Steps
	if pairs > 0 {
		st.MeanLoss = loss / float64(pairs)
	}
	if st.Customers > 0 {
		st.ClippedFraction = float64(clipped) / float64(st.Customers)
	}
	for _, v := range t.W {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return st, fmt.Errorf("recommend: training diverged")
		}
	}
	return st, nil
}

// softplus is log(1+eˣ), computed without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func contains(sorted []int, v int) bool {
	lo, hi := 0, len(sorted)
	for lo < hi {
		m := (lo + hi) / 2
		if sorted[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(sorted) && sorted[lo] == v
}

// Scores returns the ranking scores of every catalog product for a
// customer with vector u: u·v_p + beta·log1p(pop_p) + gamma·[p ∈ bought],
// where v are the tower's product vectors, pop the tenant's own popularity
// counts and bought the customer's earlier purchases (sorted); all are local
// at ranking time.
func Scores(u []float64, v [][]float64, pop []float64, bought []int, beta, gamma float64) []float64 {
	s := make([]float64, len(v))
	for p, vp := range v {
		var dot float64
		for k, uk := range u {
			dot += uk * vp[k]
		}
		s[p] = dot
		if beta != 0 {
			s[p] += beta * math.Log1p(pop[p])
		}
	}
	for _, p := range bought {
		s[p] += gamma
	}
	return s
}
