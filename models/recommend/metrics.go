package recommend

import (
	"math"
	"strconv"
)

// RecallAt is |top-k ∩ relevant| / |relevant| for one customer (0 when
// nothing is relevant). ranked is the recommendation list, best first.
func RecallAt(k int, ranked []int, relevant map[int]bool) float64 {
	if len(relevant) == 0 {
		return 0
	}
	hits := 0
	for i, p := range ranked {
		if i >= k {
			break
		}
		if relevant[p] {
			hits++
		}
	}
	return float64(hits) / float64(len(relevant))
}

// NDCGAt is the normalised discounted cumulative gain at k with binary
// relevance: Σ_{i<k, ranked[i] relevant} 1/log2(i+2) divided by the same sum
// for an ideal list, Σ_{i<min(k,|relevant|)} 1/log2(i+2).
func NDCGAt(k int, ranked []int, relevant map[int]bool) float64 {
	var dcg, idcg float64
	for i, p := range ranked {
		if i >= k {
			break
		}
		if relevant[p] {
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	for i := 0; i < k && i < len(relevant); i++ {
		idcg += 1 / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Ranking accumulates per-customer metrics at K; tenants' accumulators add
// up (Merge) to that of their union, which is what federated evaluation
// sends.
type Ranking struct {
	K         int
	Customers int64
	SumRecall float64
	SumNDCG   float64
}

// Add scores one customer's list against the products it bought.
func (r *Ranking) Add(ranked []int, relevant map[int]bool) {
	r.Customers++
	r.SumRecall += RecallAt(r.K, ranked, relevant)
	r.SumNDCG += NDCGAt(r.K, ranked, relevant)
}

// Merge adds o into r; both must use the same K.
func (r *Ranking) Merge(o Ranking) {
	if r.K != o.K {
		panic("recommend: Merge of rankings at different K")
	}
	r.Customers += o.Customers
	r.SumRecall += o.SumRecall
	r.SumNDCG += o.SumNDCG
}

// Recall is the mean recall@K over customers (0 if none).
func (r Ranking) Recall() float64 {
	if r.Customers == 0 {
		return 0
	}
	return r.SumRecall / float64(r.Customers)
}

// NDCG is the mean NDCG@K over customers (0 if none).
func (r Ranking) NDCG() float64 {
	if r.Customers == 0 {
		return 0
	}
	return r.SumNDCG / float64(r.Customers)
}

// Metrics returns {"recall@K": …, "ndcg@K": …} with K = r.K.
func (r Ranking) Metrics() map[string]float64 {
	k := strconv.Itoa(r.K)
	return map[string]float64{"recall@" + k: r.Recall(), "ndcg@" + k: r.NDCG()}
}

// TopK returns the indexes of the k largest scores, best first (lower index
// first on ties).
func TopK(scores []float64, k int) []int {
	if k > len(scores) {
		k = len(scores)
	}
	top := make([]int, 0, k+1)
	for i, s := range scores {
		if len(top) == k && (k == 0 || s <= scores[top[k-1]]) {
			continue
		}
		j := len(top)
		top = append(top, i)
		for j > 0 && scores[top[j-1]] < s {
			top[j] = top[j-1]
			j--
		}
		top[j] = i
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}
