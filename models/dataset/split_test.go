package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

// numbered returns n examples over k labels with unique texts.
func numbered(n, k int) []Example {
	ex := make([]Example, n)
	for i := range ex {
		ex[i] = Example{Text: fmt.Sprintf("t%d", i), Label: fmt.Sprintf("l%02d", i%k), Line: i + 2}
	}
	return ex
}

func checkPartition(t *testing.T, ex []Example, parts [][]Example) {
	t.Helper()
	seen := map[string]int{}
	for _, p := range parts {
		for _, e := range p {
			seen[e.Text]++
		}
		if !slices.IsSortedFunc(p, func(a, b Example) int { return a.Line - b.Line }) {
			t.Errorf("a part is not in input order")
		}
	}
	for _, e := range ex {
		if seen[e.Text] != 1 {
			t.Fatalf("example %q appears %d times in the parts", e.Text, seen[e.Text])
		}
	}
	if len(seen) != len(ex) {
		t.Fatalf("parts hold %d distinct examples, want %d", len(seen), len(ex))
	}
}

func TestSplitDirichletPartitionAndDeterminism(t *testing.T) {
	ex := numbered(1000, 10)
	for _, alpha := range []float64{1e-300, 0.01, 0.1, 1, 100, math.MaxFloat64} {
		a, err := SplitDirichlet(ex, 8, alpha, 5, SplitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 8 {
			t.Fatalf("alpha %v: %d parts, want 8", alpha, len(a))
		}
		checkPartition(t, ex, a)
		for i, p := range a {
			if len(p) < 1 {
				t.Errorf("alpha %v: tenant %d is empty", alpha, i)
			}
		}
		b, _ := SplitDirichlet(ex, 8, alpha, 5, SplitOptions{})
		for i := range a {
			if !slices.Equal(a[i], b[i]) {
				t.Fatalf("alpha %v: same seed, different split", alpha)
			}
		}
	}
	a, _ := SplitDirichlet(ex, 8, 1, 5, SplitOptions{})
	c, _ := SplitDirichlet(ex, 8, 1, 6, SplitOptions{})
	same := true
	for i := range a {
		same = same && slices.Equal(a[i], c[i])
	}
	if same {
		t.Error("different seeds gave the same split")
	}
}

func TestSplitDirichletSkewDecreasesWithAlpha(t *testing.T) {
	ex := numbered(2000, 10)
	alphas := []float64{0.05, 0.5, 5, 500}
	skews := make([]float64, len(alphas))
	sizeSpread := make([]float64, len(alphas))
	for i, alpha := range alphas {
		for seed := uint64(0); seed < 5; seed++ {
			parts, err := SplitDirichlet(ex, 10, alpha, seed, SplitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			skews[i] += LabelSkew(parts) / 5
			lo, hi := len(ex), 0
			for _, p := range parts {
				lo, hi = min(lo, len(p)), max(hi, len(p))
			}
			sizeSpread[i] += float64(hi-lo) / 5
		}
	}
	t.Logf("alpha %v: mean label skew %.3f, mean max-min tenant size %.0f", alphas, skews, sizeSpread)
	for i := 1; i < len(alphas); i++ {
		if !(skews[i] < skews[i-1]) || !(sizeSpread[i] < sizeSpread[i-1]) {
			t.Errorf("skew or size spread did not decrease from alpha %v to %v", alphas[i-1], alphas[i])
		}
	}
	if skews[0] < 0.6 || skews[len(skews)-1] > 0.05 {
		t.Errorf("skews %v: want > 0.6 at alpha 0.05 and < 0.05 at alpha 500", skews)
	}
}

func TestSplitDirichletMinPerTenant(t *testing.T) {
	ex := numbered(300, 3)
	for seed := uint64(0); seed < 20; seed++ {
		parts, err := SplitDirichlet(ex, 12, 0.05, seed, SplitOptions{MinPerTenant: 20})
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, ex, parts)
		for i, p := range parts {
			if len(p) < 20 {
				t.Fatalf("seed %d: tenant %d has %d examples, want >= 20", seed, i, len(p))
			}
		}
	}
	// Exactly enough: every tenant gets exactly the minimum.
	parts, err := SplitDirichlet(ex, 15, 0.1, 1, SplitOptions{MinPerTenant: 20})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		if len(p) != 20 {
			t.Fatalf("tenant %d has %d examples, want exactly 20", i, len(p))
		}
	}
}

func TestSplitDirichletErrors(t *testing.T) {
	ex := numbered(10, 2)
	for _, tc := range []struct {
		name    string
		tenants int
		alpha   float64
		min     int
	}{
		{"zero tenants", 0, 1, 0},
		{"negative tenants", -3, 1, 0},
		{"zero alpha", 2, 0, 0},
		{"negative alpha", 2, -1, 0},
		{"NaN alpha", 2, math.NaN(), 0},
		{"infinite alpha", 2, math.Inf(1), 0},
		{"more tenants than examples", 11, 1, 0},
		{"minimum too large", 3, 1, 4},
		{"negative minimum", 2, 1, -1},
	} {
		_, err := SplitDirichlet(ex, tc.tenants, tc.alpha, 1, SplitOptions{MinPerTenant: tc.min})
		if !errors.Is(err, ErrSplit) {
			t.Errorf("%s: err = %v, want ErrSplit", tc.name, err)
		}
	}
	if _, err := SplitDirichlet(nil, 1, 1, 1, SplitOptions{}); !errors.Is(err, ErrSplit) {
		t.Errorf("no examples: err = %v, want ErrSplit", err)
	}
	parts, err := SplitDirichlet(ex, 1, 1, 1, SplitOptions{})
	if err != nil || len(parts) != 1 || !slices.Equal(parts[0], ex) {
		t.Errorf("one tenant should get everything in order: %v, %v", parts, err)
	}
}

func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		p    []float64
		n    int
		want []int
	}{
		{[]float64{0.5, 0.5}, 3, []int{2, 1}},
		{[]float64{0.2, 0.3, 0.5}, 10, []int{2, 3, 5}},
		{[]float64{0.26, 0.37, 0.37}, 10, []int{2, 4, 4}},
		{[]float64{1, 0, 0}, 7, []int{7, 0, 0}},
		{[]float64{0.1, 0.9}, 0, []int{0, 0}},
	} {
		if got := apportion(tc.p, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("apportion(%v, %d) = %v, want %v", tc.p, tc.n, got, tc.want)
		}
	}
}

func TestDirichletMoments(t *testing.T) {
	// Dirichlet(a,...,a) over k: E p_i = 1/k, Var p_i = (k-1)/(k^2 (k a + 1)).
	r := newTestRand(9)
	const k, n = 4, 20000
	for _, a := range []float64{0.05, 0.5, 3} {
		var sum, sumSq float64
		for range n {
			p := dirichlet(r, a, k)
			var tot float64
			for _, x := range p {
				if x < 0 || math.IsNaN(x) {
					t.Fatalf("alpha %v: bad component %v", a, x)
				}
				tot += x
			}
			if math.Abs(tot-1) > 1e-9 {
				t.Fatalf("alpha %v: components sum to %v", a, tot)
			}
			sum += p[0]
			sumSq += p[0] * p[0]
		}
		mean := sum / n
		variance := sumSq/n - mean*mean
		wantVar := float64(k-1) / (k * k * (k*a + 1))
		if math.Abs(mean-0.25) > 0.01 || math.Abs(variance-wantVar) > 0.08*wantVar {
			t.Errorf("alpha %v: mean %.4f var %.5f, want 0.25 and %.5f", a, mean, variance, wantVar)
		}
	}
}

func TestGammaMean(t *testing.T) {
	// Gamma(s,1) has mean s and variance s.
	r := newTestRand(4)
	for _, s := range []float64{0.3, 1, 2.5, 10} {
		var sum, sumSq float64
		const n = 40000
		for range n {
			x := math.Exp(logGamma(r, s))
			sum += x
			sumSq += x * x
		}
		mean := sum / n
		variance := sumSq/n - mean*mean
		if math.Abs(mean-s) > 0.03*s+0.01 || math.Abs(variance-s) > 0.1*s {
			t.Errorf("shape %v: mean %.4f var %.4f, want %v for both", s, mean, variance, s)
		}
	}
}

func TestLabelIndex(t *testing.T) {
	a := []Example{{Label: "b"}, {Label: "a"}, {Label: ""}}
	b := []Example{{Label: "c"}, {Label: "a"}}
	names, index := LabelIndex(a, b)
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Fatalf("names = %v", names)
	}
	for i, n := range names {
		if index[n] != i {
			t.Errorf("index[%s] = %d, want %d", n, index[n], i)
		}
	}
	names2, _ := LabelIndex(b, a)
	if !slices.Equal(names, names2) {
		t.Error("order depends on argument order")
	}
	if names, index := LabelIndex(); len(names) != 0 || len(index) != 0 {
		t.Error("no examples should give no labels")
	}
}

func TestLabelSkew(t *testing.T) {
	iid := [][]Example{{{Label: "a"}, {Label: "b"}}, {{Label: "a"}, {Label: "b"}}}
	if s := LabelSkew(iid); s != 0 {
		t.Errorf("IID skew = %v, want 0", s)
	}
	disjoint := [][]Example{{{Label: "a"}, {Label: "a"}}, {{Label: "b"}, {Label: "b"}}}
	if s := LabelSkew(disjoint); math.Abs(s-0.5) > 1e-12 {
		// each part: TV(pure a, half/half) = 0.5
		t.Errorf("disjoint skew = %v, want 0.5", s)
	}
	if s := LabelSkew(nil); s != 0 {
		t.Errorf("empty skew = %v", s)
	}
}
