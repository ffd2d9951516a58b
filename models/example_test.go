package models_test

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/privacy"
)

// A tenant's local pipeline: encode, project once, train with DP-SGD,
// predict, evaluate.
func Example() {
	texts := []string{
		"steel pipe wholesale", "钢管批发", "industrial steel distributor", "steel wholesale trade",
		"software development services", "软件开发", "custom software programming", "software consulting",
	}
	labels := []int{0, 0, 0, 0, 1, 1, 1, 1}
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 1024})
	x, _ := enc.Encode(context.Background(), texts)
	clf, _ := models.NewClassifier(models.ClassifierConfig{InputDim: enc.Dim(), Rank: 16, Classes: 2, Seed: 42})
	u, _ := clf.Project(x) // once per example; training works on u

	rng, _ := privacy.NewRand(privacy.SeededReader(1)) // production: privacy.NewRand(crypto/rand.Reader)
	cfg := models.TrainConfig{Steps: 100, LearningRate: 1, Momentum: 0.5,
		Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 0.5,
		ExpectedBatch: 4} // public: fixed by the plan, not q·N of the tenant's N
	if _, err := clf.Train(u, labels, cfg, rng); err != nil {
		fmt.Println(err)
		return
	}
	q, _ := enc.Encode(context.Background(), []string{"steel wholesale", "软件"})
	qu, _ := clf.Project(q)
	pred, _ := clf.Predict(qu)
	cm, _ := clf.Evaluate(u, labels)
	fmt.Println(pred, cm.Accuracy(), clf.NumParams())
	// Output: [0 1] 1 34
}
