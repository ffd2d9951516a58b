package embcache

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"filippo.io/age"

	"github.com/fedb2b/fedb2b/models"
)

// nameLabel separates the file-name key from other uses of the identity.
const nameLabel = "fedb2b embcache file names v1"

// Options configure a cache.
type Options struct {
	// Identity, when set, age-encrypts every entry to its recipient and
	// keys file names with a secret derived from it. The same identity is
	// needed to read the cache later.
	Identity *age.X25519Identity
}

// Cache is a models.Encoder that answers from disk and asks the wrapped
// encoder only for texts it has not seen. It is safe for concurrent use.
type Cache struct {
	inner   models.Encoder
	id      string
	dim     int
	dir     string // DIR/<encoder>
	nameKey []byte // nil: plain SHA-256 names
	ident   *age.X25519Identity
	hits    atomic.Int64
	misses  atomic.Int64
}

var _ models.Encoder = (*Cache)(nil)

// Wrap returns enc with an on-disk cache under dir (created 0700 if
// missing; the per-encoder folder inside it is always 0700). The returned encoder has enc's ID and dimension.
func Wrap(enc models.Encoder, dir string, opt Options) (models.Encoder, error) {
	return New(enc, dir, opt)
}

// New is Wrap returning the concrete type, for callers that want Stats.
func New(enc models.Encoder, dir string, opt Options) (*Cache, error) {
	if enc == nil {
		return nil, errors.New("embcache: nil encoder")
	}
	if dir == "" {
		return nil, errors.New("embcache: empty cache directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embcache: creating %s: %w", dir, err)
	}
	id := enc.ID()
	if id == "" || enc.Dim() <= 0 {
		return nil, fmt.Errorf("embcache: encoder has ID %q and dimension %d", id, enc.Dim())
	}
	c := &Cache{inner: enc, id: id, dim: enc.Dim(), ident: opt.Identity}
	idHash := sha256.Sum256([]byte(id))
	c.dir = filepath.Join(dir, hex.EncodeToString(idHash[:16]))
	if opt.Identity != nil {
		k := sha256.Sum256([]byte(nameLabel + "\x00" + opt.Identity.String()))
		c.nameKey = k[:]
	}
	if err := privateDir(c.dir); err != nil {
		return nil, err
	}
	return c, nil
}

// privateDir creates dir with mode 0700, or checks that an existing dir is
// not accessible to group or others.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("embcache: creating %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("embcache: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("embcache: %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("embcache: directory %s has mode %04o, want 0700 (cached vectors are private data)", dir, st.Mode().Perm())
	}
	return nil
}

// Unwrap returns the encoder the cache wraps (for adapters that need the
// model itself, such as LoRA inside a BERT encoder).
func (c *Cache) Unwrap() models.Encoder { return c.inner }

// ID is the wrapped encoder's ID.
func (c *Cache) ID() string { return c.id }

// Dim is the wrapped encoder's dimension.
func (c *Cache) Dim() int { return c.dim }

// Stats reports how many texts were answered from disk (hits) and how many
// were sent to the wrapped encoder (misses) since New.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// path returns the entry file of a text hash.
func (c *Cache) path(textHash [32]byte) string {
	var name string
	if c.nameKey != nil {
		m := hmac.New(sha256.New, c.nameKey)
		m.Write([]byte(c.id))
		m.Write([]byte{0})
		m.Write(textHash[:])
		name = hex.EncodeToString(m.Sum(nil)) + ".age"
	} else {
		name = hex.EncodeToString(textHash[:]) + ".vec"
	}
	return filepath.Join(c.dir, name[:2], name)
}

// Encode answers each text from the cache, encodes the missing ones (each
// distinct text once) with the wrapped encoder, and stores them.
func (c *Cache) Encode(ctx context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	var missTexts []string
	missAt := map[string][]int{}
	for i, t := range texts {
		h := sha256.Sum256([]byte(t))
		v, err := c.load(c.path(h), h)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[i] = v
			c.hits.Add(1)
			continue
		}
		if _, seen := missAt[t]; !seen {
			missTexts = append(missTexts, t)
		}
		missAt[t] = append(missAt[t], i)
	}
	if len(missTexts) == 0 {
		return out, nil
	}
	vecs, err := c.inner.Encode(ctx, missTexts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(missTexts) {
		return nil, fmt.Errorf("embcache: encoder %s returned %d vectors for %d texts", c.id, len(vecs), len(missTexts))
	}
	for j, t := range missTexts {
		if len(vecs[j]) != c.dim {
			return nil, fmt.Errorf("embcache: encoder %s returned a vector of dimension %d, want %d", c.id, len(vecs[j]), c.dim)
		}
		h := sha256.Sum256([]byte(t))
		if err := c.store(c.path(h), h, vecs[j]); err != nil {
			return nil, err
		}
		for k, i := range missAt[t] {
			if k == 0 {
				out[i] = vecs[j]
			} else {
				out[i] = append([]float64(nil), vecs[j]...)
			}
		}
		c.misses.Add(1)
	}
	return out, nil
}
