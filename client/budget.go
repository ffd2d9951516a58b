package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/fedb2b/fedb2b/privacy"
)

// Spend is one record-level DP-SGD release of the tenant.
type Spend struct {
	Task            string  `json:"task"`
	Round           int     `json:"round"`
	SampleRate      float64 `json:"q"`
	NoiseMultiplier float64 `json:"noise_multiplier"`
	ClipNorm        float64 `json:"clip_norm"`
	Steps           int     `json:"steps"`
}

// SpendLog is where a client records what it spent, durably, before it
// releases anything. FileSpendLog is the simple implementation.
type SpendLog interface {
	// Spends returns every recorded spend, oldest first.
	Spends() []Spend
	// Record appends s durably (it survives a crash once Record returns).
	Record(s Spend) error
}

// Budget is a tenant's record-level privacy cap.
type Budget struct {
	Epsilon float64
	Delta   float64
}

// Epsilon returns the ε (at delta) of spends composed, computed by the RDP
// accountant from the recorded parameters.
func Epsilon(spends []Spend, delta float64) (float64, error) {
	acc := privacy.NewRDPAccountant(nil)
	for _, s := range spends {
		if err := acc.Compose(s.SampleRate, s.NoiseMultiplier, s.Steps); err != nil {
			return 0, fmt.Errorf("client: spend of round %d: %w", s.Round, err)
		}
	}
	if acc.Steps() == 0 {
		return 0, nil
	}
	eps, _, err := acc.Epsilon(delta)
	return eps, err
}

// FileSpendLog keeps spends as JSON lines in a file, fsynced after every
// append. A torn last line (crash mid-write) is an error that names it, so
// it is never silently dropped.
type FileSpendLog struct {
	mu     sync.Mutex
	path   string
	spends []Spend
}

// OpenFileSpendLog opens (or creates) the log at path.
func OpenFileSpendLog(path string) (*FileSpendLog, error) {
	l := &FileSpendLog{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client: failed to read spend log: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		var s Spend
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("client: spend log %s line %d: %w", path, line, err)
		}
		l.spends = append(l.spends, s)
	}
	return l, sc.Err()
}

// Spends implements SpendLog.
func (l *FileSpendLog) Spends() []Spend {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Spend(nil), l.spends...)
}

// Record implements SpendLog.
func (l *FileSpendLog) Record(s Spend) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("client: failed to open spend log: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("client: failed to write spend log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("client: failed to sync spend log: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	l.spends = append(l.spends, s)
	return nil
}

// MemSpendLog is an in-memory SpendLog for simulations and tests.
type MemSpendLog struct {
	mu     sync.Mutex
	spends []Spend
}

// Spends implements SpendLog.
func (l *MemSpendLog) Spends() []Spend {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Spend(nil), l.spends...)
}

// Record implements SpendLog.
func (l *MemSpendLog) Record(s Spend) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spends = append(l.spends, s)
	return nil
}
