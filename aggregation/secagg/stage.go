package secagg

import "fmt"

// Stage is a step of the protocol (Bonawitz et al. 2017, Fig. 4: rounds 0
// AdvertiseKeys, 1 ShareKeys, 2 MaskedInputCollection, 4 Unmasking; the
// active-adversary ConsistencyCheck round 3 is not implemented, see doc.go).
type Stage uint8

const (
	// StageAdvertise: clients publish their two signed public keys.
	StageAdvertise Stage = iota + 1
	// StageShareKeys: clients send age-encrypted Shamir shares to neighbours.
	StageShareKeys
	// StageMaskedInput: clients send their masked input vectors.
	StageMaskedInput
	// StageUnmask: survivors reveal one share per neighbour.
	StageUnmask
	// StageDone: the server has the sum (server) / the client answered the
	// unmask request (client).
	StageDone
	// StageAborted: the session ended without a result.
	StageAborted
)

var stageNames = [...]string{"", "advertise", "share_keys", "masked_input", "unmask", "done", "aborted"}

// String returns the stage name used in logs and the demo's JSON summary.
func (s Stage) String() string {
	if int(s) < len(stageNames) && s != 0 {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// ParseStage is the inverse of Stage.String.
func ParseStage(name string) (Stage, error) {
	for i, n := range stageNames {
		if i > 0 && n == name {
			return Stage(i), nil
		}
	}
	return 0, fmt.Errorf("secagg: unknown stage %q", name)
}
