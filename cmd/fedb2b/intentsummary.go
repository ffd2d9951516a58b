package main

import (
	"fmt"

	"github.com/fedb2b/fedb2b/models/intent"
	"github.com/fedb2b/fedb2b/simulate"
)

// intentSummary fills the demo summary of an intent run: the federated
// model with the threshold from the noised statistics (final), with each
// tenant's own locally calibrated threshold (as deployed), the operator's
// noised view, and the baselines: each tenant alone with the same DP,
// centralized without DP (same score, pooled validation threshold) and,
// for the linear head, both models with the maximum-softmax score.
func intentSummary(sum *taskSummary, r *simulate.IntentResult) {
	sum.Final, sum.Tenants = r.Global.Map(), len(r.Tenants)
	sum.Final["argmax_accuracy"] = r.FederatedAcc
	sum.Final["threshold"] = r.GlobalThreshold
	sum.Deployed = r.Federated.Map()
	sum.Federation, sum.FederationSD, sum.FederationUnmeasurable = r.Federation, r.FederationSD, r.FederationUnmeasurable
	score := r.Score.Kind
	if r.Score.Kind == intent.ScoreEnergy {
		score = fmt.Sprintf("energy (T = %g)", r.Score.Temperature)
	}
	sum.Note = fmt.Sprintf("adapter %s, out-of-scope score %s; trained over the real coordinator, mutual TLS and SecAgg+ secure aggregation; "+
		"final: every tenant applies the global threshold read from the last noised evaluation (the noised histogram of in-scope training scores) to its test split, "+
		"counted exactly by the simulation; as deployed: each tenant's own threshold calibrated locally on its validation split instead; "+
		"operator's view: the coordinator's noised evaluation; centralized: pooled data, no DP, threshold rejecting 5 %% of the pooled validation split", r.Adapter, score)
	sum.Baselines["local_only"] = r.Local.Map()
	sum.Baselines["local_only"]["argmax_accuracy"] = r.LocalAcc
	sum.Baselines["centralized"] = r.Centralized.Map()
	sum.Baselines["centralized"]["argmax_accuracy"] = r.CentralizedAcc
	if r.FederatedMSP.InScope > 0 {
		sum.Baselines["federated_msp_own_threshold"] = r.FederatedMSP.Map()
		sum.Baselines["centralized_msp"] = r.CentralizedMSP.Map()
	}
	if r.FederatedKNN.InScope > 0 {
		// Own-data nearest neighbour added to the score: local only,
		// thresholds calibrated locally (nothing of it is released).
		sum.Note += fmt.Sprintf("; *_knn: the score plus %g × the message's largest cosine similarity to the tenant's own in-scope training messages (centralized: to all pooled ones), "+
			"thresholds calibrated locally on the validation split: computed from raw data, never released, so no global threshold from noised statistics exists for it", float64(intent.KNNWeight))
		sum.Baselines["federated_knn_own_threshold"] = r.FederatedKNN.Map()
		sum.Baselines["centralized_knn"] = r.CentralizedKNN.Map()
		if c := r.CentralizedKNN.OOSRecall(); c > 0 {
			sum.Baselines["federated_knn_own_threshold"]["oos_recall_vs_centralized_knn"] = r.FederatedKNN.OOSRecall() / c
		}
	}
	if c := r.Centralized.OOSRecall(); c > 0 && r.Global.OOS > 0 {
		sum.Final["oos_recall_vs_centralized"] = r.Global.OOSRecall() / c
	}
	if r.Score.InScopeClasses > 0 {
		sum.Note += fmt.Sprintf("; every model (federated, local_only, centralized) trained the tenants' out-of-scope training messages as one more class, %q; "+
			"the score reads the %d in-scope logits only", intent.OOSLabel, r.Score.InScopeClasses)
	}
	if e := r.CentralizedEnergyOOS; e != nil {
		sum.Note += "; centralized_energy_oos: pooled data with the tenants' out-of-scope training messages as one more class, scored by the in-scope energy minus that class's logit (the strongest centralized reference found)"
		sum.Baselines["centralized_energy_oos"] = e.Map()
		if c := e.OOSRecall(); c > 0 && r.Global.OOS > 0 {
			sum.Final["oos_recall_vs_centralized_energy_oos"] = r.Global.OOSRecall() / c
		}
	}
	if m := r.MatchedRecall; len(m) > 0 {
		// Diagnostic: every model at the threshold read from the pooled
		// held-out in-scope messages themselves (no calibration error).
		sum.Note += fmt.Sprintf("; oos_recall_matched: out-of-scope recall at the threshold that rejects exactly %g %% of the pooled held-out in-scope messages themselves (a diagnostic of the scores alone, no deployment can compute it)", 100*r.RejectRate)
		sum.Final["oos_recall_matched"] = m["federated"]
		for name, key := range map[string]string{"centralized": "centralized", "centralized_energy_oos": "centralized_energy_oos"} {
			if v, ok := m[key]; ok && sum.Baselines[name] != nil {
				sum.Baselines[name]["oos_recall_matched"] = v
				if v > 0 {
					sum.Final["oos_recall_matched_vs_"+name] = m["federated"] / v
				}
			}
		}
	}
	sum.Privacy = taskPrivacy{Unit: "message", Epsilon: r.Epsilon, Delta: r.Delta, NoiseMultiplier: r.NoiseMultiplier, Steps: r.Steps,
		Mode: r.DPMode, HonestTenants: r.HonestTenants}
	if r.DPMode == simulate.DPModeDistributed {
		sum.Note += fmt.Sprintf("; record-level distributed mode: one DP-SGD step per round, the noise (z on the sum) added inside secure aggregation in shares, "+
			"ε holding against the coordinator only while secure aggregation holds and %d honest tenants' shares are in every unmasked sum; "+
			"the one noised evaluation (histograms of the score) is charged to each tenant's ledger within the same ε; "+
			"local_only: each tenant alone, DP-Adam with the federation's steps, q and z", r.HonestTenants)
	}
}
