package secagg_test

import (
	"fmt"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

// Quantise four clients' updates, run a session in memory (complete graph,
// threshold 2) in which client 1 vanishes before sending its masked input,
// and decode the sum of the survivors' updates.
func Example() {
	updates := [][]float64{{0.5, -0.25}, {9, 9}, {0.125, 0.25}, {0, 0}}
	q := secagg.Quantizer{ClipNorm: 1, Scale: 1 << 16}
	if err := q.CheckRange(len(updates)); err != nil {
		fmt.Println(err)
		return
	}
	rng, _ := privacy.NewRand(privacy.SeededReader(1))
	inputs := make([][]uint32, len(updates))
	for i, u := range updates {
		inputs[i] = make([]uint32, len(u))
		st, _ := q.Quantize(inputs[i], u, rng)
		if st.Clipped {
			fmt.Printf("client %d clipped (norm %.2f)\n", i, st.Norm)
		}
	}
	cfg := secagg.SimConfig{Round: 1, Threshold: 2}
	sum, survivors, err := secagg.Simulate(cfg, inputs, map[int]secagg.Stage{1: secagg.StageMaskedInput}, privacy.SeededReader(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	out := make([]float64, len(sum))
	q.Decode(out, sum)
	fmt.Println("survivors:", survivors)
	fmt.Printf("sum: [%.3f %.3f]\n", out[0], out[1])
	// Output:
	// client 1 clipped (norm 12.73)
	// survivors: [0 2 3]
	// sum: [0.625 0.000]
}
