package models

// DefaultExpectedRecords is the tenant size a plan assumes when the
// operator gives no expected batch: ExpectedBatch = q·DefaultExpectedRecords.
// It is a public planning figure, not a measurement of any tenant.
const DefaultExpectedRecords = 1000

// DefaultRank is the LoRA rank chosen on the NAICS sector task (see doc.go).
const DefaultRank = 256

// DefaultTrainConfig returns the non-private baseline settings chosen on the
// NAICS sector task: minibatches of 64, learning rate 0.5, momentum 0.9.
// Steps is left for the caller to set (the experiment used 3000).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Steps: 1000, LearningRate: 0.5, Momentum: 0.9, BatchSize: 64}
}

// DefaultPrivateTrainConfig returns DP-SGD settings chosen on the NAICS
// sector task: q = 0.05, C = 1, z = 1, learning rate 4, momentum 0.9,
// expected batch q·DefaultExpectedRecords = 50. The
// privacy of a run follows from (q, z, Steps) through the privacy package's
// accountant; these defaults make no ε promise.
func DefaultPrivateTrainConfig() TrainConfig {
	return TrainConfig{Steps: 200, LearningRate: 4, Momentum: 0.9, Private: true, SampleRate: 0.05, ClipNorm: 1, NoiseMultiplier: 1,
		ExpectedBatch: 0.05 * DefaultExpectedRecords}
}
