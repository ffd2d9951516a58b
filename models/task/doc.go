// Package task is the federated task abstraction: what a client trains
// and how anyone reads its evaluation.
//
// A task kind (Kind) names its privacy unit, its evaluation statistics
// and their per-unit sensitivity, and turns summed statistics into
// metrics; a Learner binds a kind's adapter to one tenant's local data
// (input schema, encoder, adapter/head, loss) and trains it with DP-SGD.
// The coordinator and secure aggregation see neither: they sum parameter
// vectors of the announced length and evaluation vectors of the announced
// length, so a new task is a new Kind and Learner here and nothing else.
//
// Kinds: KindClassify (customer/industry classification; the full-rank
// linear head over the encoder output, LinearClassifier, trained by DP-Adam
// with the task's public expected batch size; the head-only LoRA
// classifier over pooled encoder vectors; or LoRA inside a BERT encoder's
// top layers, EncoderLoRA; selected by task options), KindIntent
// (customer-service intents with out-of-scope detection), KindForecast
// (next-week demand per product), KindRecommend (two-tower
// recommendation whose customer vectors stay local). NewText serves both
// text kinds from a tenant's labelled texts; ClassifySpec, ForecastSpec
// and RecommendSpec build what the operator announces.
//
// Evaluation statistics are sufficient statistics, not per-example
// outputs: integer counts (or fixed-point sums of clamped values) that add
// up across tenants (for classification: examples, correct predictions,
// and per class the support, the number of predictions and the true
// positives). They are what a tenant releases, with Gaussian noise from the
// Google DP library when the round asks for it, so the operator sees
// metrics of the union of the tenants' held-out splits and nothing about a
// single unit beyond the stated ε. Metrics read noised sums robustly
// (clamping and ratios bounded: post-processing).
//
// Every private learner divides its noised gradient sum by the public
// expected batch the task announces (OptionExpectedBatch), the same for
// every tenant, never by q·N of the tenant's own N.
//
// Privacy unit: Kind.Unit, with add/remove adjacency. Kind.L0 and
// Kind.LInf bound how one unit changes the statistics: at most L0 entries,
// each by at most LInf, so the L2 sensitivity is √L0·LInf. Predictions a
// tenant deploys may use more of its local data than a release may (a
// recommender's ranking with the tenant's own popularity): such learners
// implement Deployer, whose statistics are never released and only
// counted by simulations.
package task
