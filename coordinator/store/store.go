package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors; test with errors.Is.
var (
	ErrLocked          = errors.New("store is open in another process")
	ErrCorrupt         = errors.New("store is corrupt")
	ErrNotFound        = errors.New("not found")
	ErrVersionConflict = errors.New("model version conflict")
	ErrRoundClosed     = errors.New("round attempt is closed")
	ErrRoundRunning    = errors.New("an earlier attempt of the round is still running")
	ErrStaleAttempt    = errors.New("attempt number is not after the round's previous attempts")
	ErrSessionReused   = errors.New("secure-aggregation session already used")
)

var (
	bucketMeta     = []byte("meta")
	bucketModels   = []byte("models")
	bucketRounds   = []byte("rounds")
	bucketSessions = []byte("sessions")
	bucketTenants  = []byte("tenants")
	bucketTasks    = []byte("tasks")
	keyFormat      = []byte("format")
)

// formatVersion is the layout version of state.db.
const formatVersion = "fedb2b-store-1"

// Store is an open store directory. Safe for concurrent use; one process at
// a time.
type Store struct {
	db    *bolt.DB
	blobs string
	now   func() time.Time
	swept int
}

// Options configures [OpenWith].
type Options struct {
	// LockTimeout is how long Open waits for another process to release
	// the directory (1 s if zero).
	LockTimeout time.Duration
	// Now stamps records (time.Now if nil).
	Now func() time.Time
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith opens the store in dir with options. It removes temporary and
// unreferenced blob files left by a crash.
func OpenWith(dir string, o Options) (*Store, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, "state.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	s := &Store{db: db, blobs: blobs, now: o.Now}
	keep := map[string]bool{}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketModels, bucketRounds, bucketSessions, bucketTenants, bucketTasks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch f := meta.Get(keyFormat); {
		case f == nil:
			return meta.Put(keyFormat, []byte(formatVersion))
		case string(f) != formatVersion:
			return fmt.Errorf("%w: format %q, want %q", ErrCorrupt, f, formatVersion)
		}
		return tx.Bucket(bucketModels).ForEach(func(k, v []byte) error {
			m, err := decodeModel(v)
			if err != nil {
				return fmt.Errorf("%w: models/%d: %w", ErrCorrupt, key64(k), err)
			}
			keep[m.Hash] = true
			return nil
		})
	})
	if err == nil {
		s.swept, err = sweepBlobs(blobs, keep)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", dir, err)
	}
	return s, nil
}

// Swept reports how many leftover temporary or unreferenced blob files
// Open removed (non-zero after a crash between writing a blob and
// committing it).
func (s *Store) Swept() int { return s.swept }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func key64(k []byte) int64 {
	if len(k) < 8 {
		return -1
	}
	return int64(binary.BigEndian.Uint64(k))
}

// PutModel stores blob as model version (>= 0). Versions are contiguous:
// the first version stored may be any, each later one is the latest plus
// one. Storing the same bytes under an existing version is a no-op;
// different bytes fail with [ErrVersionConflict]. It returns the blob's
// SHA-256 in lowercase hex.
func (s *Store) PutModel(version int, blob []byte) (string, error) {
	if err := checkBlob(version, blob); err != nil {
		return "", err
	}
	hash, err := writeBlob(s.blobs, blob)
	if err != nil {
		return "", err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return s.putModelTx(tx, version, hash, int64(len(blob)))
	})
	return hash, err
}

func checkBlob(version int, blob []byte) error {
	if version < 0 || version > 1<<31-1 {
		return fmt.Errorf("store: model version %d out of range", version)
	}
	if len(blob) > MaxModelBytes {
		return fmt.Errorf("store: model of %d bytes, at most %d", len(blob), MaxModelBytes)
	}
	return nil
}

func (s *Store) putModelTx(tx *bolt.Tx, version int, hash string, size int64) error {
	b := tx.Bucket(bucketModels)
	var stored string
	v := b.Get(itob(uint64(version)))
	if v != nil {
		m, err := decodeModel(v)
		if err != nil {
			return fmt.Errorf("store: %w: models/%d: %w", ErrCorrupt, version, err)
		}
		stored = m.Hash
	}
	k, _ := b.Cursor().Last()
	noop, err := CheckNextVersion(version, hash, v != nil, stored, int(key64(k)), k != nil)
	if err != nil || noop {
		return err
	}
	return b.Put(itob(uint64(version)), encode(modelEntry{Hash: hash, Size: size, Created: s.now().UTC()}))
}

// Model returns the bytes of model version, checked against their hash.
func (s *Store) Model(version int) ([]byte, error) {
	var m modelEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		if version < 0 {
			return fmt.Errorf("store: model version %d: %w", version, ErrNotFound)
		}
		v := tx.Bucket(bucketModels).Get(itob(uint64(version)))
		if v == nil {
			return fmt.Errorf("store: model version %d: %w", version, ErrNotFound)
		}
		var err error
		if m, err = decodeModel(v); err != nil {
			return fmt.Errorf("store: %w: models/%d: %w", ErrCorrupt, version, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return readBlob(s.blobs, m.Hash, m.Size)
}

// ModelHash returns the SHA-256 (lowercase hex) of model version.
func (s *Store) ModelHash(version int) (string, error) {
	var h string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketModels).Get(itob(uint64(version)))
		if v == nil || version < 0 {
			return fmt.Errorf("store: model version %d: %w", version, ErrNotFound)
		}
		m, err := decodeModel(v)
		h = m.Hash
		return err
	})
	return h, err
}

// LatestVersion returns the newest model version; ok is false if none is
// stored.
func (s *Store) LatestVersion() (version int, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketModels).Cursor().Last()
		if k != nil {
			version, ok = int(key64(k)), true
		}
		return nil
	})
	return version, ok, err
}
