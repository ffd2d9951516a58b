package secagg

import "fmt"

// Stage is a step of the protocol (Bonawitz et al. 2017, Fig. 4: rounds 0
// AdvertiseKeys, 1 ShareKeys, 2 MaskedInputCollection, 3 ConsistencyCheck,
// 4 Unmasking), with one step added between ShareKeys and
// MaskedInputCollection in which each client checks the shares it
// received and files signed complaints (StageCheckShares, see doc.go).
type Stage uint8

const (
	// StageAdvertise: clients publish their two signed public keys and a
	// commitment to their self-mask seed.
	StageAdvertise Stage = iota + 1
	// StageShareKeys: clients send signed, encrypted Shamir shares.
	StageShareKeys
	// StageCheckShares: clients open the shares relayed to them and answer
	// with a receipt holding a signed complaint per share that fails.
	StageCheckShares
	// StageMaskedInput: clients send their masked input vectors.
	StageMaskedInput
	// StageConsistency: clients sign the survivor set (ConsistencyCheck).
	StageConsistency
	// StageUnmask: survivors reveal one share per neighbour.
	StageUnmask
	// StageDone: the server has the sum (server) / the client answered the
	// unmask request (client).
	StageDone
	// StageAborted: the session ended without a result.
	StageAborted
)

var stageNames = [...]string{"", "advertise", "share_keys", "check_shares", "masked_input", "consistency", "unmask", "done", "aborted"}

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
