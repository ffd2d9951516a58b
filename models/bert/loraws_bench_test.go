package bert

import (
	"runtime"
	"sync"
	"testing"
)

// BenchmarkLoRAPerExample compares, in one run, three ways to compute the
// per-example gradients of a batch of 32 sequences of 32 tokens, LoRA rank
// 8 in the top 2 layers of the bge-small-zh-v1.5 shape, on GOMAXPROCS
// workers: Forward/Backward (float64, fresh buffers per record),
// ForwardWith on a float64 workspace per worker, and on a mixed-precision
// one (float32 frozen products). Compare ns/op and allocs/op.
func BenchmarkLoRAPerExample(b *testing.B) {
	l, ids, xs, up, _ := benchLoRA(b)
	workers := runtime.GOMAXPROCS(0)
	grads := make([][]float64, workers)
	for w := range grads {
		grads[w] = make([]float64, l.NumParams())
	}
	for _, c := range []struct {
		name  string
		ws    bool
		mixed bool
	}{{"forward_backward_float64", false, false}, {"workspace_float64", true, false}, {"workspace_mixed", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			wss := make([]*Workspace, workers)
			for w := range wss {
				wss[w] = l.NewWorkspace(c.mixed)
			}
			for b.Loop() {
				var wg sync.WaitGroup
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for ex := w; ex < len(xs); ex += workers {
							var tape *Tape
							var err error
							if c.ws {
								_, tape, err = l.ForwardWith(wss[w], xs[ex], len(ids[ex]))
							} else {
								_, tape, err = l.Forward(xs[ex], len(ids[ex]))
							}
							if err == nil {
								err = l.Backward(grads[w], tape, up)
							}
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			}
		})
	}
}
