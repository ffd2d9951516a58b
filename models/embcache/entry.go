package embcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"filippo.io/age"
)

// magic starts every plaintext entry.
const magic = "fedb2b-embcache-v1\n"

// maxEntry bounds an entry file (a 1 MB ID plus 1M floats is far beyond
// any real encoder).
const maxEntry = 16 << 20

// marshal encodes an entry: magic, uint32 ID length, ID, the 32-byte text
// hash, uint32 dimension, then the vector as little-endian float64s.
func marshal(id string, textHash [32]byte, v []float64) []byte {
	b := make([]byte, 0, len(magic)+4+len(id)+32+4+8*len(v))
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(id)))
	b = append(b, id...)
	b = append(b, textHash[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// unmarshal decodes an entry and checks it against the expected ID, text
// hash and dimension.
func unmarshal(b []byte, id string, textHash [32]byte, dim int) ([]float64, error) {
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil, errors.New("not a cache entry (bad magic)")
	}
	b = b[len(magic):]
	if len(b) < 4 {
		return nil, errors.New("truncated")
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(len(b)) < uint64(n)+36 {
		return nil, errors.New("truncated")
	}
	if got := string(b[:n]); got != id {
		return nil, fmt.Errorf("entry is for encoder %q, not %q", got, id)
	}
	b = b[n:]
	if !bytes.Equal(b[:32], textHash[:]) {
		return nil, errors.New("entry is for another text")
	}
	d := binary.LittleEndian.Uint32(b[32:])
	b = b[36:]
	if int64(d) != int64(dim) || len(b) != 8*dim {
		return nil, fmt.Errorf("entry has dimension %d and %d data bytes, want dimension %d", d, len(b), dim)
	}
	v := make([]float64, dim)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// load returns the cached vector at path, nil if there is none, or an error
// naming the file if it exists but cannot be used.
func (c *Cache) load(path string, textHash [32]byte) ([]float64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("embcache: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if c.ident != nil {
		if r, err = age.Decrypt(f, c.ident); err != nil {
			return nil, fmt.Errorf("embcache: decrypting %s (another identity? delete the cache to rebuild it): %w", path, err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, maxEntry+1))
	if err != nil {
		return nil, fmt.Errorf("embcache: reading %s: %w", path, err)
	}
	if len(b) > maxEntry {
		return nil, fmt.Errorf("embcache: %s: entry larger than %d bytes", path, maxEntry)
	}
	v, err := unmarshal(b, c.id, textHash, c.dim)
	if err != nil {
		return nil, fmt.Errorf("embcache: %s: %w (delete it to rebuild)", path, err)
	}
	return v, nil
}

// store writes an entry atomically: a 0600 temporary file in the same
// directory, fsync, rename.
func (c *Cache) store(path string, textHash [32]byte, v []float64) (err error) {
	sub := filepath.Dir(path)
	if err := os.Mkdir(sub, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("embcache: %w", err)
	}
	tmp, err := os.CreateTemp(sub, ".tmp-*")
	if err != nil {
		return fmt.Errorf("embcache: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("embcache: %w", err)
	}
	plain := marshal(c.id, textHash, v)
	if c.ident != nil {
		w, err := age.Encrypt(tmp, c.ident.Recipient())
		if err != nil {
			return fmt.Errorf("embcache: encrypting: %w", err)
		}
		if _, err := w.Write(plain); err != nil {
			return fmt.Errorf("embcache: writing %s: %w", tmp.Name(), err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("embcache: writing %s: %w", tmp.Name(), err)
		}
	} else if _, err := tmp.Write(plain); err != nil {
		return fmt.Errorf("embcache: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("embcache: syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("embcache: closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("embcache: %w", err)
	}
	return nil
}
