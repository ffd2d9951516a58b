// Package task is the federated task abstraction: what a client trains
// and how anyone reads its evaluation.
//
// A task kind (Kind) names its evaluation statistics and their per-record
// sensitivity, and turns summed statistics into metrics; a Learner binds a
// kind's adapter to one tenant's local data (input schema, encoder,
// adapter/head, loss) and trains it with DP-SGD. The coordinator and
// secure aggregation see neither: they sum parameter vectors of the
// announced length and evaluation vectors of the announced length, so a new
// task is a new Kind and Learner here and nothing else.
//
// Evaluation statistics are sufficient statistics, not per-example
// outputs: integer counts that add up across tenants (for classification:
// examples, correct predictions, and per class the support, the number of
// predictions and the true positives). They are what a tenant releases,
// with Gaussian noise from the Google DP library when the round asks for
// it (Release), so the operator sees metrics of the union of the tenants'
// held-out splits and nothing about a single record beyond the stated ε.
//
// Privacy unit: one record of a tenant's held-out split (add/remove
// adjacency). Kind.L0 and Kind.LInf bound how one record changes the
// statistics: at most L0 entries, each by at most LInf, so the L2
// sensitivity is √L0·LInf.
package task
