package simulate

import (
	"encoding/json"
	"github.com/fedb2b/fedb2b/models"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/protocol"
	"math"
)

// Metrics are classification metrics over a summed confusion matrix.
type Metrics struct {
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
	Examples int64   `json:"examples"`
}

// RoundReport is what one round did.
type RoundReport struct {
	Round        int               `json:"round"`
	Metrics                        // of the version this round produced
	Participants int               `json:"participants"`
	Tenants      []string          `json:"participant_names"`
	Dropped      []string          `json:"dropped,omitempty"`
	Declined     map[string]string `json:"declined,omitempty"`
	// Blamed: the secure round's complaints and bad shares ("accused:
	// reason", coordinator.Event.Blamed).
	Blamed     []string `json:"blamed,omitempty"`
	Evaluators int      `json:"evaluators"`
	Abandoned  bool     `json:"abandoned,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Epsilon    Epsilons `json:"epsilon_per_tenant"`
	// Evaluated says whether the round's version was evaluated (not when
	// abandoned or skipped by EvalEvery).
	Evaluated bool `json:"evaluated"`
	// Values are the task kind's metrics of the round (models/task).
	Values map[string]float64 `json:"values,omitempty"`
	// ValuesSD, for a noised evaluation, is roughly how much the noise
	// moves each of Values (modeltask.MetricsNoiseSD, each tenant's
	// noise assumed at the run's δ).
	ValuesSD map[string]float64 `json:"values_noise_sd,omitempty"`
	// Unmeasurable lists the ratios among Values whose count the noise
	// alone could have made (modeltask.MetricsNoiseSD).
	Unmeasurable []string `json:"values_not_measurable,omitempty"`
	// UpdateClip is the round's secure-aggregation clip S.
	UpdateClip float64 `json:"update_clip,omitempty"`
}

// PrivacyReport states the privacy unit and what each tenant spent.
type PrivacyReport struct {
	Unit             string   `json:"unit"`
	Delta            float64  `json:"delta"`
	NoiseMultiplier  float64  `json:"noise_multiplier"`
	SampleRate       float64  `json:"sample_rate"`
	StepsPerRound    int      `json:"steps_per_round"`
	EpsilonPerTenant Epsilons `json:"epsilon_per_tenant"`
	// ExactReleases names the exact (un-noised) record-level releases the
	// run made (Config.ExactReleases); each tenant that took part then has
	// ε = ∞ (null in JSON, with EpsilonInfinite set).
	ExactReleases   []string `json:"exact_releases,omitempty"`
	EpsilonInfinite bool     `json:"epsilon_infinite,omitempty"`
	// TenantLevel is set when tenant-level DP was added inside secure
	// aggregation.
	TenantLevel *TenantLevelReport `json:"tenant_level,omitempty"`
	// Mode is "distributed" for record-level DP with the noise added
	// inside secure aggregation (empty: local DP-SGD); HonestTenants is
	// the number of honest tenants its ε assumes in every unmasked sum,
	// and NoiseMultiplier the z those shares guarantee on the sum.
	Mode          string `json:"dp_mode,omitempty"`
	HonestTenants int    `json:"honest_tenants,omitempty"`
}

// TenantLevelReport states the tenant-level guarantee (distributed
// discrete Gaussian): ε per tenant over the rounds its update was in the
// sum, composed with the RDP accountant.
type TenantLevelReport struct {
	Unit             string   `json:"unit"`
	Delta            float64  `json:"delta"`
	Target           float64  `json:"target_epsilon"`
	EpsilonPerTenant Epsilons `json:"epsilon_per_tenant"` // null: ∞ (an exact release, as in the tenant's ledger)
}

// PartyFiles names a party's privacy ledger and public key.
type PartyFiles struct {
	Party     string `json:"party"`
	Ledger    string `json:"ledger"`
	PublicKey string `json:"public_key"`
}

// AuditCommand is the command that verifies the run's ledgers.
func (r *Report) AuditCommand() string {
	if len(r.Ledgers) == 0 {
		return ""
	}
	cmd := "fedb2b audit verify"
	for _, p := range r.Ledgers {
		cmd += " --pub " + p.Party + "=" + p.PublicKey
	}
	for _, p := range r.Ledgers {
		cmd += " " + p.Ledger
	}
	return cmd
}

// DroppedTenant is a tenant that vanished during secure aggregation.
type DroppedTenant struct {
	Round  int    `json:"round"`
	Tenant string `json:"tenant"`
	Stage  string `json:"stage"`
}

// SecureReport describes the secure aggregation of the run. Threshold and
// Neighbours 0 mean the defaults: ⌊k/2⌋+1 and the full graph.
type SecureReport struct {
	Protocol   string  `json:"protocol"`
	Threshold  int     `json:"threshold"`
	Neighbours int     `json:"neighbours"`
	Bits       int     `json:"bits"`
	UpdateClip float64 `json:"update_clip"`
	// ClippedUpdates counts updates scaled down to UpdateClip.
	ClippedUpdates int             `json:"clipped_updates"`
	Dropped        []DroppedTenant `json:"dropped"`
}

// Baseline is a baseline's metrics; LocalOnly also lists each tenant's.
type Baseline struct {
	Metrics
	PerTenant map[string]Metrics `json:"per_tenant,omitempty"`
}

// DataSummary describes the split.
type DataSummary struct {
	Labels         int            `json:"labels"`
	TrainPerTenant map[string]int `json:"train_per_tenant"`
	TestTotal      int            `json:"test_total"`
	Encoder        string         `json:"encoder"`
}

// Report is the outcome of a simulation.
type Report struct {
	Config DataSummary   `json:"data"`
	Rounds []RoundReport `json:"rounds"`
	Final  Metrics       `json:"final"`
	// FinalExact is the final global model on the union of the tenants'
	// held-out splits, counted exactly by the simulation (which holds all
	// the data) when the federation's own evaluation is noised: the figure
	// to compare with the baselines. The operator never sees it.
	FinalExact *Metrics `json:"final_exact,omitempty"`
	// FinalValues are the task kind's metrics of the last aggregated
	// round (models/task), FinalModel that round's global parameters.
	FinalValues map[string]float64 `json:"final_values,omitempty"`
	// FinalValuesSD is that round's ValuesSD.
	FinalValuesSD map[string]float64 `json:"final_values_noise_sd,omitempty"`
	// FinalUnmeasurable is that round's Unmeasurable.
	FinalUnmeasurable []string  `json:"final_values_not_measurable,omitempty"`
	FinalModel        []float64 `json:"-"`
	// learners are the ones the clients built (nil where none was).
	learners []modeltask.Learner
	// Spec is the task the federation ran.
	Spec protocol.TaskSpec `json:"-"`
	// FinalExactValues are the kind's metrics of FinalModel counted
	// exactly over every tenant's held-out data (RunTask with noised
	// evaluation; simulation only, the operator never sees them).
	FinalExactValues map[string]float64 `json:"final_exact_values,omitempty"`
	// FinalDeployedValues are the same for the predictions tenants deploy
	// (task.Deployer), when they differ from what evaluation may release.
	FinalDeployedValues map[string]float64 `json:"final_deployed_values,omitempty"`
	// BaselineValues are RunTask's baselines read with the kind's metrics
	// (local_only, centralized, and their _deployed figures).
	BaselineValues map[string]map[string]float64 `json:"baseline_values,omitempty"`
	Finish         string                        `json:"finish"`
	Baselines      map[string]Baseline           `json:"baselines,omitempty"`
	Privacy        PrivacyReport                 `json:"privacy"`
	// SecureAggregation is nil on the insecure plain path.
	SecureAggregation *SecureReport `json:"secure_aggregation,omitempty"`
	dropped           []DroppedTenant
	// Ledgers lists each party's ledger and public key (with Workdir).
	Ledgers []PartyFiles `json:"ledgers,omitempty"`
	Epsilon Epsilons     `json:"-"`
}

// Epsilons maps tenants to ε. An infinite ε (an exact release) is
// written as JSON null, which is what JSON has for it; the report says
// so in PrivacyReport.EpsilonInfinite.
type Epsilons map[string]float64

// MarshalJSON writes finite values as numbers and infinite or NaN ones
// as null.
func (m Epsilons) MarshalJSON() ([]byte, error) {
	out := make(map[string]*float64, len(m))
	for k, v := range m {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			out[k] = nil
			continue
		}
		out[k] = &v
	}
	return json.Marshal(out)
}

func summarise(cfg Config, s *splitData) DataSummary {
	d := DataSummary{Labels: len(s.labels), TrainPerTenant: map[string]int{}, Encoder: cfg.Encoder.ID()}
	for _, t := range s.tenants {
		d.TrainPerTenant[t.name] = len(t.train)
		d.TestTotal += len(t.test)
	}
	return d
}

// MetricsFromConfusion computes accuracy and macro-F1 (scikit-learn's
// convention, see models.ConfusionMatrix) from a row-major k×k confusion
// matrix, rows being the true class.
func MetricsFromConfusion(conf []int64, k int) Metrics {
	m := models.ConfusionMatrix{Classes: k, Counts: conf}
	return Metrics{Accuracy: m.Accuracy(), MacroF1: m.MacroF1(), Examples: m.Total()}
}
