// Package empirical holds the statistics of empirical privacy auditing:
// from the outputs of a mechanism run many times on two neighbouring data
// sets D and D′, a lower bound on the ε any (ε, δ)-DP claim for that
// mechanism must exceed, with a stated confidence. It follows Jagielski,
// Ullman and Oprea 2020 ("Auditing differentially private machine
// learning: how private is private SGD?") and Nasr, Song, Thakurta,
// Papernot and Carlini 2021 ("Adversary instantiation: lower bounds for
// differentially private machine learning").
//
// # Method
//
// A distinguisher is a threshold test on a scalar score of each output
// (for example the squared norm of a model update, or a noised count):
// it says "D′" when the score is above (or below) the threshold. If the
// mechanism is (ε, δ)-DP, every such test has false-positive rate FPR and
// false-negative rate FNR with
//
//	FPR + e^ε·FNR ≥ 1 − δ  and  FNR + e^ε·FPR ≥ 1 − δ,
//
// so ε ≥ max(log((1−δ−FNR)/FPR), log((1−δ−FPR)/FNR)). LowerBound splits
// the trials of each world in two halves: it picks the threshold and its
// direction on the first half (the best test found), then counts FPR and
// FNR on the second half, replaces them by their one-sided Clopper–Pearson
// upper bounds at confidence 1 − α/2 each, and returns the ε the formula
// then gives. Because the test is chosen on data it is not evaluated on,
// the bound holds with confidence at least 1 − α whatever the selection
// did (union bound over the two rates).
//
// A lower bound below the claimed ε does not prove the claim (the
// distinguisher may simply be weak); a lower bound above it disproves the
// claim at the stated confidence. The package is pure: it runs no
// mechanism. The scenarios that run fedb2b's real client training and
// release paths are in privacy/empirical/scenario.
//
// # Units
//
// ε is natural-log based; δ is the δ of the claim being audited; α is the
// probability that the reported lower bound is wrong.
package empirical
