package ledger

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/fedb2b/fedb2b/privacy"
)

// Accountant is the composition state the ledger replays recorded releases
// into. Mechanisms compose into it through the capability interfaces they
// need (for example [GaussianComposer]); an accountant that lacks one makes
// the mechanism fail with a clear error rather than guess.
type Accountant interface {
	// Epsilon is the ε of everything composed so far at delta.
	Epsilon(delta float64) (float64, error)
	// Clone returns an independent copy (used to test a plan without
	// spending it).
	Clone() Accountant
}

// GaussianComposer is the capability to compose steps of the
// Poisson-subsampled Gaussian mechanism (q = 1: no subsampling).
type GaussianComposer interface {
	ComposeGaussian(q, sigma float64, steps int) error
}

// Mechanism turns the recorded parameters of a release into accountant
// events. Register new mechanisms with [RegisterMechanism].
type Mechanism struct {
	// Name is what entries record in their mechanism field.
	Name string
	// Validate checks that p holds every parameter the mechanism needs,
	// each in range, and no parameter it does not use.
	Validate func(p Params) error
	// Compose adds the release described by p to acc.
	Compose func(acc Accountant, p Params) error
}

// DefaultAccountant is the accountant name [Ledger.Append] records when an
// entry names none: privacy.RDPAccountant over privacy.DefaultRDPOrders.
const DefaultAccountant = "rdp"

// AccountantPLD names privacy.PLDAccountant with privacy.DefaultPLDInterval:
// a tighter ε than RDP at a higher cost.
const AccountantPLD = "pld"

// The mechanisms registered by this package.
const (
	// MechDPSGD is DP-SGD with Poisson sampling: Steps steps, each sampling
	// every record with probability SamplingRate, clipping to ClipNorm and
	// adding Gaussian noise of std NoiseMultiplier·ClipNorm.
	MechDPSGD = "dpsgd-poisson-gaussian"
	// MechScalarGaussian is Steps releases of a statistic with L2
	// sensitivity ClipNorm plus Gaussian noise of std
	// NoiseMultiplier·ClipNorm, without subsampling.
	MechScalarGaussian = "scalar-gaussian"
)

var (
	regMu        sync.RWMutex
	mechanisms   = map[string]Mechanism{}
	accountants  = map[string]func() Accountant{}
	errNoGauss   = errors.New("accountant cannot compose Gaussian mechanisms")
	errEmptyName = errors.New("name is empty")
)

// RegisterMechanism makes m available to entries. Registering a name twice
// or an incomplete mechanism is a programmer error and panics.
func RegisterMechanism(m Mechanism) {
	if m.Name == "" || m.Validate == nil || m.Compose == nil {
		panic("ledger: incomplete mechanism registration")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := mechanisms[m.Name]; dup {
		panic("ledger: mechanism registered twice: " + m.Name)
	}
	mechanisms[m.Name] = m
}

// LookupMechanism returns the registered mechanism called name.
func LookupMechanism(name string) (Mechanism, error) {
	if name == "" {
		return Mechanism{}, fmt.Errorf("mechanism %w", errEmptyName)
	}
	regMu.RLock()
	defer regMu.RUnlock()
	m, ok := mechanisms[name]
	if !ok {
		return Mechanism{}, fmt.Errorf("unknown mechanism %q", name)
	}
	return m, nil
}

// Mechanisms returns the registered mechanism names, sorted.
func Mechanisms() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(mechanisms))
	for n := range mechanisms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// RegisterAccountant makes an accountant constructor available under name.
// Registering a name twice panics.
func RegisterAccountant(name string, newAcc func() Accountant) {
	if name == "" || newAcc == nil {
		panic("ledger: incomplete accountant registration")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := accountants[name]; dup {
		panic("ledger: accountant registered twice: " + name)
	}
	accountants[name] = newAcc
}

// LookupAccountant returns the constructor registered under name.
func LookupAccountant(name string) (func() Accountant, error) {
	if name == "" {
		return nil, fmt.Errorf("accountant %w", errEmptyName)
	}
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := accountants[name]
	if !ok {
		return nil, fmt.Errorf("unknown accountant %q", name)
	}
	return f, nil
}

// rdpAccountant adapts privacy.RDPAccountant (dp_accounting's default
// orders) to Accountant and GaussianComposer.
type rdpAccountant struct{ a *privacy.RDPAccountant }

func (r rdpAccountant) Epsilon(delta float64) (float64, error) {
	eps, _, err := r.a.Epsilon(delta)
	return eps, err
}

func (r rdpAccountant) Clone() Accountant { return rdpAccountant{r.a.Clone()} }

func (r rdpAccountant) ComposeGaussian(q, sigma float64, steps int) error {
	return r.a.Compose(q, sigma, steps)
}

// pldAccountant adapts privacy.PLDAccountant.
type pldAccountant struct{ a *privacy.PLDAccountant }

func (p pldAccountant) Epsilon(delta float64) (float64, error) { return p.a.Epsilon(delta) }

func (p pldAccountant) Clone() Accountant { return pldAccountant{p.a.Clone()} }

func (p pldAccountant) ComposeGaussian(q, sigma float64, steps int) error {
	return p.a.Compose(q, sigma, steps)
}

func init() {
	RegisterAccountant(DefaultAccountant, func() Accountant { return rdpAccountant{privacy.NewRDPAccountant(nil)} })
	RegisterAccountant(AccountantPLD, func() Accountant { return pldAccountant{privacy.NewPLDAccountant(0)} })
	RegisterMechanism(Mechanism{Name: MechDPSGD, Validate: validateDPSGD, Compose: composeDPSGD})
	RegisterMechanism(Mechanism{Name: MechScalarGaussian, Validate: validateScalarGaussian, Compose: composeScalarGaussian})
	RegisterMechanism(Mechanism{Name: MechDDG, Validate: validateDDG, Compose: composeDDG})
	RegisterMechanism(Mechanism{Name: MechExact, Validate: validateExact, Compose: composeExact})
	RegisterMechanism(Mechanism{Name: MechDDGRecord, Validate: validateDDGRecord, Compose: composeDDGRecord})
}

func positiveFinite(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%s %g is not a positive finite number", name, v)
	}
	return nil
}

func validateGaussianCommon(p Params) error {
	if err := positiveFinite("noise_multiplier", p.NoiseMultiplier); err != nil {
		return err
	}
	if err := positiveFinite("clip_norm", p.ClipNorm); err != nil {
		return err
	}
	if p.Steps < 1 {
		return fmt.Errorf("steps %d is not at least 1", p.Steps)
	}
	if p.CohortSize != 0 || p.Bits != 0 {
		return errors.New("cohort_size and bits are not parameters of this mechanism")
	}
	if p.Dim != 0 || p.Gamma != 0 || p.ShareSigma != 0 || p.Beta != 0 || p.Shares != 0 || p.SumClip != 0 {
		return errors.New("dim, gamma, share_sigma, beta, shares and sum_clip are not parameters of this mechanism")
	}
	return nil
}

func validateDPSGD(p Params) error {
	if !(p.SamplingRate > 0 && p.SamplingRate <= 1) {
		return fmt.Errorf("sampling_rate %g is not in (0, 1]", p.SamplingRate)
	}
	return validateGaussianCommon(p)
}

func composeDPSGD(acc Accountant, p Params) error {
	g, ok := acc.(GaussianComposer)
	if !ok {
		return errNoGauss
	}
	return g.ComposeGaussian(p.SamplingRate, p.NoiseMultiplier, p.Steps)
}

func validateScalarGaussian(p Params) error {
	if p.SamplingRate != 0 {
		return errors.New("sampling_rate is not a parameter of this mechanism (no subsampling)")
	}
	return validateGaussianCommon(p)
}

func composeScalarGaussian(acc Accountant, p Params) error {
	g, ok := acc.(GaussianComposer)
	if !ok {
		return errNoGauss
	}
	return g.ComposeGaussian(1, p.NoiseMultiplier, p.Steps)
}
