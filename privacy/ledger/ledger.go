package ledger

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fedb2b/fedb2b/privacy/keys"
)

// ErrLocked is returned by [Open] when another writer holds the ledger.
var ErrLocked = errors.New("ledger: locked by another writer")

// ErrReadOnly is returned when writing to a ledger opened without a signer.
var ErrReadOnly = errors.New("ledger: opened read-only")

// Ledger is an open ledger file. Its methods are safe for concurrent use
// within one process; [Open] refuses a second writer on the same file.
type Ledger struct {
	mu      sync.Mutex
	path    string
	f       *os.File // nil when read-only
	signer  ed25519.PrivateKey
	keyID   string
	now     func() time.Time
	entries []Entry
	replay  *Replay
	torn    int
	broken  error // set when a failed append could not be undone
}

// Option configures [Open].
type Option func(*Ledger)

// WithClock sets the clock that stamps appended entries (default
// time.Now); tests use it for reproducible ledgers.
func WithClock(now func() time.Time) Option { return func(l *Ledger) { l.now = now } }

// Open opens the ledger at path. With a signer it opens for writing:
// it creates the file if needed (and syncs its directory), takes an
// exclusive lock ([ErrLocked] if another writer holds it), removes a torn
// last line (see [ErrTornTail]; [Ledger.TornBytes] reports it), and checks
// every existing entry: encoding, hash chain, that it was signed by signer,
// and that its recorded ε equals the recomputed one. With a nil signer it
// opens read-only: the file must exist, nothing is modified, and the
// signatures are not checked (an auditor checks them with package audit).
//
// A line that fails any check is an error naming its line; it is never
// skipped.
func Open(path string, signer ed25519.PrivateKey, opts ...Option) (*Ledger, error) {
	l := &Ledger{path: path, signer: signer, now: time.Now, replay: NewReplay()}
	for _, o := range opts {
		o(l)
	}
	if signer == nil {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		return l, l.load(b)
	}
	if len(signer) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("ledger: signer has %d bytes, want %d", len(signer), ed25519.PrivateKeySize)
	}
	l.keyID = keys.ID(signer.Public().(ed25519.PublicKey))
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s", err, path)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
	}
	l.f = f
	if err := l.openForWrite(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func (l *Ledger) openForWrite() error {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := l.load(b); err != nil {
		return err
	}
	if l.torn > 0 {
		if err := l.f.Truncate(int64(len(b) - l.torn)); err != nil {
			return fmt.Errorf("ledger: failed to remove torn last line of %s: %w", l.path, err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("ledger: failed to sync %s: %w", l.path, err)
		}
	}
	return nil
}

// load decodes b and checks every entry; torn tails are recorded, not
// errors.
func (l *Ledger) load(b []byte) error {
	entries, torn, err := Decode(b)
	var le *LineError
	if errors.As(err, &le) {
		le.Path = l.path
		return le
	}
	l.torn = torn
	for i, e := range entries {
		if err := l.admit(e); err != nil {
			return &LineError{Path: l.path, Line: i + 1, Err: err}
		}
	}
	return nil
}

// admit checks e against the ledger so far and adds it.
func (l *Ledger) admit(e Entry) error {
	var prev *Entry
	if n := len(l.entries); n > 0 {
		prev = &l.entries[n-1]
	}
	if err := Link(prev, e); err != nil {
		return err
	}
	if prev != nil && e.Party != l.entries[0].Party {
		return fmt.Errorf("party %q differs from this ledger's party %q", e.Party, l.entries[0].Party)
	}
	if l.signer != nil {
		if err := e.VerifySignature(l.signer.Public().(ed25519.PublicKey)); err != nil {
			return err
		}
	}
	eps, err := l.replay.Apply(e)
	if err != nil {
		return err
	}
	if !epsEqual(eps, float64(e.EpsilonCumulative)) {
		return fmt.Errorf("recorded epsilon_cumulative %v differs from recomputed %v", e.EpsilonCumulative, eps)
	}
	l.entries = append(l.entries, e)
	return nil
}

// EpsilonRelTol is the relative tolerance within which a recorded ε must
// equal the recomputed one.
const EpsilonRelTol = 1e-9

func epsEqual(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	d := a - b
	if d < 0 {
		d = -d
	}
	m := max(a, b, -a, -b)
	return d <= EpsilonRelTol*m || d <= 1e-15
}

// EpsilonEqual reports whether a recorded and a recomputed ε agree within
// [EpsilonRelTol] (an infinite ε equals only itself).
func EpsilonEqual(recorded Epsilon, recomputed float64) bool {
	return epsEqual(float64(recorded), recomputed)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ledger: failed to open directory for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ledger: failed to sync directory %s: %w", dir, err)
	}
	return nil
}

// Close releases the lock and closes the file.
func (l *Ledger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	l.broken = errors.New("ledger: closed")
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// Path returns the file the ledger was opened from.
func (l *Ledger) Path() string { return l.path }

// KeyID returns the writer's key id ("" when read-only).
func (l *Ledger) KeyID() string { return l.keyID }

// TornBytes returns how many bytes of a torn last line Open found (and,
// when writing, removed).
func (l *Ledger) TornBytes() int { return l.torn }
