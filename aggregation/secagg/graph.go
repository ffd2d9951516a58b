package secagg

import (
	"crypto/sha256"
	"math/rand/v2"
	"slices"
)

// Graph is the neighbour graph of a session: who agrees pairwise masks with
// whom and who holds whose Shamir shares.
//
// Bell et al. (CCS 2020, §3) run SecAgg on a sparse k-regular graph so that
// each client talks to O(log n) peers instead of n−1. The construction here
// is the random Harary graph used by practical SecAgg+ deployments: the n
// nodes are placed on a ring in a pseudo-random order (a Fisher–Yates
// shuffle driven by ChaCha8 keyed with SHA-256(label ‖ seed), so every Go
// version derives the same graph), and each node is linked to the k/2
// nearest nodes on each side. The result is exactly k-regular for even
// k < n−1. With k = n−1 the graph is complete: plain SecAgg (Bonawitz et
// al. 2017). The seed must be public and fresh per round; the coordinator
// chooses it, so a malicious coordinator chooses the graph (see doc.go).
type Graph struct {
	adj [][]uint32
}

// NewGraph builds the graph on n nodes with degree k (even, or n−1).
// It panics if k is not in 1..n−1 (programmer error; Params validates).
func NewGraph(n, k int, seed [32]byte) *Graph {
	if k < 1 || k > n-1 {
		panic("secagg: NewGraph: degree out of range")
	}
	g := &Graph{adj: make([][]uint32, n)}
	if k == n-1 {
		for i := range n {
			a := make([]uint32, 0, n-1)
			for j := range n {
				if j != i {
					a = append(a, uint32(j))
				}
			}
			g.adj[i] = a
		}
		return g
	}
	key := sha256.Sum256(append([]byte(labelGraph), seed[:]...))
	src := rand.NewChaCha8(key)
	order := make([]uint32, n) // order[pos] = node
	for i := range order {
		order[i] = uint32(i)
	}
	for i := n - 1; i > 0; i-- {
		j := uniform(src, uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	half := k / 2
	for pos, node := range order {
		a := make([]uint32, 0, k)
		for off := 1; off <= half; off++ {
			a = append(a, order[(pos+off)%n], order[(pos-off+n)%n])
		}
		slices.Sort(a)
		g.adj[node] = a
	}
	return g
}

// uniform returns a uniform integer in [0, m) by rejection sampling (so the
// result depends only on the ChaCha8 stream, not on library internals).
func uniform(src *rand.ChaCha8, m uint64) uint64 {
	limit := ^uint64(0) - (^uint64(0) % m)
	for {
		if v := src.Uint64(); v < limit {
			return v % m
		}
	}
}

// N returns the number of nodes.
func (g *Graph) N() int { return len(g.adj) }

// Neighbours returns the sorted neighbours of node i (shared: do not modify).
func (g *Graph) Neighbours(i uint32) []uint32 { return g.adj[i] }

// IsNeighbour reports whether i and j are linked.
func (g *Graph) IsNeighbour(i, j uint32) bool {
	if int(i) >= len(g.adj) {
		return false
	}
	_, ok := slices.BinarySearch(g.adj[i], j)
	return ok
}
