package keys

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// LoadOrCreate loads the ed25519 key at keyPath, decrypting it with the
// age identity file at agePath. It is for simulations and demos, whose
// keys protect nothing real: the commands that run real parties use
// [LoadOrCreateWith] with a passphrase or an identity kept elsewhere. On
// first use it creates what is missing: an age X25519 identity (0600) and
// a new key encrypted to it, plus the public key next to the key as
// keyPath's name with ".pub" for ".age" (for auditors). In production keep the identity file apart from the key
// (another disk, a secrets manager): together they are the key.
func LoadOrCreate(keyPath, agePath string) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(agePath); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(keyPath); err == nil {
			return nil, fmt.Errorf("keys: %s exists but its identity file %s does not", keyPath, agePath)
		}
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		if err := writeNew(agePath, []byte(id.String()+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	ids, err := ReadIdentityFile(agePath)
	if err != nil {
		return nil, err
	}
	return LoadOrCreateWith(keyPath, ids[0], ids[0].Recipient())
}

// PublicPath is where LoadOrCreate writes the public key of keyPath:
// "signing.key.age" → "signing.pub".
func PublicPath(keyPath string) string {
	keyPath = strings.TrimSuffix(keyPath, ".age")
	keyPath = strings.TrimSuffix(keyPath, ".key")
	return keyPath + ".pub"
}

// ErrIdentityBesideKey is returned by [CheckIdentityApart] for an age
// identity file stored in the same directory as the key it protects.
var ErrIdentityBesideKey = errors.New("keys: the age identity is stored beside the key it protects (in its directory or below)")

// CheckIdentityApart refuses an identity file in the directory of keyPath
// or below it: whoever can read (or copy) that directory could then read
// the key, so encryption would protect nothing beyond the file mode.
// Symlinks are resolved, the identity file's own included, so a link
// elsewhere to a file beside the key is refused too.
func CheckIdentityApart(keyPath, identityPath string) error {
	kd, err := resolvedAbs(filepath.Dir(keyPath))
	if err != nil {
		return err
	}
	idFile, err := resolvedAbs(identityPath)
	if err != nil {
		return err
	}
	id := filepath.Dir(idFile)
	if id == kd || strings.HasPrefix(id, kd+string(filepath.Separator)) {
		return fmt.Errorf("%w (%s and %s): keep the identity elsewhere (another disk, a secrets manager mounted at run time) or use a passphrase", ErrIdentityBesideKey, identityPath, keyPath)
	}
	return nil
}

// resolvedAbs is the absolute path of p with symlinks resolved (p itself
// as given when it does not exist).
func resolvedAbs(p string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(a); err == nil {
		return r, nil
	}
	return a, nil
}

// LoadOrCreateWith loads the ed25519 key at keyPath, decrypting it with
// identity; if there is no key yet it creates one encrypted to recipient,
// with its public key beside it (see [PublicPath]).
func LoadOrCreateWith(keyPath string, identity age.Identity, recipient age.Recipient) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		priv, err := Generate(nil)
		if err != nil {
			return nil, err
		}
		if err := Save(keyPath, priv, recipient); err != nil {
			return nil, err
		}
		if err := WritePublic(PublicPath(keyPath), priv.Public().(ed25519.PublicKey)); err != nil {
			return nil, err
		}
		return priv, nil
	} else if err != nil {
		return nil, err
	}
	return Load(keyPath, identity)
}
