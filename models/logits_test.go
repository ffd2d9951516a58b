package models

import (
	"math"
	"testing"
)

// Logits are the scores before the softmax: softmax(Logits) = Scores.
func TestLogitsSoftmaxIsScores(t *testing.T) {
	c, err := NewClassifier(ClassifierConfig{InputDim: 6, Rank: 3, Classes: 4, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Params()
	for i := range p {
		p[i] = math.Sin(float64(i))
	}
	if err := c.SetParams(p); err != nil {
		t.Fatal(err)
	}
	f, _ := c.Project([][]float64{{1, 0, 2, 0, -1, 0.5}, {0, 3, 0, 0, 1, 0}})
	z, err := c.Logits(f)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Scores(f)
	for i, row := range z {
		var sum float64
		for _, v := range row {
			sum += math.Exp(v)
		}
		for k, v := range row {
			if math.Abs(math.Exp(v)/sum-s[i][k]) > 1e-12 {
				t.Fatalf("row %d class %d: softmax %v, score %v", i, k, math.Exp(v)/sum, s[i][k])
			}
		}
	}
	if _, err := c.Logits([][]float64{{1}}); err == nil {
		t.Fatal("short row accepted")
	}
}
