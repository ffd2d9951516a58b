// Package models holds what a tenant trains and runs locally: frozen base
// encoders, the LoRA adapter with its classification head, DP-SGD local
// training, and evaluation metrics. Nothing here downloads anything: the
// built-in encoder is computed from the text alone, and models are read from
// local safetensors files.
//
// # Encoders
//
// Encoder is the contract for a frozen base model. HashingEncoder is the
// built-in default: multilingual feature hashing (NFKC + lower-case; words,
// word bigrams and character 3–5-grams for alphabetic scripts and digits;
// Han characters and character bigrams for Chinese; signed FNV-1a-64
// hashing; 1+ln tf; unit L2 norm). Its ID names the algorithm version and
// every setting; a task pins the ID.
//
// # Classifier
//
// Classifier is a LoRA adapter on a linear head:
//
//	logits = x·W0ᵀ + b0 + hb + (Alpha/Rank)·(x·Aᵀ)·Bᵀ
//
// W0 and b0 are a frozen base head (zero by default). For federated tasks A
// is frozen and derived from the task seed (identical on every client), so
// only B and hb train and FedAvg of B is exactly FedAvg of ΔW = B·A. Because
// A and W0 are frozen, callers Project each example once and train and
// predict on those features: a step costs O(Rank·Classes) per example.
//
// Parameters travel as one []float64 (Params, SetParams) in this order:
// A row-major (only if TrainA), B row-major (Classes×Rank), then hb
// (Classes). All vectors and parameters are float64; inputs are rows of
// length InputDim (encoder output), features rows of length FeatureDim.
// Files are safetensors (F64; F32 accepted when reading) with the
// configuration in __metadata__, written atomically.
//
// # Linear head
//
// LinearHead is a full-rank linear softmax classifier over the encoder
// output, logits = b + x·W, with every weight trainable: it keeps all that
// the hashed features carry, where the LoRA classifier with frozen A keeps
// a rank-r projection of them. Its inputs are SparseRows (the hashing
// encoder's vectors have a few hundred non-zero entries), W is stored
// feature-major so a row touches contiguous weights, and FedAvg of its
// parameters is exactly FedAvg of the model. LinearTrainer runs DP-SGD on
// it with Adam (or SGD) as the optimiser: per-example gradient
// (x ⊗ (p − e_y), p − e_y), norm ‖p − e_y‖·√(‖x‖² + 1) in closed form (or
// ‖p − e_y‖·‖x‖ with FreezeBias), clipped sums accumulated sparsely, dense
// Gaussian noise, division by a PUBLIC expected batch size (never q·n, n
// being private). FitLinear fits it without privacy by L-BFGS on the
// L2-regularised cross-entropy (scikit-learn's C = 10): the strong local
// learner for baselines ("each tenant alone", "pooled"), never released.
// DefaultLinearPrivateConfig and the DefaultLinear* constants were chosen
// on development splits (defaults.go says how).
//
// Memory: a tenant's encoded rows are kept in a RowStore, lossless and
// compact (each entry one varint of index gap, sign and magnitude class,
// about 2 bytes an entry for hashed text against SparseRow's 12, in 4 MiB
// chunks that never move); LinearTrainer.TrainRows, FitLinearRows and
// LinearHead.EvaluateRows read any Rows, so training decodes one row at a
// time and gives the same bits as over []SparseRow.
// HashingEncoder.AppendSparse encodes straight to a sparse row, without
// the Dim-long vector Encode returns.
//
// # Local training
//
// Train runs DP-SGD (Poisson sampling with rate q, per-example clipping to
// C, Gaussian noise of standard deviation z·C per coordinate, division by
// the expected batch size q·N) or, for baselines, plain minibatch SGD by
// the same code path. Per-example gradient norms are computed in closed
// form from the factors of the gradient, so clipping costs almost nothing
// and the step does not allocate. Randomness comes only from the
// *math/rand/v2.Rand the caller passes (privacy.NewRand in production).
// Train reports no ε: the privacy package accounts (q, z, steps).
//
// Threat model: training runs on the tenant's own server over its private
// data. What leaves the tenant (the parameter update) is protected by the
// DP-SGD noise of every step; TrainStats and the per-example quantities are
// computed from private data and must stay local.
//
// # Metrics
//
// ConfusionMatrix counts (true, predicted) pairs; tenants' matrices add up
// (federated evaluation sends the smaller sufficient statistics of package
// models/task, derived from it). Accuracy and macro-F1
// (scikit-learn convention: mean over classes present in the labels or the
// predictions) derive from the sum.
//
// # Defaults
//
// DefaultRank, DefaultTrainConfig and DefaultPrivateTrainConfig were chosen
// on the NAICS sector task (20 classes, hashing encoder, held-out split by
// industry code); TestNAICSExperiment reproduces the figures when
// FEDB2B_NAICS points to the data.
package models
