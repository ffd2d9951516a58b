// Package intent is the customer-service intent task: classify short
// messages (Chinese or English) into a tenant-agreed set of intents, and
// detect out-of-scope messages with a score threshold.
//
// # Out-of-scope scores
//
// A Scorer turns a message's class logits into a score, higher meaning
// more in scope: the maximum softmax (ScoreMSP), the energy T·log Σ
// exp(z/T) (ScoreEnergy) or the maximum logit (ScoreMaxLogit).
// ScoreThreshold calibrates a threshold for any score from in-scope
// scores and CountScores counts the outcomes. The federated intent task
// over the linear head (models/task, AdapterLinear) histograms the score
// its spec names and the global threshold comes from the noised
// histograms alone; simulate.RunIntent compares it with the maximum
// softmax and a centralized model. TestOOSLinearDevExperiment chose the
// score on development splits of clinc150.
//
// A trained out-of-scope class: when a linear task's labels end with
// OOSLabel, the tenants' own out-of-scope training messages are trained
// as that class (Larson et al. 2019's "oos-train"), and the score and the
// predicted intent read the other (in-scope) logits only
// (Scorer.InScopeClasses, InScopeClasses); the class only shapes what
// the in-scope logits learn. ScoreEnergyMinusOOS also subtracts the
// class's logit (reported for the centralized model).
//
// Neighbours adds, as deployed only, a message's largest cosine
// similarity to the tenant's own training messages (KNNScore). It is
// computed from raw data with no small sensitivity (one message can be
// every other's nearest neighbour), so it never enters a released
// statistic and has no threshold from noised statistics: each tenant
// calibrates it on its own validation split.
//
// # The LoRA head's detector
//
// A Detector labels a message OOSLabel when its largest class probability
// (max-softmax confidence) is below Threshold. The threshold is calibrated
// locally: CalibrateQuantile rejects a chosen fraction of the tenant's
// in-scope validation messages (needs no out-of-scope examples, which most
// tenants do not have); CalibrateJoint, when the validation split has
// out-of-scope messages, maximises the mean of in-scope accuracy and
// out-of-scope recall. Out-of-scope messages are never trained on: the
// classes are the in-scope intents only. In a federation the threshold
// can instead come from noised statistics alone: models/task's KindIntent
// releases a histogram of the in-scope training messages' confidences and
// the global threshold rejects at most 5 % of it (simulate.RunIntent's
// IntentResult.Global). On the LoRA head, other scores (energy, max logit,
// distance to class means) were compared on clinc150 and did not beat the
// maximum softmax (TestOOSScoreExperiment).
//
// # Metrics
//
// In-scope accuracy counts a rejected in-scope message as an error
// (CLINC150's convention); out-of-scope recall is the fraction of
// out-of-scope messages rejected. Metrics counts add up across tenants.
//
// # Federation and privacy
//
// This package holds no federation loop: package simulate (RunIntent) runs
// intents over the real coordinator, clients and secure aggregation like
// every other task kind (models/task KindIntent), with the baselines. The
// classifier and its metadata (labels, threshold, encoder ID) are saved
// with Detector.Save, a linear head with its score and threshold with
// LinearDetector.Save, and both are applied by `fedb2b predict`.
//
// Threat model: messages, validation confidences and thresholds stay on the
// tenant's server; only DP-SGD-noised parameter updates leave it. The
// threshold is part of a saved model only when the tenant saves it locally.
package intent
