package coordinator

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
)

// ErrTooLarge is returned when an upload announces more bytes than the
// task allows for what it carries.
var ErrTooLarge = errors.New("coordinator: upload too large")

// Payload is what an upload carries.
type Payload int

// The payloads of an upload.
const (
	PayloadUpdate Payload = iota + 1 // a plain update: NumParams+1 float64
	PayloadSecAgg                    // a secure-aggregation message of one stage
	PayloadEval                      // evaluation statistics: EvalLen int64
)

func (p Payload) String() string {
	switch p {
	case PayloadUpdate:
		return "update"
	case PayloadSecAgg:
		return "secure-aggregation message"
	case PayloadEval:
		return "evaluation"
	}
	return fmt.Sprintf("payload(%d)", int(p))
}

// UploadFraming bounds the bytes of a serialised SubmitRequest around its
// payload: tenant name (≤ 64 bytes), round, field tags and lengths, a
// ledger head (seq, 64 hex digits, 64-byte signature), the evaluation's
// model version and decline reason (≤ 512 bytes), the secure-aggregation
// stage name and message header (session ID, round).
const UploadFraming = 2 << 10

// secAggSmallPerMember bounds, per cohort member, the secure-aggregation
// messages other than the masked input (key advertisements, encrypted
// shares, unmasking shares: each well under 1 KiB per neighbour).
const secAggSmallPerMember = 4 << 10

// UploadGrant is what [Federation.CheckUpload] allows: at most Limit bytes,
// to be complete before Deadline (the end of the stage).
type UploadGrant struct {
	Limit    int64
	Deadline time.Time
}

// CheckUpload checks, without changing any state, that tenant name may now
// send a payload of kind p (for a secure-aggregation message, of stage
// secStage) for round number, announced as size bytes: the tenant has
// joined, the round is current, its stage expects this tenant's
// submission, and size is within the task's limit (see [UploadLimit]). The
// gRPC layer calls it before accepting any byte of an upload.
func (f *Federation) CheckUpload(name string, number int, p Payload, secStage string, size int64, now time.Time) (UploadGrant, error) {
	if f.finished {
		return UploadGrant{}, ErrFinished
	}
	if f.tenants[name] == nil {
		return UploadGrant{}, fmt.Errorf("%w: %q has not joined", ErrUnknownTenant, name)
	}
	r := f.cur
	if r == nil || r.number != number || r.stage == stDone {
		cur := 0
		if r != nil {
			cur = r.number
		}
		return UploadGrant{}, fmt.Errorf("%w: tenant %q announced an upload for round %d, current round is %d", ErrWrongRound, name, number, cur)
	}
	if !now.Before(r.deadline) {
		return UploadGrant{}, fmt.Errorf("%w: round %d's %s stage is past its deadline", ErrWrongStage, number, r.stage)
	}
	want := stTrain
	if p == PayloadEval {
		want = stEval
	}
	if r.stage != want {
		return UploadGrant{}, fmt.Errorf("%w: tenant %q announced a %s upload, round %d is in stage %s", ErrWrongStage, name, p, number, r.stage)
	}
	switch p {
	case PayloadUpdate:
		if r.sec != nil {
			return UploadGrant{}, fmt.Errorf("%w: round %d uses secure aggregation; a plain update from %q is refused", ErrWrongStage, number, name)
		}
		if a, ok := r.answers[name]; !ok || a != pending {
			return UploadGrant{}, fmt.Errorf("%w: tenant %q is not awaited with an update in round %d", ErrNotInvited, name, number)
		}
	case PayloadEval:
		if a, ok := r.evalSet[name]; !ok || a != pending {
			return UploadGrant{}, fmt.Errorf("%w: tenant %q is not awaited with an evaluation in round %d", ErrNotInvited, name, number)
		}
	case PayloadSecAgg:
		s := r.sec
		if s == nil {
			return UploadGrant{}, fmt.Errorf("%w: round %d does not use secure aggregation", ErrWrongStage, number)
		}
		if st := s.stage().String(); st != secStage {
			return UploadGrant{}, fmt.Errorf("%w: tenant %q announced a %s message, round %d is in secure stage %s", ErrWrongStage, name, secStage, number, st)
		}
		if !s.expect[name] || s.sent[name] || r.answers[name] == declined {
			return UploadGrant{}, fmt.Errorf("%w: tenant %q is not awaited in secure stage %s of round %d", ErrNotInvited, name, secStage, number)
		}
	default:
		return UploadGrant{}, fmt.Errorf("%w: upload of unknown kind %d", ErrBadUpdate, int(p))
	}
	limit := f.UploadLimit(p, secStage)
	if size < 1 || size > limit {
		return UploadGrant{}, fmt.Errorf("%w: tenant %q announced %d bytes for a round-%d %s, the task allows 1 to %d", ErrTooLarge, name, size, number, p, limit)
	}
	return UploadGrant{Limit: limit, Deadline: r.deadline}, nil
}

// UploadLimit is the largest serialised SubmitRequest, in bytes, that a
// payload of kind p can need in the current round, derived from the task:
//
//   - plain update: 8·(NumParams+1) (float64 values) + UploadFraming;
//   - masked input: 4·d (uint32 words of the session's vector length d:
//     NumParams, +1 with the weight, or the padded dimension of
//     tenant-level DP) + UploadFraming;
//   - other secure-aggregation stages: 4 KiB per cohort member + UploadFraming;
//   - evaluation: 10·EvalLen (varint int64) + UploadFraming.
func (f *Federation) UploadLimit(p Payload, secStage string) int64 {
	t := f.cfg.Task
	switch p {
	case PayloadUpdate:
		return 8*int64(t.NumParams+1) + UploadFraming
	case PayloadEval:
		return 10*int64(t.EvalLen) + UploadFraming
	case PayloadSecAgg:
		r := f.cur
		if r == nil || r.sec == nil {
			return UploadFraming
		}
		if secStage == secagg.StageMaskedInput.String() {
			return 4*int64(r.sec.params.Dim()) + UploadFraming
		}
		return secAggSmallPerMember*int64(len(r.cohort)) + UploadFraming
	}
	return 0
}

// MaxUploadLimit is the largest limit any payload of this task can get: the
// per-upload term of the memory bound (see the package documentation).
func (f *Federation) MaxUploadLimit() int64 {
	l := max(f.UploadLimit(PayloadUpdate, ""), f.UploadLimit(PayloadEval, ""))
	if f.cfg.Secure != nil {
		// The padded dimension of tenant-level DP is below 2·NumParams+2
		// (the next power of two of NumParams+1), plus the weight or bit.
		l = max(l, 4*int64(2*f.cfg.Task.NumParams+4)+UploadFraming)
	}
	return l
}
