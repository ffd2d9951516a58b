package task

import (
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"sync"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/privacy"
)

// clipEps is added to a per-example norm before dividing, as in package
// models: factor = min(1, C/(‖g‖+clipEps)).
const clipEps = 1e-12

// parallel calls fn(worker, i) for i in [0, n) on up to GOMAXPROCS
// goroutines; worker w takes i = w, w+W, w+2W, … so that per-worker
// partial results combine in a fixed order. It returns the first error.
func parallel(n int, fn func(worker, i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := fn(w, i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// gradWorker holds one training goroutine's buffers, reused for every
// record it processes.
type gradWorker struct {
	ws        *bert.Workspace
	x         []float64 // the record's cached input in float64
	z, up     []float64 // logits, ∂loss/∂pooled
	grad, sum []float64
}

// mixedWorkspaces recycles the mixed-precision workspaces of Train calls
// (they hold a record's whole tape, megabytes at realistic shapes); a
// workspace does not depend on the adapter it served.
var mixedWorkspaces sync.Pool

func (l *EncoderLoRA) newGradWorker(mixed bool, np int) *gradWorker {
	var ws *bert.Workspace
	if mixed {
		ws, _ = mixedWorkspaces.Get().(*bert.Workspace)
	}
	if ws == nil {
		ws = l.lora.NewWorkspace(mixed)
	}
	return &gradWorker{ws: ws, z: make([]float64, l.k), up: make([]float64, l.h),
		grad: make([]float64, np), sum: make([]float64, np)}
}

// release returns a mixed worker's workspace to the pool.
func (wk *gradWorker) release() {
	if wk.ws.Mixed() {
		mixedWorkspaces.Put(wk.ws)
	}
	wk.ws = nil
}

// exampleGrad is exampleGradWith on fresh float64 buffers: the exact
// per-example gradient that the finite-difference tests check.
func (l *EncoderLoRA) exampleGrad(dst []float64, s hidden, y int) (float64, error) {
	return l.exampleGradWith(l.newGradWorker(false, 0), dst, s, y)
}

// exampleGradWith writes one record's gradient of the cross-entropy loss
// with respect to all parameters (Params layout) to dst and returns the
// loss, using wk's buffers and precision. With pooled vector v, logits
// z = W·v + b, probabilities p and g = p − e_y:
//
//	∂W = g·vᵀ,  ∂b = g,  ∂B = LoRA.Backward(dPooled = Wᵀ·g).
func (l *EncoderLoRA) exampleGradWith(wk *gradWorker, dst []float64, s hidden, y int) (float64, error) {
	if cap(wk.x) < len(s.x) {
		wk.x = make([]float64, len(s.x))
	}
	x := wk.x[:len(s.x)]
	for i, v := range s.x {
		x[i] = float64(v)
	}
	v, tape, err := l.lora.ForwardWith(wk.ws, x, s.t)
	if err != nil {
		return 0, err
	}
	z := wk.z
	l.logits(z, v)
	mx := z[0]
	for _, x := range z[1:] {
		mx = max(mx, x)
	}
	var se float64
	for _, x := range z {
		se += math.Exp(x - mx)
	}
	lse := mx + math.Log(se)
	loss := lse - z[y]
	dW, db := dst[l.nb:l.nb+len(l.w)], dst[l.nb+len(l.w):]
	up := wk.up
	clear(up)
	for o, x := range z {
		g := math.Exp(x - lse)
		if o == y {
			g--
		}
		db[o] = g
		row := l.w[o*l.h : (o+1)*l.h]
		for j, vj := range v {
			dW[o*l.h+j] = g * vj
			up[j] += g * row[j]
		}
	}
	if err := l.lora.Backward(dst[:l.nb], tape, up); err != nil {
		return 0, err
	}
	return loss, nil
}

// Train runs cfg.Steps steps on the cached training records, updating all
// parameters (LoRA B's and head) together.
//
// With cfg.Private it is DP-SGD as models.TrainConfig describes: Poisson
// sampling at q per step; per record, forward through the adapted layers
// and the head, cross-entropy, backward into the head and through the
// pooled vector into the B's; the whole per-record gradient (head and
// LoRA) clipped to L2 norm C; summed; N(0, (z·C)²) added to every
// coordinate from rng; divided by q·N; then an SGD (heavy-ball) step.
// The products with the adapted layers' frozen weights run in float32
// (bert.Workspace, mixed precision): per-example gradients differ from the
// float64 ones by ~1e-7 relative, far below the clipping and noise.
// Without it, the non-private baseline: fixed-size minibatches from a
// reshuffled permutation, no clipping or noise, divided by the batch size.
//
// If the loss or a parameter becomes NaN or infinite, the parameters are
// restored to their values before the call and the error wraps
// models.ErrDiverged. The stats are computed from private data: do not
// release them.
func (l *EncoderLoRA) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	if err := cfg.Check(); err != nil {
		return models.TrainStats{}, err
	}
	if rng == nil {
		return models.TrainStats{}, errors.New("task: train needs a random generator")
	}
	n := len(l.train)
	// DP-SGD runs its steps (noise only) without examples: failing would
	// tell a tenant with none from one with a single example.
	if n == 0 && !cfg.Private {
		return models.TrainStats{}, errors.New("task: no training examples with a label of the task")
	}
	before := l.Params()
	theta := l.Params()
	np := len(theta)
	workers := runtime.GOMAXPROCS(0)
	wks := make([]*gradWorker, workers)
	for w := range workers {
		wks[w] = l.newGradWorker(true, np)
		defer wks[w].release()
	}
	mom := make([]float64, np)
	losses, clips := make([]float64, workers), make([]int, workers)
	batches := models.NewBatches(cfg, n)
	var st models.TrainStats
	var lossSum float64
	var clipped int
	for range cfg.Steps {
		batch, denom, clip := batches.Next(rng)
		for _, wk := range wks {
			clear(wk.sum)
		}
		for w := range workers {
			losses[w], clips[w] = 0, 0
		}
		err := parallel(len(batch), func(w, bi int) error {
			i := batch[bi]
			wk := wks[w]
			loss, err := l.exampleGradWith(wk, wk.grad, l.train[i], l.trainY[i])
			if err != nil {
				return err
			}
			losses[w] += loss
			factor := 1.0
			if clip > 0 {
				var nn float64
				for _, g := range wk.grad {
					nn += g * g
				}
				norm := math.Sqrt(nn)
				if math.IsNaN(norm) || math.IsInf(norm, 0) {
					return nil // contributes nothing
				}
				if norm > clip {
					clips[w]++
				}
				factor = min(1, clip/(norm+clipEps))
			}
			for j, g := range wk.grad {
				wk.sum[j] += factor * g
			}
			return nil
		})
		if err != nil {
			_ = l.SetParams(before)
			return st, fmt.Errorf("task: training step %d: %w", st.Steps+1, err)
		}
		sum := wks[0].sum
		for w := 1; w < workers; w++ {
			for j, v := range wks[w].sum {
				sum[j] += v
			}
		}
		for w := range workers {
			lossSum += losses[w]
			clipped += clips[w]
		}
		if cfg.Private {
			privacy.AddGaussian(sum, cfg.NoiseMultiplier*cfg.ClipNorm, rng)
		}
		st.Examples += len(batch)
		st.Steps++
		if denom > 0 {
			for j := range theta {
				mom[j] = cfg.Momentum*mom[j] + sum[j]/denom
				theta[j] -= cfg.LearningRate * mom[j]
			}
		}
		// In private training only the (noised) parameters decide
		// divergence, never the un-noised loss of private examples (#13,
		// finding 6).
		lossBad := !cfg.Private && (math.IsNaN(lossSum) || math.IsInf(lossSum, 0))
		if lossBad || l.SetParams(theta) != nil {
			_ = l.SetParams(before)
			return st, fmt.Errorf("%w after %d steps (lower the learning rate)", models.ErrDiverged, st.Steps)
		}
	}
	if st.Examples > 0 {
		st.MeanLoss = lossSum / float64(st.Examples)
		if cfg.Private {
			st.ClippedFraction = float64(clipped) / float64(st.Examples)
		}
	}
	return st, nil
}
