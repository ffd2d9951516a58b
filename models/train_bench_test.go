package models

import (
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// BenchmarkStep compares one DP-SGD step (per-example clipping + Gaussian
// noise) with one non-private step of the same adapter on the same batch.
// Run: go test -run XXX -bench Step -benchmem -benchtime 200x ./models/
// and compare the private/non-private ns/op at each size.
func BenchmarkStep(b *testing.B) {
	sizes := []struct{ r, dout, batch int }{{16, 12, 64}, {64, 20, 256}, {256, 77, 1024}}
	for _, sz := range sizes {
		c, err := NewClassifier(ClassifierConfig{InputDim: 512, Rank: sz.r, Classes: sz.dout, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		src := mrand.New(mrand.NewPCG(1, 2))
		f := make([][]float64, sz.batch)
		y := make([]int, sz.batch)
		for i := range f {
			f[i] = make([]float64, sz.r)
			for k := range f[i] {
				f[i][k] = src.NormFloat64() / 4
			}
			y[i] = i % sz.dout
		}
		batch := make([]int, sz.batch)
		for i := range batch {
			batch[i] = i
		}
		for _, private := range []bool{false, true} {
			name := fmt.Sprintf("r=%d,dout=%d,batch=%d/private=%v", sz.r, sz.dout, sz.batch, private)
			b.Run(name, func(b *testing.B) {
				tr := newTrainer(c)
				rng, _ := privacy.NewRand(privacy.SeededReader(3))
				b.ReportAllocs()
				for b.Loop() {
					if private {
						tr.accumulate(f, y, batch, 1)
						privacy.AddGaussian(tr.sum, 1, rng)
					} else {
						tr.accumulate(f, y, batch, 0)
					}
					tr.apply(float64(sz.batch), 1e-3, 0.9)
				}
			})
		}
	}
}

// BenchmarkProject measures the one-time projection of hashed inputs
// (sparse, about 150 non-zeros of 4096) to rank 128.
func BenchmarkProject(b *testing.B) {
	enc := mustHashing(b, HashingConfig{})
	x, _ := enc.Encode(b.Context(), []string{
		"Wholesale of industrial machinery and equipment, except electrical",
		"Software publishers (except video game publishers)",
	})
	c, _ := NewClassifier(ClassifierConfig{InputDim: enc.Dim(), Rank: DefaultRank, Classes: 20})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Project(x); err != nil {
			b.Fatal(err)
		}
	}
}
