package client

import (
	"encoding/hex"
	"fmt"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// LedgerSpendLog keeps a tenant's record-level spends in its own signed,
// hash-chained privacy ledger (package privacy/ledger): an intent entry,
// fsynced, before anything is released, and a released entry after.
type LedgerSpendLog struct {
	l      *ledger.Ledger
	tenant string
}

var _ SpendLog = (*LedgerSpendLog)(nil)

// NewLedgerSpendLog uses l, opened for writing with the tenant's key.
func NewLedgerSpendLog(l *ledger.Ledger, tenant string) *LedgerSpendLog {
	return &LedgerSpendLog{l: l, tenant: tenant}
}

// Spends implements SpendLog: every record-level intent of the tenant
// (DP-SGD, noised evaluations and counts, exact releases), released or
// not (a crash after the intent still counts).
func (s *LedgerSpendLog) Spends() []Spend {
	var out []Spend
	for _, e := range s.l.Entries() {
		if e.Status != ledger.StatusIntent || e.Tenant != s.tenant || e.Unit != ledger.UnitRecord {
			continue
		}
		sp := Spend{Task: e.Task, Round: int(e.Round), SampleRate: e.Params.SamplingRate,
			NoiseMultiplier: e.Params.NoiseMultiplier, ClipNorm: e.Params.ClipNorm, Steps: e.Params.Steps}
		switch e.Mechanism {
		case ledger.MechDPSGD:
		case ledger.MechScalarGaussian:
			sp.Kind, sp.SampleRate = SpendEval, 1
		case ledger.MechExact:
			sp = ExactSpend(e.Task, int(e.Round))
			sp.Steps = e.Params.Steps
		case ledger.MechDDGRecord:
			p := e.Params
			sp.Kind, sp.Distributed, sp.NoiseMultiplier = SpendDistributed, &p, ledger.DDGRecord(p).NoiseMultiplier()
		default:
			continue
		}
		out = append(out, sp)
	}
	return out
}

// Record implements SpendLog: it appends a durable intent. The ledger
// refuses it if the recomputed ε would exceed b.Epsilon, except an exact
// release (SpendExact, ledger.MechExact), which it records at ε = ∞.
func (s *LedgerSpendLog) Record(sp Spend, b Budget) (uint64, error) {
	mech := ledger.MechDPSGD
	params := ledger.Params{SamplingRate: sp.SampleRate, NoiseMultiplier: sp.NoiseMultiplier, ClipNorm: sp.ClipNorm, Steps: sp.Steps}
	switch sp.Kind {
	case SpendEval:
		mech, params.SamplingRate = ledger.MechScalarGaussian, 0
	case SpendExact:
		mech, params = ledger.MechExact, ledger.Params{Steps: max(sp.Steps, 1)}
	case SpendDistributed:
		if sp.Distributed == nil {
			return 0, fmt.Errorf("client: distributed spend of round %d has no parameters", sp.Round)
		}
		mech, params = ledger.MechDDGRecord, *sp.Distributed
	}
	e, err := s.l.Append(ledger.Entry{
		Party: s.tenant, Task: sp.Task, Round: int64(sp.Round), Tenant: s.tenant, Unit: ledger.UnitRecord,
		Mechanism: mech, Params: params, Delta: b.Delta, EpsilonCap: b.Epsilon,
	})
	if err != nil {
		return 0, fmt.Errorf("client: ledger: %w", err)
	}
	return e.Seq, nil
}

// Released implements SpendLog.
func (s *LedgerSpendLog) Released(id uint64, hash [32]byte) error {
	if _, err := s.l.Release(id, hex.EncodeToString(hash[:])); err != nil {
		return fmt.Errorf("client: ledger: %w", err)
	}
	return nil
}

// CheckTenantLevel implements TenantLevelChecker with the ledger's own
// replay of the tenant's tenant-level entries.
func (s *LedgerSpendLog) CheckTenantLevel(p ledger.Params, delta, cap float64) (float64, bool, error) {
	return s.l.Check(s.tenant, ledger.UnitTenant, ledger.Plan{Mechanism: ledger.MechDDG, Params: p}, cap, delta)
}

// RecordTenantLevel implements SpendLog.
func (s *LedgerSpendLog) RecordTenantLevel(task string, round int, p ledger.Params, delta, cap float64) (uint64, error) {
	e, err := s.l.Append(ledger.Entry{
		Party: s.tenant, Task: task, Round: int64(round), Tenant: s.tenant, Unit: ledger.UnitTenant,
		Mechanism: ledger.MechDDG, Params: p, Delta: delta, EpsilonCap: cap,
	})
	if err != nil {
		return 0, fmt.Errorf("client: ledger: %w", err)
	}
	return e.Seq, nil
}

// HeadSource is a SpendLog that can sign its newest entry for the
// coordinator to record (see privacy/ledger.Head); the client sends it
// with every submission.
type HeadSource interface {
	Head() (*api.LedgerHead, error)
}

var _ HeadSource = (*LedgerSpendLog)(nil)

// Head implements HeadSource (nil when the ledger is empty).
func (s *LedgerSpendLog) Head() (*api.LedgerHead, error) {
	h, ok, err := s.l.Head()
	if err != nil || !ok {
		return nil, err
	}
	return &api.LedgerHead{Seq: h.Seq, Hash: h.Hash, Signature: h.Signature}, nil
}
