package coordinator

import (
	"slices"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
)

// ActionToProto converts a Poll answer to its wire form.
func ActionToProto(a Action) *api.PollResponse {
	switch a.Kind {
	case ActTrain:
		p := a.Plan
		tp := &api.TrainPlan{
			Round: int64(p.Round), ModelVersion: int64(p.Version),
			DeadlineUnixMs: p.Deadline.UnixMilli(), MinClients: int32(p.MinClients), CohortSize: int32(len(p.Cohort)),
			Cohort: p.Cohort,
		}
		p.Params.SetProto(tp)
		if s := p.Secure; s != nil {
			tp.Secure, tp.UpdateClip, tp.QuantScale, tp.Bits = true, s.ClipNorm, s.Scale, secagg.Bits
			tp.Threshold, tp.Neighbours, tp.SessionSeed = int32(s.Threshold), int32(s.Neighbours), s.Seed[:]
			tp.MaxCorrupt = int32(s.MaxCorrupt)
			tp.MaxWeight, tp.BitWeight = s.MaxWeight, s.BitWeight
			for _, k := range s.Keys {
				tp.CohortKeys = append(tp.CohortKeys, k)
			}
			if slices.ContainsFunc(s.Certs, func(c []byte) bool { return len(c) > 0 }) {
				tp.CohortCerts = s.Certs
			}
			if r := s.Record; r != nil {
				tp.RecordDistributed, tp.DdgDim = true, int32(r.Dim)
				tp.DdgGamma, tp.DdgSigma, tp.DdgBeta, tp.DdgShares = r.Gamma, r.Sigma, r.Beta, int32(r.Threshold)
			}
			if d := s.DDG; d != nil {
				tp.DdgGamma, tp.DdgSigma, tp.DdgBeta, tp.DdgShares, tp.TenantDelta = d.Gamma, d.Sigma, d.Beta, int32(d.Threshold), s.TenantDelta
			}
		}
		return &api.PollResponse{Action: &api.PollResponse_Train{Train: tp}}
	case ActSecAgg:
		return &api.PollResponse{Action: &api.PollResponse_Secagg{Secagg: &api.SecAggStep{Round: int64(a.Round), Stage: a.Stage, Messages: a.Messages}}}
	case ActEval:
		return &api.PollResponse{Action: &api.PollResponse_Evaluate{Evaluate: &api.EvalPlan{Round: int64(a.Round), ModelVersion: int64(a.Version), EvalEpsilon: a.EvalEps}}}
	case ActFinished:
		return &api.PollResponse{Action: &api.PollResponse_Finished{Finished: &api.Finished{FinalVersion: int64(a.Version), Reason: a.Reason}}}
	default:
		return &api.PollResponse{Action: &api.PollResponse_Wait{Wait: &api.Wait{RetryAfterMs: a.Retry.Milliseconds()}}}
	}
}
