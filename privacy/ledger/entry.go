package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fedb2b/fedb2b/privacy/keys"
)

// Unit is the privacy unit an ε protects.
type Unit string

// The privacy units, each with its adjacency (Unit.Adjacency).
const (
	// UnitRecord is record-level DP inside one tenant (DP-SGD, noised
	// counts and evaluations): neighbours add or remove one record (the
	// task kind's unit: a text, a message, a forecast row, a customer).
	UnitRecord Unit = "record"
	// UnitTenant is tenant-level DP over the federation (distributed
	// discrete Gaussian inside secure aggregation): neighbours differ in
	// one tenant's update replaced by zero. Replacing it by another
	// update moves the sum twice as far and is not what these entries
	// bound (ddg.EpsilonReplaceOne gives that figure).
	UnitTenant Unit = "tenant"
)

// Adjacency states the neighbouring relation the ε of unit u is for.
func (u Unit) Adjacency() string {
	switch u {
	case UnitRecord:
		return "add or remove one record"
	case UnitTenant:
		return "one tenant's update replaced by zero"
	}
	return "unknown"
}

// Status says what an entry records.
type Status string

// The entry statuses.
const (
	// StatusIntent records a spend. It is durable before the release it
	// describes, and counts as spent whether or not a release follows.
	StatusIntent Status = "intent"
	// StatusReleased records that the artefact of an earlier intent (Ref)
	// was released. It spends nothing.
	StatusReleased Status = "released"
	// StatusReceived records what the writer received from Tenant: an
	// artefact (Kind, ArtifactHash; Mechanism and Params when the writer
	// knows what the tenant had to spend for it) or the tenant's signed
	// ledger head (Kind [KindLedgerHead]: Ref is the tenant's seq,
	// ArtifactHash that entry's hash, HeadSignature the tenant's
	// signature). It spends nothing and is no budget: it is evidence the
	// auditor holds the tenant's own ledger to (package audit).
	StatusReceived Status = "received"
)

// The kinds of received entries.
const (
	KindUpdate      = "update"       // a plain update (protocol.UpdateHash)
	KindMaskedInput = "masked-input" // a secure-aggregation masked input (SHA-256 of the message)
	KindCount       = "count"        // a noised example count inside an update (same artefact)
	KindEvalStats   = "eval-stats"   // noised evaluation statistics (protocol.CountsHash)
	KindExactEval   = "exact-eval"   // evaluation statistics released without noise
	KindLedgerHead  = "ledger-head"  // the tenant's signed ledger head
)

// signLabel separates ledger signatures from any other use of the key.
const signLabel = "fedb2b/ledger/v1 entry\n"

// GenesisHash is the PrevHash of the first entry of every ledger.
var GenesisHash = strings.Repeat("0", 64)

// MaxLineBytes bounds one encoded entry; longer lines are rejected.
const MaxLineBytes = 64 << 10

// maxText bounds the party, task, tenant and mechanism strings.
const maxText = 128

// Params holds every parameter needed to recompute the ε of a release.
// Which fields a mechanism requires is checked by its [Mechanism.Validate];
// unused fields are zero and omitted from the encoding, so fields can be
// added later without changing the encoding of existing entries.
type Params struct {
	SamplingRate    float64 `json:"sampling_rate,omitempty"`    // per-step Poisson sampling probability q of a unit
	NoiseMultiplier float64 `json:"noise_multiplier,omitempty"` // noise std / L2 sensitivity (σ, unit-free)
	ClipNorm        float64 `json:"clip_norm,omitempty"`        // L2 sensitivity C (clipping norm)
	Steps           int     `json:"steps,omitempty"`            // composed steps (DP-SGD steps, or identical releases)
	CohortSize      int     `json:"cohort_size,omitempty"`      // units in the round's cohort (tenant-level mechanisms)
	Bits            int     `json:"bits,omitempty"`             // quantisation bits (secure aggregation)
	// Distributed discrete Gaussian (tenant level, Kairouz et al. 2021):
	Dim        int     `json:"dim,omitempty"`         // update dimension d (before padding)
	Gamma      float64 `json:"gamma,omitempty"`       // quantisation granularity γ
	ShareSigma float64 `json:"share_sigma,omitempty"` // per-client discrete Gaussian σ, in units of γ·... (ddg.Params.Sigma)
	Beta       float64 `json:"beta,omitempty"`        // conditional rounding parameter β
	Shares     int     `json:"shares,omitempty"`      // noise shares the sum is guaranteed to hold (minimum survivors); record-level distributed mode: the honest tenants assumed
	// Record-level distributed mode (MechDDGRecord): ClipNorm is the
	// per-record clip C, SamplingRate q, and SumClip S bounds a tenant's
	// clipped-gradient sum (the DDG's clip).
	SumClip float64 `json:"sum_clip,omitempty"`
	// EvalEpsilon is only on a received noised evaluation (KindEvalStats,
	// MechScalarGaussian, no other parameter): the ε per release the
	// plan asked for. The tenant's intent for it must charge at least
	// that release: a noise multiplier at most the Gaussian's at that ε
	// and the tenant's δ (package audit).
	EvalEpsilon float64 `json:"eval_epsilon,omitempty"`
}

// Entry is one line of a ledger. The writer fills Seq, Time (when empty),
// Status, EpsilonCumulative, PrevHash, Writer and Signature (see
// [Ledger.Append]).
type Entry struct {
	Seq       uint64 `json:"seq"`                 // 1, 2, … without gaps
	Time      string `json:"time"`                // RFC 3339, UTC, whole seconds ("2026-01-02T15:04:05Z")
	Party     string `json:"party"`               // who keeps this ledger: a tenant name or "coordinator"
	Task      string `json:"task"`                // the federated task
	Round     int64  `json:"round"`               // the round of the task (≥ 0)
	Tenant    string `json:"tenant"`              // whose budget this entry spends
	Unit      Unit   `json:"unit"`                // the privacy unit
	Status    Status `json:"status"`              // intent or released
	Ref       uint64 `json:"ref,omitempty"`       // released: Seq of the intent it completes
	Mechanism string `json:"mechanism,omitempty"` // intent: registered mechanism name
	Params    Params `json:"params"`              // intent: mechanism parameters
	// Accountant names the registered accountant that composes this
	// tenant's events in this unit (intent only; "rdp" by default).
	Accountant        string  `json:"accountant,omitempty"`
	Delta             float64 `json:"delta"`                      // the tenant's δ
	EpsilonCumulative Epsilon `json:"epsilon_cumulative"`         // ε over all this ledger's intents for (Tenant, Unit) up to here, at Delta (null: ∞, after an exact release)
	EpsilonInfinite   bool    `json:"epsilon_infinite,omitempty"` // EpsilonCumulative is +Inf ([MechExact])
	EpsilonCap        float64 `json:"epsilon_cap"`                // the budget in force for (Tenant, Unit)
	ArtifactHash      string  `json:"artifact_hash,omitempty"`    // hex SHA-256 of the released artefact
	Kind              string  `json:"kind,omitempty"`             // received: what was received
	HeadSignature     string  `json:"head_signature,omitempty"`   // received ledger head: the tenant's base64 signature
	PrevHash          string  `json:"prev_hash"`                  // hex SHA-256 of the previous line (GenesisHash for the first)
	Writer            string  `json:"writer"`                     // key id of the signer (keys.ID)
	Signature         string  `json:"signature"`                  // base64 ed25519 over signLabel + the entry encoded without it
}

// Encode returns the canonical encoding of e: one line of JSON without the
// trailing newline. It is what is written, hashed and (without the
// signature) signed.
func (e Entry) Encode() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("ledger: failed to encode entry %d: %w", e.Seq, err)
	}
	return b, nil
}

// signedBytes is the message the writer signs.
func (e Entry) signedBytes() ([]byte, error) {
	e.Signature = ""
	b, err := e.Encode()
	if err != nil {
		return nil, err
	}
	return append([]byte(signLabel), b...), nil
}

// Hash returns the hex SHA-256 of e's canonical encoding: the PrevHash of
// the entry after it.
func (e Entry) Hash() (string, error) {
	b, err := e.Encode()
	if err != nil {
		return "", err
	}
	return hashLine(b), nil
}

func hashLine(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sign sets e.Writer and e.Signature.
func (e *Entry) sign(priv ed25519.PrivateKey) error {
	e.Writer = keys.ID(priv.Public().(ed25519.PublicKey))
	msg, err := e.signedBytes()
	if err != nil {
		return err
	}
	e.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
	return nil
}

// ErrBadSignature is returned when an entry's signature does not verify.
var ErrBadSignature = errors.New("ledger: bad signature")

// VerifySignature checks that e was signed by pub: its Writer must be pub's
// key id and its Signature valid over the rest of the entry.
func (e Entry) VerifySignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("ledger: public key has %d bytes", len(pub))
	}
	if id := keys.ID(pub); e.Writer != id {
		return fmt.Errorf("%w: writer %q is not key %s", ErrBadSignature, e.Writer, id)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(e.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	msg, err := e.signedBytes()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("%w: signature does not verify under key %s", ErrBadSignature, e.Writer)
	}
	return nil
}

// DecodeLine parses one ledger line (without its newline). It rejects
// unknown fields, trailing data, and any line that is not the canonical
// encoding of the entry it decodes to (so two files that verify alike are
// byte-identical), then [Entry.Validate]s the entry.
func DecodeLine(line []byte) (Entry, error) {
	var e Entry
	if len(line) > MaxLineBytes {
		return e, fmt.Errorf("entry is longer than %d bytes", MaxLineBytes)
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if d.More() {
		return Entry{}, errors.New("trailing data after the entry")
	}
	canon, err := e.Encode()
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(canon, line) {
		return Entry{}, errors.New("entry is not in canonical encoding")
	}
	if err := e.Validate(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// Validate checks the fields of e on their own (not the chain, signature or
// ε, which need the rest of the ledger).
func (e Entry) Validate() error {
	if e.Seq == 0 {
		return errors.New("seq must be at least 1")
	}
	t, err := time.Parse(time.RFC3339, e.Time)
	if err != nil || t.UTC().Format(time.RFC3339) != e.Time {
		return fmt.Errorf("time %q is not RFC 3339 UTC with whole seconds", e.Time)
	}
	for _, f := range []struct{ name, v string }{{"party", e.Party}, {"task", e.Task}, {"tenant", e.Tenant}} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if e.Round < 0 {
		return fmt.Errorf("round %d is negative", e.Round)
	}
	if e.Unit != UnitRecord && e.Unit != UnitTenant {
		return fmt.Errorf("unit %q is not %q or %q", e.Unit, UnitRecord, UnitTenant)
	}
	if e.Status == StatusReceived {
		if e.Delta != 0 || e.EpsilonCap != 0 || e.EpsilonCumulative != 0 || e.EpsilonInfinite {
			return errors.New("a received entry records no delta or epsilon")
		}
	} else {
		if !(e.Delta > 0 && e.Delta < 1) {
			return fmt.Errorf("delta %g is not in (0, 1)", e.Delta)
		}
		if !(e.EpsilonCap > 0) || math.IsInf(e.EpsilonCap, 0) {
			return fmt.Errorf("epsilon_cap %g is not a positive finite number", e.EpsilonCap)
		}
		if !(e.EpsilonCumulative >= 0) {
			return fmt.Errorf("epsilon_cumulative %v is not a number ≥ 0", e.EpsilonCumulative)
		}
		if e.EpsilonInfinite != e.EpsilonCumulative.Inf() {
			return errors.New("epsilon_infinite must be set exactly when epsilon_cumulative is null (∞)")
		}
	}
	if e.Status != StatusReceived && (e.Kind != "" || e.HeadSignature != "") {
		return errors.New("only a received entry has kind or head_signature")
	}
	if e.ArtifactHash != "" && !isHex(e.ArtifactHash, 64) {
		return errors.New("artifact_hash is not 64 lowercase hex digits")
	}
	if !isHex(e.PrevHash, 64) {
		return errors.New("prev_hash is not 64 lowercase hex digits")
	}
	if !isHex(e.Writer, 16) {
		return errors.New("writer is not a 16-hex-digit key id")
	}
	switch e.Status {
	case StatusIntent:
		if e.Ref != 0 {
			return errors.New("an intent has no ref")
		}
		if _, err := LookupAccountant(e.Accountant); err != nil {
			return err
		}
		m, err := LookupMechanism(e.Mechanism)
		if err != nil {
			return err
		}
		if err := m.Validate(e.Params); err != nil {
			return fmt.Errorf("mechanism %s: %w", e.Mechanism, err)
		}
		if e.Params.EvalEpsilon != 0 {
			return errors.New("eval_epsilon is a received evaluation's parameter, not an intent's")
		}
	case StatusReleased:
		if e.Ref == 0 || e.Ref >= e.Seq {
			return fmt.Errorf("released entry refers to seq %d, not an earlier entry", e.Ref)
		}
		if e.Mechanism != "" || e.Accountant != "" || e.Params != (Params{}) {
			return errors.New("a released entry carries no mechanism, accountant or params")
		}
		if e.ArtifactHash == "" {
			return errors.New("a released entry needs artifact_hash")
		}
	case StatusReceived:
		return e.validateReceived()
	default:
		return fmt.Errorf("status %q is not %q, %q or %q", e.Status, StatusIntent, StatusReleased, StatusReceived)
	}
	return nil
}

func (e Entry) validateReceived() error {
	if e.ArtifactHash == "" {
		return errors.New("a received entry needs artifact_hash")
	}
	if e.Accountant != "" {
		return errors.New("a received entry names no accountant")
	}
	if e.Kind == KindLedgerHead {
		if e.Ref == 0 || e.HeadSignature == "" || e.Mechanism != "" || e.Params != (Params{}) {
			return errors.New("a received ledger head needs ref (the tenant's seq) and head_signature, and nothing else")
		}
		return nil
	}
	switch e.Kind {
	case KindUpdate, KindMaskedInput, KindCount, KindEvalStats, KindExactEval:
	default:
		return fmt.Errorf("received kind %q is unknown", e.Kind)
	}
	if e.Ref != 0 || e.HeadSignature != "" {
		return errors.New("a received artefact has no ref or head_signature")
	}
	if e.Mechanism == "" {
		if e.Params != (Params{}) {
			return errors.New("received params without a mechanism")
		}
		return nil
	}
	if e.Params.EvalEpsilon != 0 || e.Kind == KindEvalStats {
		// The plan's ε per evaluation, alone.
		if e.Kind != KindEvalStats || e.Mechanism != MechScalarGaussian || e.Params != (Params{EvalEpsilon: e.Params.EvalEpsilon}) ||
			!(e.Params.EvalEpsilon > 0) || math.IsInf(e.Params.EvalEpsilon, 0) {
			return errors.New("a received eval-stats entry with a mechanism records scalar-gaussian and a positive finite eval_epsilon only")
		}
		return nil
	}
	m, err := LookupMechanism(e.Mechanism)
	if err != nil {
		return err
	}
	if err := m.Validate(e.Params); err != nil {
		return fmt.Errorf("mechanism %s: %w", e.Mechanism, err)
	}
	return nil
}

func checkText(name, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty", name)
	}
	if len(v) > maxText {
		return fmt.Errorf("%s is longer than %d bytes", name, maxText)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s contains a control character", name)
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
