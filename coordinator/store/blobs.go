package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxModelBytes bounds a stored model blob (1 GiB, as the client's download limit).
const MaxModelBytes = 1 << 30

const tmpPrefix = ".tmp-"

// writeBlob stores blob under its SHA-256 in dir and returns the hex hash.
// The file is complete and durable (file and directory fsynced) when
// writeBlob returns; an existing file of that name is left as it is.
func writeBlob(dir string, blob []byte) (string, error) {
	sum := sha256.Sum256(blob)
	hash := hex.EncodeToString(sum[:])
	final := filepath.Join(dir, hash)
	if _, err := os.Stat(final); err == nil {
		return hash, nil
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("store: blob: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(blob)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("store: failed to write blob %s: %w", hash, err)
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return hash, nil
}

// readBlob reads the blob named hash and checks its content.
func readBlob(dir, hash string, size int64) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, hash))
	if err != nil {
		return nil, fmt.Errorf("store: blob %s: %w", hash, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, size+1))
	if err != nil {
		return nil, fmt.Errorf("store: blob %s: %w", hash, err)
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != size || hex.EncodeToString(sum[:]) != hash {
		return nil, fmt.Errorf("store: blob %s: %w: content does not match its name (%d bytes, want %d)", hash, ErrCorrupt, len(b), size)
	}
	return b, nil
}

// sweepBlobs removes temporary files and blobs not in keep; it returns how
// many it removed.
func sweepBlobs(dir string, keep map[string]bool) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if keep[name] || e.IsDir() {
			continue
		}
		if strings.HasPrefix(name, tmpPrefix) || len(name) == 64 && isHex(name) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return n, fmt.Errorf("store: %w", err)
			}
			n++
		}
	}
	if n > 0 {
		return n, syncDir(dir)
	}
	return 0, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: failed to sync %s: %w", dir, err)
	}
	return nil
}
