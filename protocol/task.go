package protocol

import (
	"fmt"
	"strconv"

	"github.com/fedb2b/fedb2b/api"
)

// TaskSpec names the adapter every client trains. It mirrors api.TaskSpec.
type TaskSpec struct {
	ID        string
	Kind      string
	EncoderID string
	InputDim  int
	Rank      int
	Alpha     float64
	Labels    []string
	Seed      uint64
	NumParams int
	// EvalLen is the length of the task's evaluation statistics.
	EvalLen int
	// Options are task-specific settings for the clients, unread here.
	Options map[string]string
}

// TrainParams are the record-level DP-SGD parameters a round asks for.
type TrainParams struct {
	SampleRate      float64 // Poisson sampling rate q per local step
	ClipNorm        float64 // per-example L2 clip norm C
	NoiseMultiplier float64 // z: noise std is z·C on the summed gradient
	LocalSteps      int     // DP-SGD steps per round
	LearningRate    float64
	// WeightEpsilon > 0: in rounds weighted by example count (FedAvg
	// weights inside secure aggregation, or plain updates) each tenant
	// noises its count at this record-level ε before it leaves; 0 asks
	// for exact counts.
	WeightEpsilon float64
}

// MaxEvalLen bounds a task's evaluation statistics.
const MaxEvalLen = 1 << 16

// TaskToProto converts a TaskSpec to its wire form.
func TaskToProto(t TaskSpec) *api.TaskSpec {
	return &api.TaskSpec{
		TaskId: t.ID, Kind: t.Kind, EncoderId: t.EncoderID, InputDim: int32(t.InputDim), Rank: int32(t.Rank),
		Alpha: t.Alpha, Labels: t.Labels, Seed: t.Seed, NumParams: int32(t.NumParams),
		EvalLen: int32(t.EvalLen), Options: t.Options,
	}
}

// TaskFromProto converts the wire form back.
func TaskFromProto(p *api.TaskSpec) TaskSpec {
	return TaskSpec{
		ID: p.GetTaskId(), Kind: p.GetKind(), EncoderID: p.GetEncoderId(), InputDim: int(p.GetInputDim()),
		Rank: int(p.GetRank()), Alpha: p.GetAlpha(), Labels: p.GetLabels(), Seed: p.GetSeed(), NumParams: int(p.GetNumParams()),
		EvalLen: int(p.GetEvalLen()), Options: p.GetOptions(),
	}
}

// TrainParamsFromProto reads a round's training and privacy parameters
// from its plan.
func TrainParamsFromProto(p *api.TrainPlan) TrainParams {
	return TrainParams{
		SampleRate: p.GetSampleRate(), ClipNorm: p.GetClipNorm(), NoiseMultiplier: p.GetNoiseMultiplier(),
		LocalSteps: int(p.GetLocalSteps()), LearningRate: p.GetLearningRate(), WeightEpsilon: p.GetWeightEpsilon(),
	}
}

// SetProto writes the parameters into a plan's wire form.
func (t TrainParams) SetProto(p *api.TrainPlan) {
	p.SampleRate, p.ClipNorm, p.NoiseMultiplier = t.SampleRate, t.ClipNorm, t.NoiseMultiplier
	p.LocalSteps, p.LearningRate, p.WeightEpsilon = int32(t.LocalSteps), t.LearningRate, t.WeightEpsilon
}

// OptionEvalBound is the task option carrying the public bound on each
// evaluation statistic one tenant may report (absolute value, noise
// included). The coordinator refuses statistics beyond it; a task without
// it is held to ±2^40.
const OptionEvalBound = "eval_bound"

// EvalBound returns the bound spec announces, or 1<<40 when it announces
// none.
func EvalBound(spec TaskSpec) (int64, error) {
	v, ok := spec.Options[OptionEvalBound]
	if !ok {
		return 1 << 40, nil
	}
	b, err := strconv.ParseInt(v, 10, 64)
	if err != nil || b < 1 || b > 1<<40 {
		return 0, fmt.Errorf("task %q: evaluation bound %q is not a whole number in [1, 2^40]", spec.ID, v)
	}
	return b, nil
}
