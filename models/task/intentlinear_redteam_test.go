package task

import (
	"context"
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
)

// TestRedteamIntentLinearSensitivityUnderHostileModel attacks the
// sensitivity the evaluation release is calibrated to (L0 = 1, LInf = 1:
// one message moves one bucket of one histogram by one) with what a lying
// coordinator controls — the evaluated model — and with awkward data:
//   - the model's weights all NaN, +Inf, −Inf, ±1e308, or one huge
//     weight (scores NaN, infinite or out of the public range): every
//     in-scope training message, held-out in-scope and held-out
//     out-of-scope message is still counted exactly once (the four
//     histograms sum to their number), so none is dropped or counted
//     twice whatever the coordinator sends;
//   - under each such model, one message more — a training message that
//     duplicates a held-out one, a held-out copy of a training message,
//     an out-of-scope training message (never trained on, never
//     counted), an empty message — moves at most one entry by one.
func TestRedteamIntentLinearSensitivityUnderHostileModel(t *testing.T) {
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	train, test := intentFixture()
	spec, initial, err := ClassifySpec(KindIntent, ClassifySetup{ID: "i", Labels: []string{"refund", "track_order"}, Adapter: AdapterLinear}, enc)
	if err != nil {
		t.Fatal(err)
	}
	stats := func(train, test []dataset.Example, p []float64) ([]int64, error) {
		l, err := NewIntent(enc, train, test, nil)(context.Background(), spec)
		if err != nil {
			return nil, err
		}
		if err := l.SetParams(p); err != nil {
			return nil, err
		}
		return l.EvalStats()
	}
	fill := func(v float64) []float64 {
		p := make([]float64, len(initial))
		for i := range p {
			p[i] = v
		}
		return p
	}
	oneHuge := append([]float64(nil), initial...)
	oneHuge[3] = 1e300
	hostile := map[string][]float64{"initial": initial, "NaN": fill(math.NaN()), "+Inf": fill(math.Inf(1)), "-Inf": fill(math.Inf(-1)),
		"+1e308": fill(1e308), "-1e308": fill(-1e308), "one huge weight": oneHuge}
	inTrain, inTest, oosTest := 0, 0, 0
	for _, e := range train {
		if e.Label != intent.OOSLabel {
			inTrain++
		}
	}
	for _, e := range test {
		if e.Label == intent.OOSLabel {
			oosTest++
		} else {
			inTest++
		}
	}
	neighbours := map[string][2][]dataset.Example{
		"training copy of a held-out message": {append(train[:len(train):len(train)], test[0]), test},
		"held-out copy of a training message": {train, append(test[:len(test):len(test)], train[0])},
		"out-of-scope training message":       {append(train[:len(train):len(train)], dataset.Example{Text: "book a flight", Label: intent.OOSLabel}), test},
		"empty held-out message":              {train, append(test[:len(test):len(test)], dataset.Example{Text: "", Label: "refund"})},
		"empty held-out out-of-scope message": {train, append(test[:len(test):len(test)], dataset.Example{Text: "", Label: intent.OOSLabel})},
	}
	for name, p := range hostile {
		s, err := stats(train, test, p)
		if err != nil {
			// Refusing a hostile model releases nothing: fine.
			t.Logf("model %s: refused: %v", name, err)
			continue
		}
		var sum int64
		for _, v := range s {
			if v < 0 {
				t.Errorf("model %s: negative count %d", name, v)
			}
			sum += v
		}
		if want := int64(inTrain + inTest + oosTest); sum != want {
			t.Errorf("model %s: the histograms count %d messages, the tenant holds %d (%d training in-scope, %d held-out in-scope, %d out-of-scope)",
				name, sum, want, inTrain, inTest, oosTest)
		}
		for nname, n := range neighbours {
			s2, err := stats(n[0], n[1], p)
			if err != nil {
				t.Logf("model %s, %s: refused: %v", name, nname, err)
				continue
			}
			moved, total := 0, int64(0)
			for i := range s {
				if d := s2[i] - s[i]; d != 0 {
					moved++
					total += max(d, -d)
				}
			}
			if moved > 1 || total > 1 {
				t.Errorf("model %s, one %s: %d entries moved, by %d in all (the release assumes one by one)", name, nname, moved, total)
			}
		}
	}
}
