package keys

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// seedLabel prefixes the seed inside the encrypted payload, so that a file
// encrypted for another purpose with the same identity is not mistaken for
// a signing key.
const seedLabel = "fedb2b-ed25519-seed"

// maxKeyFile bounds how much of a key file is read.
const maxKeyFile = 64 << 10

// ErrExists is returned by [Save] and [WritePublic] when the destination
// already exists: keys are never silently overwritten.
var ErrExists = errors.New("keys: file already exists")

// Generate returns a new ed25519 private key drawn from rand (crypto/rand
// when nil).
func Generate(rand io.Reader) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("keys: failed to generate key: %w", err)
	}
	return priv, nil
}

// ID returns the key id of pub: lowercase hex of the first 8 bytes of
// SHA-256(pub). It panics if pub is not 32 bytes (a programmer error).
func ID(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		panic("keys: ID of a public key that is not 32 bytes")
	}
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PassphraseRecipient returns the age recipient that encrypts to passphrase
// with scrypt work factor 2^logN (0 means age's default, 18).
func PassphraseRecipient(passphrase string, logN int) (age.Recipient, error) {
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("keys: invalid passphrase: %w", err)
	}
	if logN > 0 {
		r.SetWorkFactor(logN)
	}
	return r, nil
}

// PassphraseIdentity returns the age identity that decrypts a file written
// with [PassphraseRecipient].
func PassphraseIdentity(passphrase string) (age.Identity, error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("keys: invalid passphrase: %w", err)
	}
	return id, nil
}

// ReadIdentityFile parses an age identity file (AGE-SECRET-KEY-1... lines)
// and returns its X25519 identities. They decrypt; their Recipient methods
// give what [Save] encrypts to.
func ReadIdentityFile(path string) ([]*age.X25519Identity, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("keys: %s: invalid age identity file: %w", path, err)
	}
	var out []*age.X25519Identity
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("keys: %s: no X25519 identity in file", path)
	}
	return out, nil
}

// Save encrypts priv to recipient and writes it to path with mode 0600,
// refusing to overwrite an existing file ([ErrExists]). The file is synced
// before Save returns.
func Save(path string, priv ed25519.PrivateKey, recipient age.Recipient) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("keys: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipient)
	if err != nil {
		return fmt.Errorf("keys: failed to encrypt key: %w", err)
	}
	line := seedLabel + " " + base64.StdEncoding.EncodeToString(priv.Seed()) + "\n"
	if _, err := io.WriteString(w, line); err != nil {
		return fmt.Errorf("keys: failed to encrypt key: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("keys: failed to encrypt key: %w", err)
	}
	return writeNew(path, buf.Bytes(), 0o600)
}

// Load decrypts the key file at path with identity and returns the private
// key. A wrong passphrase or identity is reported without key material.
func Load(path string, identity age.Identity) (ed25519.PrivateKey, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(b), identity)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: failed to decrypt signing key: %w", path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 1024))
	if err != nil {
		return nil, fmt.Errorf("keys: %s: failed to decrypt signing key: %w", path, err)
	}
	f := strings.Fields(string(plain))
	if len(f) != 2 || f[0] != seedLabel {
		return nil, fmt.Errorf("keys: %s: decrypted payload is not a fedb2b signing key", path)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(f[1])
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys: %s: decrypted payload holds a malformed seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// MarshalPublic returns the public key file contents for pub.
func MarshalPublic(pub ed25519.PublicKey) []byte {
	return []byte("# fedb2b ed25519 ledger signing key, id " + ID(pub) + "\n" +
		base64.StdEncoding.EncodeToString(pub) + "\n")
}

// ParsePublic parses a public key file: '#' comment lines, blank lines, and
// exactly one line holding 32 bytes in standard base64 or hex.
func ParsePublic(b []byte) (ed25519.PublicKey, error) {
	var key ed25519.PublicKey
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if key != nil {
			return nil, fmt.Errorf("keys: line %d: more than one key in public key file", n)
		}
		k, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("keys: line %d: %w", n, err)
		}
		key = k
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keys: failed to read public key: %w", err)
	}
	if key == nil {
		return nil, errors.New("keys: no key in public key file")
	}
	return key, nil
}

func decodeKey(s string) (ed25519.PublicKey, error) {
	var raw []byte
	var err error
	if len(s) == 2*ed25519.PublicKeySize {
		raw, err = hex.DecodeString(s)
	} else {
		raw, err = base64.StdEncoding.Strict().DecodeString(s)
	}
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not a 32-byte ed25519 public key in base64 or hex")
	}
	return ed25519.PublicKey(raw), nil
}

// WritePublic writes the public key file for pub at path (mode 0644),
// refusing to overwrite ([ErrExists]).
func WritePublic(path string, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("keys: public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	return writeNew(path, MarshalPublic(pub), 0o644)
}

// ReadPublic reads a public key file written by [WritePublic].
func ReadPublic(path string) (ed25519.PublicKey, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublic(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("keys: failed to read %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("keys: %s is larger than %d bytes", path, maxKeyFile)
	}
	return b, nil
}

// writeNew creates path exclusively, writes b, syncs the file and its
// directory.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return fmt.Errorf("keys: %w", err)
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return fmt.Errorf("keys: failed to write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
