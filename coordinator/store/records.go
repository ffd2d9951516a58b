package store

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// recordVersion is the format version of every JSON record.
const recordVersion = 1

// Limits on record fields (bad input is an error, not a panic).
const (
	MaxNameLen   = 128
	MaxCohort    = 1 << 16
	MaxStageLen  = 64
	MaxReasonLen = 1024
	MaxSpecBytes = 1 << 20
)

// Outcome is the state of one round attempt.
type Outcome uint8

// Outcomes.
const (
	Running Outcome = iota
	Finished
	Aborted
)

func (o Outcome) String() string {
	switch o {
	case Running:
		return "running"
	case Finished:
		return "finished"
	case Aborted:
		return "aborted"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// RoundRecord is one attempt of one round.
type RoundRecord struct {
	Task    string `json:"task"`
	Round   int    `json:"round"`
	Attempt int    `json:"attempt"`
	// Stage is the coordinator's stage name (e.g. "train", "unmask").
	Stage     string   `json:"stage"`
	Cohort    []string `json:"cohort,omitempty"`
	Survivors []string `json:"survivors,omitempty"`
	// Session is the public identifier of the attempt's secure-aggregation
	// session, lowercase hex (empty for rounds without secure aggregation).
	Session string  `json:"session,omitempty"`
	Outcome Outcome `json:"outcome"`
	// ModelVersion is the version this attempt trained from; for a finished
	// attempt that stored a model, [Store.FinishRound] sets it to the new
	// version.
	ModelVersion int       `json:"model_version"`
	Reason       string    `json:"reason,omitempty"`
	Updated      time.Time `json:"updated"`
}

// TenantRecord is what the coordinator remembers of a tenant.
type TenantRecord struct {
	Name         string    `json:"name"`
	EncoderID    string    `json:"encoder_id,omitempty"`
	Joined       time.Time `json:"joined"`
	EpsilonCap   float64   `json:"epsilon_cap"`
	EpsilonSpent float64   `json:"epsilon_spent"`
	Delta        float64   `json:"delta"`
}

// TaskRecord is a task definition; Spec is opaque to the store (e.g. a
// marshalled api.TaskSpec).
type TaskRecord struct {
	ID      string    `json:"id"`
	Spec    []byte    `json:"spec"`
	Created time.Time `json:"created"`
}

// modelEntry is what the models bucket holds per version.
type modelEntry struct {
	Hash    string    `json:"sha256"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// envelope carries the format version of every record.
type envelope[T any] struct {
	V   int `json:"v"`
	Rec T   `json:"rec"`
}

func encode[T any](rec T) []byte {
	b, err := json.Marshal(envelope[T]{V: recordVersion, Rec: rec})
	if err != nil {
		panic("store: encoding a record: " + err.Error()) // only plain fields
	}
	return b
}

func decode[T any](b []byte, check func(T) error) (T, error) {
	var e envelope[T]
	if err := json.Unmarshal(b, &e); err != nil {
		return e.Rec, fmt.Errorf("malformed record: %w", err)
	}
	if e.V != recordVersion {
		return e.Rec, fmt.Errorf("record format version %d, want %d", e.V, recordVersion)
	}
	return e.Rec, check(e.Rec)
}

// DecodeRound decodes and checks a stored round record.
func DecodeRound(b []byte) (RoundRecord, error) { return decode(b, CheckRound) }

// DecodeTenant decodes and checks a stored tenant record.
func DecodeTenant(b []byte) (TenantRecord, error) { return decode(b, CheckTenant) }

// DecodeTask decodes and checks a stored task record.
func DecodeTask(b []byte) (TaskRecord, error) { return decode(b, CheckTask) }

func decodeModel(b []byte) (modelEntry, error) {
	return decode(b, func(m modelEntry) error {
		if len(m.Hash) != 64 || !isHex(m.Hash) || m.Size < 0 {
			return fmt.Errorf("model entry: bad hash or size")
		}
		return nil
	})
}

// CheckRound validates a round record.
func CheckRound(r RoundRecord) error {
	switch {
	case len(r.Task) > MaxNameLen:
		return fmt.Errorf("round %d: task name of %d bytes, at most %d", r.Round, len(r.Task), MaxNameLen)
	case r.Round < 0 || r.Round > math.MaxInt32:
		return fmt.Errorf("round number %d out of range", r.Round)
	case r.Attempt < 0 || r.Attempt > math.MaxInt32:
		return fmt.Errorf("round %d: attempt %d out of range", r.Round, r.Attempt)
	case r.Stage == "" || len(r.Stage) > MaxStageLen:
		return fmt.Errorf("round %d: stage name of %d bytes, want 1 to %d", r.Round, len(r.Stage), MaxStageLen)
	case len(r.Cohort) > MaxCohort || len(r.Survivors) > MaxCohort:
		return fmt.Errorf("round %d: cohort larger than %d", r.Round, MaxCohort)
	case r.Outcome > Aborted:
		return fmt.Errorf("round %d: unknown outcome %d", r.Round, r.Outcome)
	case len(r.Session) > 128 || !isHex(r.Session):
		return fmt.Errorf("round %d: session id is not lowercase hex of at most 128 digits", r.Round)
	case r.ModelVersion < -1 || r.ModelVersion > math.MaxInt32:
		return fmt.Errorf("round %d: model version %d out of range", r.Round, r.ModelVersion)
	case len(r.Reason) > MaxReasonLen:
		return fmt.Errorf("round %d: reason longer than %d bytes", r.Round, MaxReasonLen)
	}
	for _, list := range [][]string{r.Cohort, r.Survivors} {
		for _, n := range list {
			if n == "" || len(n) > MaxNameLen {
				return fmt.Errorf("round %d: tenant name of %d bytes in cohort", r.Round, len(n))
			}
		}
	}
	return nil
}

// CheckTenant validates a tenant record.
func CheckTenant(t TenantRecord) error {
	if t.Name == "" || len(t.Name) > MaxNameLen || len(t.EncoderID) > MaxNameLen {
		return fmt.Errorf("tenant record: name or encoder id empty or longer than %d bytes", MaxNameLen)
	}
	for _, v := range []float64{t.EpsilonCap, t.EpsilonSpent, t.Delta} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("tenant %q: privacy figures must be finite and non-negative", t.Name)
		}
	}
	return nil
}

// CheckTask validates a task record.
func CheckTask(t TaskRecord) error {
	if t.ID == "" || len(t.ID) > MaxNameLen {
		return fmt.Errorf("task record: id empty or longer than %d bytes", MaxNameLen)
	}
	if len(t.Spec) > MaxSpecBytes {
		return fmt.Errorf("task %q: spec of %d bytes, at most %d", t.ID, len(t.Spec), MaxSpecBytes)
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
