package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTrainTestSplit(t *testing.T) {
	ex := numbered(2000, 7)
	key := SimulationSplitKey(3, 0)
	train, test := TrainTestSplit(ex, 0.2, key)
	checkPartition(t, ex, [][]Example{train, test})
	// Binomial(2000, 0.2): mean 400, sd ≈ 17.9; ±5 sd.
	if len(test) < 310 || len(test) > 490 {
		t.Errorf("test has %d of %d examples, want about 20%%", len(test), len(ex))
	}
	train2, test2 := TrainTestSplit(ex, 0.2, key)
	if !slices.Equal(train, train2) || !slices.Equal(test, test2) {
		t.Error("same key, different split")
	}
	_, test3 := TrainTestSplit(ex, 0.2, SimulationSplitKey(3, 1))
	if slices.Equal(test, test3) {
		t.Error("another tenant's key gave the same split")
	}
	for _, f := range []float64{0, -1, math.NaN()} {
		if tr, te := TrainTestSplit(ex, f, key); len(tr) != len(ex) || len(te) != 0 {
			t.Errorf("fraction %v: want everything in train", f)
		}
	}
	if tr, te := TrainTestSplit(ex, 1, key); len(tr) != 0 || len(te) != len(ex) {
		t.Error("fraction 1: want everything in test")
	}
	// The line number is not part of a record's identity.
	moved := slices.Clone(ex)
	for i := range moved {
		moved[i].Line += 17
	}
	_, testMoved := TrainTestSplit(moved, 0.2, key)
	if len(testMoved) != len(test) {
		t.Errorf("shifting line numbers changed the test part: %d vs %d records", len(testMoved), len(test))
	}
	if key.Derive("val") == key || key.Derive("val") != key.Derive("val") || key.Derive("val") == key.Derive("x") {
		t.Error("Derive is not a deterministic function of (key, purpose)")
	}
}

// side maps each record's text to whether it is held out.
func side(test []Example) map[string]bool {
	m := map[string]bool{}
	for _, e := range test {
		m[e.Text] = true
	}
	return m
}

// movedBy counts the records other than removed whose side differs between
// the split of ex and the split of ex without record removed.
func movedBy(ex []Example, removed int, split func([]Example) (train, test []Example)) int {
	_, test := split(ex)
	_, test2 := split(slices.Delete(slices.Clone(ex), removed, removed+1))
	a, b := side(test), side(test2)
	n := 0
	for i, e := range ex {
		if i != removed && a[e.Text] != b[e.Text] {
			n++
		}
	}
	return n
}

// shuffleSplit is the previous TrainTestSplit (a seeded shuffle of each
// label's records, round(f·n) to test), kept here as the reference the
// neighbour test must catch.
func shuffleSplit(ex []Example, f float64, seed uint64) (train, test []Example) {
	r := rand.New(rand.NewPCG(seed, 0x7472616e74657374))
	isTest := make([]bool, len(ex))
	_, groups := groupByLabel(ex)
	for _, g := range groups {
		n := len(g)
		k := int(math.Round(f * float64(n)))
		if n >= 2 {
			k = min(max(k, 1), n-1)
		} else {
			k = 0
		}
		for _, j := range r.Perm(n)[:k] {
			isTest[g[j]] = true
		}
	}
	for i, e := range ex {
		if isTest[i] {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	return train, test
}

// TestSplitKeepsNeighboursNeighbours attacks finding 1 of issue #13: the
// split of a data set and of the data set with one record removed must
// put every other record on the same side, or add/remove-one neighbours
// stop being neighbours after the split.
func TestSplitKeepsNeighboursNeighbours(t *testing.T) {
	ex := numbered(1200, 15)
	key := SimulationSplitKey(7, 2)
	keyed := func(e []Example) ([]Example, []Example) { return TrainTestSplit(e, 0.2, key) }
	old := func(e []Example) ([]Example, []Example) { return shuffleSplit(e, 0.2, 1) }
	r := rand.New(rand.NewPCG(1, 2))
	oldMoved, oldMax := 0, 0
	for range 20 {
		i := r.IntN(len(ex))
		if n := movedBy(ex, i, keyed); n != 0 {
			t.Fatalf("removing record %d moved %d other records between train and test", i, n)
		}
		n := movedBy(ex, i, old)
		oldMoved += n
		oldMax = max(oldMax, n)
	}
	t.Logf("the shuffle split moved %d other records on average over 20 removals (max %d of %d)", oldMoved/20, oldMax, len(ex)-1)
	if oldMoved/20 < 50 {
		t.Errorf("the reference shuffle split moved only %d records on average: the test no longer shows the old leak", oldMoved/20)
	}
	// Changing a record (replace-one) moves at most that record.
	changed := slices.Clone(ex)
	changed[10].Text = "a different record"
	_, a := keyed(ex)
	_, b := keyed(changed)
	sa, sb := side(a), side(b)
	for i, e := range ex {
		if i != 10 && sa[e.Text] != sb[e.Text] {
			t.Fatalf("changing record 10 moved record %d", i)
		}
	}
}
